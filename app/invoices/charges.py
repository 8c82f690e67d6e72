"""What an invoice charges to its funds, and the fund transactions it posted.

The settings, the active fiscal periods, the funds' namesakes in those periods and the exchange
rates are looked up first; then :func:`app.ledger.invoicing.charge` works out every posting at
once, exact. Approval releases the PO lines' encumbrance and expends these charges; sending an
invoice back to review reverses what it posted.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import case, func, select

from ..errors import DomainError, RuleViolation
from ..extensions import db
from ..funds import services as funds
from ..funds.models import FiscalPeriod, Fund, FundTransaction
from ..ledger import TransactionKind
from ..ledger.invoicing import (AccrualError, ChargedLine, FundShare, NoPeriodFund, NoRate, Period, charge,
                                gross_amounts)
from ..ledger.money import Rate, quantize_rate
from ..orders import services as orders
from ..text import T
from ..vendors import services as vendors
from . import settings
from .models import Invoice, InvoiceLine, InvoicePosting

LINE_SOURCE, POL_SOURCE = "invoice_line", "po_line"


@dataclass
class Charge:
    """One posting an approved invoice makes: a line's part charged to one fund."""
    line: InvoiceLine
    fund: Fund                 # the fund charged (with accrual: the same code in that period)
    amount: Decimal            # invoice currency
    fund_amount: Decimal       # fund currency
    rate_text: str             # "1 USD = 2.5 KZT" when converted, else ""


def has_governmental_invoice(invoice: Invoice) -> bool:
    """Whether the invoice's VAT was raised as a separate invoice to the governmental vendor."""
    if invoice.id is None:
        return False
    return db.session.scalar(select(Invoice.id).where(Invoice.governmental_for_id == invoice.id).limit(1)) is not None


def _charged_lines(invoice: Invoice) -> list[ChargedLine]:
    line_vat = invoice.vat_level == "line" and not invoice.vat_inclusive
    return [ChargedLine(line.position, line.total, line.line_type == "regular",
                        line.vat_amount if line_vat and line.vat_amount else Decimal(0),
                        (line.subscription_from, line.subscription_to)
                        if line.subscription_from and line.subscription_to else None)
            for line in invoice.lines]


def _spread(invoice: Invoice) -> list[Decimal]:
    """The amounts spread pro rata over the regular lines: the charges, and invoice VAT expended
    from the lines' funds (not inclusive, not on its own line, not raised to a governmental vendor)."""
    spread = [c.amount for c in invoice.charges]
    if (invoice.vat_level == "invoice" and invoice.vat_amount and not invoice.vat_inclusive
            and not invoice.vat_separate_line and invoice.governmental_for_id is None
            and not has_governmental_invoice(invoice)):
        spread.append(invoice.vat_amount)
    return spread


def line_gross(invoice: Invoice) -> dict[int, Decimal]:
    """Each line's amount to charge, in invoice currency: its total, plus exclusive VAT, plus
    its pro-rata share of the charges and of invoice VAT expended from the lines' funds."""
    return gross_amounts(_charged_lines(invoice), _spread(invoice), invoice.currency)


def _namesakes(funds_: dict[int, Fund], periods: list[FiscalPeriod]) -> dict[int, dict[int, tuple[Fund, str]]]:
    """For accrual: fund id -> {period id: the fund with the same code in that period, its currency}."""
    codes = sorted({fund.code for fund in funds_.values()})
    found = {(f.code, f.fiscal_period_id): f for f in db.session.scalars(
        select(Fund).where(Fund.code.in_(codes), Fund.fiscal_period_id.in_([p.id for p in periods])))} \
        if codes and periods else {}
    result = {}
    for fund_id, fund in funds_.items():
        same = {p.id: fund if p.id == fund.fiscal_period_id else found.get((fund.code, p.id)) for p in periods}
        result[fund_id] = {key: (f, f.currency) for key, f in same.items() if f is not None}
    return result


def charges_of(invoice: Invoice) -> list[Charge]:
    """Every fund posting approval would make, exact: per line, the gross amount split over its
    funds (in proportion to their shares), spread over fiscal periods with accrual, converted to
    each fund's currency once per currency and split again, so no cent is made or lost."""
    accrual = settings.get("accrual_accounting")
    # closed periods too: a late invoice's share of a closed year expends there (by an administrator)
    periods = db.session.scalars(select(FiscalPeriod).where(FiscalPeriod.status.in_(("active", "closed")))).all() \
        if accrual \
        else []
    lines = _charged_lines(invoice)
    accrued = {line.key for line in lines if accrual and line.subscription}
    namesakes = _namesakes({d.fund_id: d.fund for line in invoice.lines if line.position in accrued
                            for d in line.distribution}, periods)
    shares = [FundShare(line.position, d.fund, d.fund.currency, d.amount,
                        namesakes[d.fund_id] if line.position in accrued else {})
              for line in invoice.lines for d in line.distribution]
    rates: dict[str, Rate] = {}
    refused: dict[str, DomainError] = {}
    for currency in {s.currency for s in shares} | {c for s in shares for _, c in s.periods.values()}:
        try:
            rates[currency] = vendors.exchange(invoice.currency, currency, invoice.invoice_date,
                                               invoice.explicit_ratio)
        except DomainError as exc:   # no rate that day: refused when a line needs it
            refused[currency] = exc
    try:
        parts = charge(lines, shares, [Period(p.id, p.start_date, p.end_date) for p in periods] if accrual else None,
                       rates, currency=invoice.currency, spread=_spread(invoice))
    except AccrualError as exc:
        raise RuleViolation(exc.args[0] if exc.args else str(exc), "lines") from None   # a Text stays one
    except NoPeriodFund as exc:
        period = next(p for p in periods if p.id == exc.period.key)
        raise RuleViolation(T("Accrual needs fund %(fund)s in fiscal period %(period)s, and there is none. Create it "
                              "(same code) or change the subscription dates.", fund=exc.fund.code, period=period.code),
                            "lines") from None
    except NoRate as exc:
        raise refused[exc.currency] from None
    by_position = {line.position: line for line in invoice.lines}
    return [Charge(by_position[p.line], p.fund, p.amount, p.fund_amount, _rate_text(invoice, p.currency, rates))
            for p in parts]


def _rate_text(invoice: Invoice, currency: str, rates: dict[str, Rate]) -> str:
    """The rate a fund in ``currency`` is charged at, shown as "1 USD = 2.5 KZT"."""
    if currency == invoice.currency:
        return ""
    return f"1 {invoice.currency} = {format(quantize_rate(rates[currency].ratio).normalize(), 'f')} {currency}"


def approval_postings(invoice: Invoice) -> list[funds.Posting]:
    """Releases of the lines' PO line encumbrance first (so it counts back in), then expenditures."""
    charges = charges_of(invoice)
    releases: list[funds.Posting] = []
    expended_on: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for c in charges:
        if c.line.po_line_id:
            expended_on[(c.line.po_line_id, c.fund.id)] += c.fund_amount
    fully_invoiced: dict[int, bool] = {}   # PO line id -> any of its lines fully invoices it
    for line in invoice.lines:
        if line.po_line_id is not None:
            fully_invoiced[line.po_line_id] = fully_invoiced.get(line.po_line_id, False) or line.fully_invoiced
    outstanding_by_pol = _outstanding_encumbrances(fully_invoiced)
    for pol_id, fully in fully_invoiced.items():   # in the order of the lines
        for fund_id, outstanding in sorted(outstanding_by_pol.get(pol_id, {}).items()):
            if outstanding <= 0:
                continue
            release = outstanding if fully else min(outstanding, max(expended_on.get((pol_id, fund_id), 0), 0))
            if release:
                releases.append(funds.Posting(db.session.get(Fund, fund_id), TransactionKind.DISENCUMBRANCE, release,
                                              source_type=POL_SOURCE, source_id=pol_id))
    expenditures = [funds.Posting(c.fund, TransactionKind.EXPENDITURE, c.fund_amount, source_type=LINE_SOURCE,
                                  source_id=c.line.id) for c in charges if c.fund_amount]
    return releases + expenditures


def _outstanding_encumbrances(pol_ids) -> dict[int, dict[int, Decimal]]:
    """:func:`app.orders.services.outstanding_encumbrance` of many PO lines in one query:
    PO line id -> {fund id: what it still holds encumbered}."""
    ids = sorted(set(pol_ids))
    result: dict[int, dict[int, Decimal]] = defaultdict(dict)
    if not ids:
        return result
    t = FundTransaction
    amount = func.sum(case((t.kind == "encumbrance", t.amount), else_=-t.amount))
    rows = db.session.execute(
        select(t.source_id, t.fund_id, amount).where(t.source_type == orders.SOURCE, t.source_id.in_(ids),
                                                     t.kind.in_(("encumbrance", "disencumbrance")))
        .group_by(t.source_id, t.fund_id)).all()
    for pol_id, fund_id, total in rows:
        if total:
            result[pol_id][fund_id] = Decimal(total)
    return result


def check_expenditure(invoice: Invoice) -> None:
    """Refuse an invoice that would take a fund past what it permits, naming the fund and the
    shortfall (the invoice's own PO line encumbrance counted back in). A late invoice expending on
    a closed period may be saved: approving it is what needs an administrator and a reason."""
    funds.check_postings(approval_postings(invoice), late_expenditure=True)


def closed_periods(postings: list[funds.Posting]) -> list[FiscalPeriod]:
    """The closed fiscal periods the expenditures of ``postings`` would go to, by code."""
    found = {p.fund.fiscal_period.id: p.fund.fiscal_period for p in postings
             if p.kind is TransactionKind.EXPENDITURE and p.amount > 0 and p.fund.fiscal_period.status == "closed"}
    return sorted(found.values(), key=lambda fp: fp.code)


def late_periods(invoice: Invoice) -> list[FiscalPeriod]:
    """The closed fiscal periods approving ``invoice`` would expend on (an administrator approves
    it, giving a reason)."""
    return closed_periods(approval_postings(invoice))


def reversals(invoice: Invoice) -> list[funds.Posting]:
    """New entries undoing what the invoice posted: expenditure back, PO line encumbrance restored."""
    result = []
    for row in postings_of(invoice):
        if row.kind == "expenditure":
            result.append(funds.Posting(row.fund, TransactionKind.EXPENDITURE, -row.amount,
                                        source_type=row.source_type, source_id=row.source_id))
        elif row.kind == "disencumbrance":
            result.append(funds.Posting(row.fund, TransactionKind.ENCUMBRANCE, row.amount,
                                        source_type=row.source_type, source_id=row.source_id))
        elif row.kind == "encumbrance":
            result.append(funds.Posting(row.fund, TransactionKind.DISENCUMBRANCE, row.amount,
                                        source_type=row.source_type, source_id=row.source_id))
    # Restored encumbrances go last: an over-encumbrance check must not block giving money back.
    result.sort(key=lambda p: p.kind is TransactionKind.ENCUMBRANCE)
    return [p for p in result if p.amount]


def remember(invoice: Invoice, rows: list[FundTransaction]) -> None:
    """Link the fund transactions just posted to the invoice."""
    for row in rows:
        db.session.add(InvoicePosting(invoice_id=invoice.id, transaction=row))


def postings_of(invoice: Invoice) -> list[FundTransaction]:
    """Every fund transaction the invoice posted (and the reversals), oldest first."""
    return db.session.scalars(select(FundTransaction).join(InvoicePosting, InvoicePosting.transaction_id ==
                                                           FundTransaction.id)
                              .where(InvoicePosting.invoice_id == invoice.id).order_by(FundTransaction.id)).all()
