"""Closing a fiscal period when documents are still open on it: warn first, close once confirmed.

A period whose funds still hold open PO lines (encumbering, not closed or cancelled) or invoices
that are not closed can be closed, but not by accident: :func:`close_period` refuses with
:class:`CloseNeedsConfirmation` (saying how many, and where to roll them over) until the caller
confirms. The close itself is :func:`app.funds.services.close_fiscal_period`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select

from ..auth.models import Role
from ..auth.permissions import require_institution_role
from ..errors import RuleViolation
from ..text import T, Tn
from ..extensions import db
from ..formatting import money
from ..invoices.models import Invoice, InvoiceLine, InvoiceLineFund
from ..orders.models import ENCUMBERING, POLine, POLineFund
from . import services as funds
from .models import FiscalPeriod, Fund, Ledger


@dataclass(frozen=True)
class OpenDocuments:
    """What is still open on a period's funds."""
    po_lines: int = 0
    encumbered: dict[str, Decimal] = field(default_factory=dict)    # per currency, the funds' encumbrance
    invoices: int = 0                                               # not closed, charging its funds

    def __bool__(self) -> bool:
        return bool(self.po_lines or self.invoices)

    def describe(self) -> str:
        """ "2 open PO lines (encumbering 1,200.00 EUR) and 1 invoice not yet closed" """
        lines = invoices = None
        if self.po_lines:
            amounts = ", ".join(f"{money(v, c)} {c}" for c, v in sorted(self.encumbered.items()) if v)
            # T, not Tn: a plural sentence with arguments besides its number (Chinese has one form anyway)
            n = self.po_lines
            lines = ((T("%(num)s open PO line (encumbering %(amounts)s)", num=n, amounts=amounts) if n == 1 else
                      T("%(num)s open PO lines (encumbering %(amounts)s)", num=n, amounts=amounts)) if amounts else
                     Tn("%(num)d open PO line", "%(num)d open PO lines", self.po_lines))
        if self.invoices:
            invoices = Tn("%(num)d invoice not yet closed", "%(num)d invoices not yet closed", self.invoices)
        if lines is not None and invoices is not None:
            return T("%(lines)s and %(invoices)s", lines=lines, invoices=invoices)
        return lines if lines is not None else invoices if invoices is not None else ""


def open_documents(period: FiscalPeriod) -> OpenDocuments:
    """The open PO lines and the invoices not closed that charge funds of ``period``."""
    in_period = select(Fund.id).where(Fund.fiscal_period_id == period.id)
    po_lines = db.session.scalar(
        select(func.count(func.distinct(POLineFund.po_line_id))).join(POLine, POLine.id == POLineFund.po_line_id)
        .where(POLineFund.fund_id.in_(in_period), POLine.status.in_(sorted(ENCUMBERING))))
    encumbered: dict[str, Decimal] = defaultdict(Decimal)
    for currency, amount in db.session.execute(
            select(Ledger.currency, func.sum(Fund.encumbered)).join(Ledger, Ledger.id == Fund.ledger_id)
            .where(Fund.fiscal_period_id == period.id).group_by(Ledger.currency)):
        encumbered[currency] += Decimal(amount or 0)
    invoices = db.session.scalar(
        select(func.count(func.distinct(InvoiceLine.invoice_id)))
        .join(InvoiceLineFund, InvoiceLineFund.line_id == InvoiceLine.id)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLineFund.fund_id.in_(in_period), Invoice.status != "closed"))
    return OpenDocuments(po_lines or 0, dict(encumbered), invoices or 0)


class CloseNeedsConfirmation(RuleViolation):
    """Closing a period with open documents: said first, done once confirmed."""
    status, code = 409, "needs_confirmation"

    def __init__(self, period: FiscalPeriod, found: OpenDocuments):
        super().__init__(T("Fiscal period %(code)s still has %(documents)s on its funds. Once it is closed they take "
                           "no new encumbrances there, and an invoice expends on it only when an administrator "
                           "approves it with a reason. Roll the open PO lines over to the next period first, or "
                           "close it anyway.", code=period.code, documents=found.describe()), "confirm")
        self.period, self.found = period, found


def close_period(actor, period: FiscalPeriod, note: str = "", confirmed: bool = False) -> FiscalPeriod:
    """Close ``period``; with documents still open on it only when ``confirmed`` (else
    :class:`CloseNeedsConfirmation`, nothing changed). The caller commits."""
    require_institution_role(actor, {Role.ADMIN}, T("close fiscal periods"))
    if not confirmed and period.status != "closed":
        found = open_documents(period)
        if found:
            raise CloseNeedsConfirmation(period, found)
    return funds.close_fiscal_period(actor, period, note)
