"""Payment confirmation test data: our own confirmation files (any namespace style, any element
order), Waiting-for-Payment invoices, and a way to run the job and read its run back."""
from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from sqlalchemy import select

from app.extensions import db
from app.funds.models import FundTransaction
from app.integrations.models import JobEvent, JobRun
from app.invoices import services as ivs
from app.invoices.charges import postings_of
from app.invoices.models import Invoice
from jobs import import_payments
from tests.invoices.helpers import invoice as make_invoice

_DAYS = itertools.count()
NS = "http://com/exlibris/repository/acq/xmlbeans"


def paid(inv, voucher="V-1", on="20260410", amount=None, currency=None, uid=True, number=False, vendor=False,
         **extra) -> dict:
    """A PAID record for ``inv`` (matched by its unique identifier unless ``uid`` is False)."""
    rec = {"payment_status": "PAID", "payment_voucher_number": voucher, "payment_voucher_date": on,
           "voucher_amount": (currency or inv.currency, amount if amount is not None else f"{inv.total_amount}")}
    if uid:
        rec["unique_identifier"] = inv.erp_identifier
    if number:
        rec["invoice_number"] = inv.number
    if vendor:
        rec["vendor_code"] = inv.vendor.code
    rec.update(extra)
    return {k: v for k, v in rec.items() if v is not None}


def rejected(inv, note="Bank details wrong", **extra) -> dict:
    rec = {"unique_identifier": inv.erp_identifier, "payment_status": "REJECTED", "payment_note": note}
    rec.update(extra)
    return {k: v for k, v in rec.items() if v is not None}


def confirmation(records: list[dict], style: str = "default", seed: int | None = None) -> bytes:
    """A ``payment_confirmation_data`` file. ``style``: default | prefix | none (no namespace).
    ``seed``: shuffle each record's elements. A value of "" writes an empty element."""
    p = {"prefix": "fin:"}.get(style, "")
    decl = {"default": f' xmlns="{NS}"', "prefix": f' xmlns:fin="{NS}"', "none": ""}[style]
    rnd = random.Random(seed)
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f"<{p}payment_confirmation_data{decl}>", f" <{p}invoice_list>"]
    for rec in records:
        items = list(rec.items())
        if seed is not None:
            rnd.shuffle(items)
        out.append(f"  <{p}invoice>")
        for key, value in items:
            if key == "voucher_amount":
                cur, total = value
                out.append(f"   <{p}voucher_amount><{p}sum>{total}</{p}sum><{p}currency>{cur}</{p}currency>"
                           f"</{p}voucher_amount>")
            elif value == "":
                out.append(f"   <{p}{key}/>")
            else:
                out.append(f"   <{p}{key}>{escape(str(value))}</{p}{key}>")
        out.append(f"  </{p}invoice>")
    out += [f" </{p}invoice_list>", f"</{p}payment_confirmation_data>", ""]
    return "\n".join(out).encode()


def waiting(world, vendor, numbers, amount="10.00", library="a") -> list[Invoice]:
    """Invoices Waiting for Payment (approved, then marked exported), one per number."""
    admin = world.user("admin")
    out = []
    for number in numbers:
        # Distinct dates: the review rule "possible duplicate" stops invoices of equal total and date.
        on = date(2026, 1, 1) + timedelta(days=next(_DAYS) % 300)
        inv = make_invoice(world, world.user("invoicer"), vendor, number=number, amounts=(amount,), library=library,
                           invoice_date=on)
        ivs.process_invoice(world.user("invoicer"), inv)
        if inv.status != "ready_to_be_paid":
            ivs.approve_invoice(world.user("invmanager"), inv)
        ivs.mark_exported(admin, inv)
        out.append(inv)
    db.session.commit()
    assert all(i.status == "waiting_for_payment" for i in out)
    return out


@dataclass
class Result:
    run: JobRun
    events: list[JobEvent]

    def messages(self, level: str | None = None) -> list[str]:
        return [e.message for e in self.events if level is None or e.level == level]

    def text(self) -> str:
        return "\n".join(f"{e.level} [{e.file_name}|{e.record}] {e.message}" for e in self.events)


def run_import(app, **options) -> Result:
    db.session.commit()
    run_id = import_payments.run(app, "ERP", options={"settle_seconds": 0, **options})
    db.session.expire_all()
    run = db.session.get(JobRun, run_id)
    events = list(db.session.scalars(select(JobEvent).filter_by(run_id=run_id).order_by(JobEvent.id)))
    return Result(run, events)


def drop(folder: Path, name: str, data: bytes) -> None:
    (folder / name).write_bytes(data)


def state(invoices) -> list[tuple]:
    """A canonical picture of invoices and their money: status, voucher, payment, alert, postings."""
    db.session.expire_all()
    out = []
    for inv in invoices:
        inv = db.session.get(Invoice, inv.id)
        out.append((inv.number, inv.status, inv.voucher_number, inv.payment_date, inv.payment_amount, inv.alert,
                    sorted((r.kind, r.amount) for r in postings_of(inv))))
    return out


def expenditure_total() -> Decimal:
    rows = db.session.scalars(select(FundTransaction)).all()
    return sum((r.amount for r in rows if r.kind == "expenditure"), Decimal(0))
