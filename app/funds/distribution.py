"""Fund distribution: which funds pay for an order line or an invoice line, by percent or amount.

One place for the rules both orders and invoices follow: every fund allocated, usable by the
owner and visible to the actor, no fund twice, percents making 100 (split exactly with the
ledger's ``split``) or amounts covering the total to the cent.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from .scope import visible_funds_clause
from ..errors import InvalidInput, NotFound
from ..text import T
from ..extensions import db
from ..ledger.money import format_money, parse_amount, quantize, quantize_percent, split
from . import services as funds
from .models import Fund

METHODS = {"percent": T("Percent"), "amount": T("Amount")}


@dataclass
class Share:
    """One fund of a distribution: ``value`` is a percent or an amount in the line's currency."""
    fund: Fund
    value: object


def parse_percent(value, name: str, label: str = T("percent")) -> Decimal:
    """A percent from 0 to 100 with at most two decimals (text or Decimal; never a float)."""
    if isinstance(value, float):
        raise TypeError("percent must not be a float")
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value if value is not None else "").strip())
    except InvalidOperation:
        raise InvalidInput(T("The %(label)s must be a number such as 12.5.", label=label), name) from None
    if not d.is_finite() or d.as_tuple().exponent < -2:
        raise InvalidInput(T("The %(label)s must be a number with at most two decimals.", label=label), name)
    if not (0 <= d <= 100):
        raise InvalidInput(T("The %(label)s must be between 0 and 100.", label=label), name)
    return quantize_percent(d)


def parse_money(value, currency: str, name: str, label: str) -> Decimal:
    """An amount in ``currency`` (text, or a Decimal a file gave or a service computed) with no more
    decimals than the currency has and within the money columns' range (``parse_amount`` checks both)."""
    try:
        return parse_amount(value, currency, field=name)
    except ValueError as exc:
        raise InvalidInput(T("The %(label)s: %(problem)s.", label=label, problem=getattr(exc, "text", None) or str(exc)),
                           name) from None


def fund_usable(fund: Fund, owner_library_id: int | None) -> bool:
    """A fund can pay for something owned by ``owner_library_id`` when that library may use it
    (an institution-owned line needs an institution fund)."""
    if owner_library_id is None:
        return fund.owner_library_id is None
    libs = funds.fund_library_ids(fund)
    return libs is None or owner_library_id in libs


def visible_fund_ids(actor, funds) -> set[int]:
    """The ids of those of ``funds`` the actor may see, in one query: pass it to
    :func:`distribute` when checking many distributions at once (an invoice's lines)."""
    ids = {fund.id for fund in funds if fund is not None and fund.id is not None}
    if not ids:
        return set()
    return set(db.session.scalars(select(Fund.id).where(Fund.id.in_(ids), visible_funds_clause(actor))))


def distribute(actor, rows: list[Share], method: str, total: Decimal, currency: str,
               owner_library_id: int | None, *, field: str = "distribution",
               what: str = T("the net price"),
               visible: set[int] | None = None) -> list[tuple[Fund, Decimal | None, Decimal]]:
    """Check a distribution and return (fund, percent or None, amount) rows covering ``total``.

    ``visible``: the fund ids the actor may see (:func:`visible_fund_ids`), else each fund is
    looked up."""
    seen = set()
    for share in rows:
        fund = share.fund
        if fund is None:
            raise InvalidInput(T("Choose a fund on every distribution row."), field)
        if fund.id in seen:
            raise InvalidInput(T("Fund %(code)s appears twice in the distribution.", code=fund.code), field)
        seen.add(fund.id)
        if fund.kind != "allocated":
            raise InvalidInput(T("%(fund)s is a summary fund; choose allocated funds.", fund=fund.label), field)
        if not fund_usable(fund, owner_library_id):
            raise InvalidInput(T("Fund %(code)s is not available to the line's owner.", code=fund.code), field)
        if visible is None:
            funds.get_fund(actor, fund.id)  # visible to the actor, else NotFound
        elif fund.id not in visible:
            raise NotFound(T("No such fund."))
    if not rows:
        return []
    if method == "percent":
        percents = [parse_percent(s.value, field, T("percent for fund %(code)s", code=s.fund.code)) for s in rows]
        if sum(percents) != 100:
            raise InvalidInput(T("The fund percents add up to %(sum)s %%; they must make 100 %%.",
                                 sum=format(sum(percents), 'f')),
                               field)
        amounts = split(total, percents, currency) if total else [quantize(Decimal(0), currency)] * len(rows)
        return [(s.fund, p, a) for s, p, a in zip(rows, percents, amounts)]
    if method != "amount":
        raise InvalidInput(T("Distribute by 'percent' or by 'amount'."), field)
    amounts = [parse_money(s.value, currency, field, T("amount for fund %(code)s", code=s.fund.code)) for s in rows]
    if any(a and (a < 0) != (total < 0) for a in amounts):
        raise InvalidInput(T("Fund amounts take the sign of the total (negative only for a refund)."), field)
    if sum(amounts) != total:
        raise InvalidInput(T("The fund amounts add up to %(sum)s %(currency)s; %(what)s is %(total)s %(currency)s. They "
                             "must cover it exactly.", sum=format_money(sum(amounts), currency), currency=currency,
                             what=what, total=format_money(total, currency)), field)
    return [(s.fund, None, a) for s, a in zip(rows, amounts)]
