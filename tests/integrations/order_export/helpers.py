"""Order-export test helpers: sent POs, closed and cancelled lines, reading the exported files."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from lxml import etree

from app.extensions import db
from app.integrations.formats import xml
from app.integrations.formats.orders import PO_NAMESPACE, POL_NAMESPACE, POL_XSD, PO_XSD
from app.integrations.models import JobEvent, JobRun
from app.orders import services as orders
from tests.orders.helpers import line

PO = {"p": PO_NAMESPACE}
POL = {"p": POL_NAMESPACE}


def sent(world, vendor, **kw):
    """A PO line approved and sent (in its own PO)."""
    buyer = world.user("buyer")
    pol = line(world, buyer, vendor, **kw)
    orders.approve_po_line(buyer, pol)
    orders.send_po_line(buyer, pol)
    db.session.commit()
    return pol


def closed(world, vendor, note="all received", **kw):
    buyer = world.user("buyer")
    pol = sent(world, vendor, **kw)
    orders.receive_po_line(buyer, pol)
    orders.close_po_line(buyer, pol, note)
    db.session.commit()
    return pol


def cancelled(world, vendor, reason="vendor out of stock", **kw):
    buyer = world.user("buyer")
    pol = sent(world, vendor, **kw)
    orders.cancel_po_line(buyer, pol, reason)
    db.session.commit()
    return pol


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def read(path: Path, xsd: str):
    """The file parsed safely; asserts it is valid against ``xsd``."""
    root = xml.parse(path.read_bytes())
    assert xml.schema_errors(root, xsd) == []
    return root


def read_po(path: Path):
    return read(path, PO_XSD)


def read_pol(path: Path):
    return read(path, POL_XSD)


def text(node, path: str, ns=PO) -> str:
    found = node.find(path, ns)
    assert found is not None, f"{path} missing in {etree.tostring(node)[:200]!r}"
    return found.text or ""


def dec(node, path: str, ns=PO) -> Decimal:
    return Decimal(text(node, path, ns))


def run_job(app, module, profile_code: str = "ERP") -> JobRun:
    """Run a job (ending the test's transaction first: SQLite has one writer) and return its run."""
    db.session.commit()
    return run_row(module.run(app, profile_code))


def run_row(run_id) -> JobRun:
    db.session.expire_all()
    return db.session.get(JobRun, run_id)


def messages(run_id, level=None) -> list[str]:
    q = db.select(JobEvent).filter_by(run_id=run_id).order_by(JobEvent.id)
    if level:
        q = q.filter_by(level=level)
    return [e.message for e in db.session.scalars(q)]
