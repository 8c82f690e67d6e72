"""Letters to vendors in tests: a sent PO and VendorMessage rows made directly (the code that makes
them in the app is written elsewhere), with their stored files."""
from __future__ import annotations

from app.extensions import db
from app.letters.data import demo_order
from app.orders import services as os_
from app.outgoing import files, snapshot
from app.outgoing.models import VendorMessage
from tests.orders.helpers import line


def sent_po(world, vendor, *, library="a", actor=None, title="A lettered book"):
    """A PO of ``vendor`` with one sent line (owner ``library``: "a", "b" or None)."""
    actor = actor or world.user("admin")
    pol = line(world, actor, vendor, library=library, title=title)
    os_.approve_po_line(actor, pol)
    os_.send_po_line(actor, pol)
    db.session.commit()
    return pol.po


def message(po, *, kind="po", channel="email", status="sent", pdf: bytes | None = None, edi: bytes | None = None,
            last_error="", to_address="orders@vendor.example", reason="PO sent", created_by=None) -> VendorMessage:
    """A message about ``po`` naming its lines; ``pdf`` / ``edi`` are stored as its files."""
    m = VendorMessage(kind=kind, channel=channel, status=status, vendor_id=po.vendor_id, po_id=po.id,
                      po_number=po.number, owner_library_id=po.owner_library_id, reason=reason,
                      to_address=to_address, payload=snapshot.dump_order(demo_order()), last_error=last_error,
                      subject=f"Order {po.number}", created_by_id=created_by.id if created_by else None,
                      pdf_file=files.store(pdf) if pdf is not None else None,
                      edi_file=files.store(edi) if edi is not None else None,
                      edi_name="ORDERS-test.edi" if edi is not None else None)
    m.lines = list(po.lines)
    db.session.add(m)
    db.session.commit()
    return m
