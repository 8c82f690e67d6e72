"""An invoice in a line or two, for the tests and the contention benchmark: ``invoice(world, actor,
vendor, ...)`` creates (and optionally processes) one dated 2026-03-01 on the standard world."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.extensions import db
from app.funds.distribution import Share
from app.invoices import services as invoices
from app.invoices.models import Invoice


def lines(*amounts, fund=None, **kw):
    return [invoices.LineFields(unit_price=a, distribution=[Share(fund, "100")] if fund is not None else [], **kw)
            for a in amounts]


def invoice(world, actor, vendor, *, number="INV-1", amounts=("100.00",), total=None, fund=None, library="a",
            confirm=None, process=False, **kw) -> Invoice:
    """An invoice dated 2026-03-01 whose total matches its lines unless ``total`` says otherwise."""
    lib = {"a": world.lib_a, "b": world.lib_b, None: None}[library]
    fund = fund or {"a": world.fund_a, "b": world.fund_b, None: world.shared}[library]
    line_fields = kw.pop("lines", None) or lines(*amounts, fund=fund)
    if total is None:
        total = str(sum(Decimal(a) for a in amounts) + sum(Decimal(v) for v in kw.get("charges", {}).values()))
    fields = invoices.InvoiceFields(number=number, vendor=vendor, invoice_date=kw.pop("invoice_date", date(2026, 3, 1)),
                               total_amount=total, owner_library=lib, lines=line_fields, **kw)
    inv = invoices.create_invoice(actor, fields, confirm=confirm)
    if process:
        invoices.process_invoice(actor, inv)
    db.session.commit()
    return inv
