"""Making letters to vendors: a PO's order, a cancellation, a payment notice, stored as a
:class:`~.models.VendorMessage` with a snapshot of its data (:mod:`.snapshot`) in the transaction
of the change that causes it. Rendering and delivery are :mod:`.delivery`'s, later, in the
background. Imports no orders or invoices *services* (they call this module).
"""
from __future__ import annotations

from ..extensions import db

KICK = "outgoing_kick"   # db.session.info flag: start delivery after this transaction commits


def mark_for_delivery() -> None:
    """Ask for a delivery run once the current transaction commits (see :mod:`.delivery`)."""
    db.session.info[KICK] = True
