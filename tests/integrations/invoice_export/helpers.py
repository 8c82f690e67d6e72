"""Building Ready-to-be-Paid invoices and running the export job in tests."""
from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.integrations.models import ExportBatch, JobEvent, JobRun
from app.invoices import services as invoices
from app.invoices.models import Invoice, InvoiceEvent
from jobs import export_invoices as job
from tests.invoices.helpers import invoice


_days = itertools.count()


def ready(world, vendor, count: int = 1, *, prefix: str = "E", library="a", amounts=("10.00", "2.55"), **kw):
    """``count`` invoices approved (Ready to be Paid unless they skip the ERP); returns their ids."""
    ids = []
    for n in range(count):
        # a date of its own, or the review rules hold it as a possible duplicate
        day = kw.get("invoice_date", date(2026, 1, 1)) + timedelta(days=next(_days) % 360)
        inv = invoice(world, world.user("invoicer"), vendor, number=f"{prefix}-{n + 1}", library=library,
                      amounts=amounts, **{**kw, "invoice_date": day})
        invoices.process_invoice(world.user("invoicer"), inv)
        if inv.status == "in_approval":
            invoices.approve_invoice(world.user("invmanager"), inv)
        db.session.commit()
        assert inv.status in ("ready_to_be_paid", "waiting_for_payment"), (inv.number, inv.status, inv.review_problems)
        ids.append(inv.id)
    return ids


def run(app, code: str = "ERP") -> JobRun:
    db.session.commit()
    run_id = job.run(app, code, actor_id=None)
    db.session.expire_all()
    return db.session.get(JobRun, run_id)


def errors(run_: JobRun) -> list[str]:
    return [e.message for e in db.session.scalars(select(JobEvent).filter_by(run_id=run_.id, level="error"))]


def warnings(run_: JobRun) -> list[str]:
    return [e.message for e in db.session.scalars(select(JobEvent).filter_by(run_id=run_.id, level="warning"))]


def statuses(ids) -> dict[int, str]:
    return {i: db.session.get(Invoice, i).status for i in ids}


def export_marks(invoice_id: int) -> int:
    """How many times the invoice was moved on by an export."""
    return db.session.scalar(select(func.count()).select_from(InvoiceEvent).where(
        InvoiceEvent.invoice_id == invoice_id, InvoiceEvent.action.in_(("exported", "exported_and_closed"))))


def batches(status: str | None = None) -> list[ExportBatch]:
    q = select(ExportBatch).order_by(ExportBatch.id)
    if status:
        q = q.where(ExportBatch.status == status)
    return list(db.session.scalars(q))


def final_files(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix == ".xml"}


def dec(text: str) -> Decimal:
    return Decimal(text)
