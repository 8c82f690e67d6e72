"""The rules an invoice meets on its way: the review rules (a problem keeps it In Review), the
approval rules (first match wins: automatic approval or an invoice manager), the charge types,
and their administration (institution administrators only; approval rules keep positions 1..n
without gaps, so "first match wins" reads top to bottom).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from ..auth.permissions import is_institution_admin
from ..errors import Duplicate, Forbidden, InvalidInput, RuleViolation
from ..extensions import db
from ..funds.distribution import parse_money, parse_percent
from ..funds.models import Fund
from ..ledger import format_money
from ..org.models import Library
from ..text import T
from ..vendors import services as vendors
from ..vendors.models import Vendor
from .charges import has_governmental_invoice
from .models import BUILT_IN_CHARGES, CHANNELS, ApprovalRule, ChargeType, Invoice, ReviewRule

MAX_OWN_CHARGE_TYPES = 5
RESERVED_LINE_TYPES = frozenset({"regular", "vat"})


# -- review rules ------------------------------------------------------------------------------

def expected_total(invoice: Invoice) -> Decimal:
    """What the printed total must be: the lines, their exclusive VAT, exclusive invoice VAT (not
    when raised as a separate invoice to the governmental vendor) and the charges."""
    total = sum((ln.total for ln in invoice.lines), Decimal(0))
    if invoice.vat_level == "line" and not invoice.vat_inclusive:
        total += sum((ln.vat_amount for ln in invoice.lines), Decimal(0))
    if invoice.vat_level == "invoice" and not invoice.vat_inclusive and not invoice.vat_separate_line \
            and not has_governmental_invoice(invoice):
        total += invoice.vat_amount
    return total + sum((c.amount for c in invoice.charges), Decimal(0))


def review_problems(invoice: Invoice) -> list[str]:
    """The active review rules that the invoice fails, as sentences (:class:`~app.text.Text`: English
    when stored, translated when shown)."""
    rules = {r.kind: r for r in db.session.scalars(select(ReviewRule).where(ReviewRule.active))}
    problems = []
    currency = invoice.currency
    if "total_mismatch" in rules:
        lines_total = expected_total(invoice)
        if lines_total != invoice.total_amount:
            problems.append(T("The invoice total %(total)s %(currency)s differs from its lines and charges, "
                              "%(expected)s %(currency)s.", total=format_money(invoice.total_amount, currency),
                              currency=currency, expected=format_money(lines_total, currency)))
    for line in invoice.lines:
        if "line_without_funds" in rules and not line.distribution:
            problems.append(T("Line %(line)s has no fund.", line=line.position))
        pol = line.po_line
        if pol is not None and "pol_vendor_differs" in rules and pol.vendor_id != invoice.vendor_id:
            problems.append(T("Line %(line)s: %(pol)s is ordered from %(ordered_from)s, not from %(vendor)s.",
                              line=line.position, pol=pol.number, ordered_from=pol.vendor.code,
                              vendor=invoice.vendor.code))
        rule = rules.get("price_differs")
        if pol is not None and rule is not None and pol.net_price and pol.currency == currency:
            threshold = rule.threshold_percent or Decimal(0)
            difference = abs(line.total - pol.net_price) / pol.net_price * 100
            if difference > threshold:
                problems.append(T("Line %(line)s: %(total)s %(currency)s differs from the price of %(pol)s, "
                                  "%(price)s %(currency)s, by %(difference)s %% (more than %(threshold)s %%).",
                                  line=line.position, total=format_money(line.total, currency), currency=currency,
                                  pol=pol.number, price=format_money(pol.net_price, currency),
                                  difference=str(difference.quantize(Decimal('0.1'))),
                                  threshold=format(threshold, 'f')))
    if "no_exchange_rate" in rules and invoice.explicit_ratio is None:
        try:
            vendors.rate_on(currency, invoice.invoice_date)
        except vendors.MissingRate:
            problems.append(T("No exchange rate for %(currency)s on or before %(date)s.", currency=currency,
                                  date=invoice.invoice_date.isoformat()))
    if "possible_duplicate" in rules and db.session.scalar(duplicates_of(invoice).limit(1)) is not None:
        problems.append(POSSIBLE_DUPLICATE)
    return problems


# The duplicate may belong to a library the reader may not see, so what is stored (the invoice's
# problems, its history) names no invoice; services.review_problems_for() words it for each reader.
POSSIBLE_DUPLICATE = T("Possible duplicate: another invoice of the vendor has the same total and date.")
DUPLICATE_SENTENCE = re.compile(r"Possible duplicate(?: of invoice .+)?: (?:same vendor, total and date|another "
                                 r"invoice of the vendor has the same total and date)\.", re.S)


def duplicates_of(invoice: Invoice):
    """Other invoices of the vendor with the same total and date, in every library."""
    vendor_id = invoice.vendor_id if invoice.vendor_id is not None else getattr(invoice.vendor, "id", None)
    return select(Invoice.id, Invoice.number).where(
        Invoice.vendor_id == vendor_id, Invoice.id != invoice.id, Invoice.total_amount == invoice.total_amount,
        Invoice.invoice_date == invoice.invoice_date).order_by(Invoice.id)


def ensure_default_rules() -> None:
    """Ship the example review rules (all active; a price may differ from the order by 10 %)."""
    existing = set(db.session.scalars(select(ReviewRule.kind)))
    for kind in ReviewRule.KINDS:
        if kind not in existing:
            db.session.add(ReviewRule(kind=kind, active=True,
                                      threshold_percent=Decimal("10.00") if kind == "price_differs" else None))
    db.session.flush()


# -- approval rules ----------------------------------------------------------------------------

def matching_approval_rule(invoice: Invoice) -> ApprovalRule | None:
    """The first approval rule, in position order, whose conditions the invoice meets."""
    funds = {d.fund_id for ln in invoice.lines for d in ln.distribution}
    for rule in db.session.scalars(select(ApprovalRule).order_by(ApprovalRule.position)):
        if rule.min_total is not None and invoice.total_amount < rule.min_total:
            continue
        if rule.max_total is not None and invoice.total_amount > rule.max_total:
            continue
        if rule.vendor_id is not None and rule.vendor_id != invoice.vendor_id:
            continue
        if rule.fund_id is not None and rule.fund_id not in funds:
            continue
        if rule.owner_library_id is not None and rule.owner_library_id != invoice.owner_library_id:
            continue
        if rule.channel and rule.channel != invoice.channel:
            continue
        return rule
    return None


# -- administration ----------------------------------------------------------------------------

REVIEW_RULES_REFUSAL = T("Only an administrator of the whole institution may change the review rules.")
RULES_REFUSAL = T("Only an administrator of the whole institution may change the approval rules.")
CHARGE_TYPES_REFUSAL = T("Only an administrator of the whole institution may change the charge types.")


def _require_institution_admin(actor, refusal: str) -> None:
    if not is_institution_admin(actor):
        raise Forbidden(refusal)


def update_review_rule(actor, rule: ReviewRule, *, active: bool | None = None,
                       threshold_percent=None) -> ReviewRule:
    """Switch a review rule on or off, and (price rule only) set its threshold percent."""
    _require_institution_admin(actor, REVIEW_RULES_REFUSAL)
    if active is not None:
        rule.active = bool(active)
    if threshold_percent is not None:
        if rule.kind != "price_differs":
            raise InvalidInput(T("Only the price rule has a threshold."), "threshold_percent")
        rule.threshold_percent = parse_percent(threshold_percent, "threshold_percent", T("threshold percent"))
    db.session.flush()
    return rule


def review_rules() -> list[ReviewRule]:
    order = {kind: n for n, kind in enumerate(ReviewRule.KINDS)}
    return sorted(db.session.scalars(select(ReviewRule)), key=lambda r: order.get(r.kind, len(order)))


@dataclass
class ApprovalRuleFields:
    name: str = ""
    min_total: object = None          # compared with the invoice total as printed (its own currency)
    max_total: object = None
    vendor: Vendor | None = None
    fund: Fund | None = None
    owner_library: Library | None = None
    channel: str | None = None
    automatic: bool = False
    approver_not_creator: bool = False


def approval_rules() -> list[ApprovalRule]:
    return db.session.scalars(select(ApprovalRule).order_by(ApprovalRule.position)).all()


def _rule_amount(value, name: str, label: str) -> Decimal | None:
    if value in (None, ""):
        return None
    return parse_money(value, vendors.institution_currency(), name, label)


def _apply_rule_fields(rule: ApprovalRule, f: ApprovalRuleFields) -> None:
    name = (f.name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput(T("Give the rule a name (at most 100 characters)."), "name")
    min_total = _rule_amount(f.min_total, "min_total", T("minimum total"))
    max_total = _rule_amount(f.max_total, "max_total", T("maximum total"))
    if min_total is not None and max_total is not None and min_total > max_total:
        raise InvalidInput(T("The minimum total is above the maximum total: no invoice could match."), "max_total")
    if f.channel not in (None, "") and f.channel not in CHANNELS:
        raise InvalidInput(T("Choose a creation channel: %(channels)s.", channels=", ".join(CHANNELS.values())),
                           "channel")
    if f.fund is not None and f.fund.kind != "allocated":
        raise InvalidInput(T("%(fund)s is a summary fund; invoices are charged to allocated funds.", fund=f.fund.code),
                           "fund")
    if f.approver_not_creator and f.automatic:
        raise InvalidInput(T("An automatic approval has no approver: choose manual approval to require an approver "
                             "other than the creator."), "approver_not_creator")
    rule.name, rule.min_total, rule.max_total = name, min_total, max_total
    rule.vendor_id = f.vendor.id if f.vendor else None
    rule.fund_id = f.fund.id if f.fund else None
    rule.owner_library_id = f.owner_library.id if f.owner_library else None
    rule.channel = f.channel or None
    rule.automatic, rule.approver_not_creator = bool(f.automatic), bool(f.approver_not_creator)


def create_approval_rule(actor, f: ApprovalRuleFields) -> ApprovalRule:
    """A new rule at the end of the list (the last to be tried)."""
    _require_institution_admin(actor, RULES_REFUSAL)
    last = db.session.scalar(select(db.func.max(ApprovalRule.position))) or 0
    rule = ApprovalRule(position=last + 1)
    _apply_rule_fields(rule, f)
    db.session.add(rule)
    db.session.flush()
    return rule


def update_approval_rule(actor, rule: ApprovalRule, f: ApprovalRuleFields) -> ApprovalRule:
    _require_institution_admin(actor, RULES_REFUSAL)
    _apply_rule_fields(rule, f)
    db.session.flush()
    return rule


def _renumber(rules: list[ApprovalRule]) -> None:
    # Positions are unique: park them out of the way first, then write 1..n.
    for n, rule in enumerate(rules, 1):
        rule.position = -n
    db.session.flush()
    for n, rule in enumerate(rules, 1):
        rule.position = n
    db.session.flush()


def delete_approval_rule(actor, rule: ApprovalRule) -> None:
    _require_institution_admin(actor, RULES_REFUSAL)
    db.session.delete(rule)
    db.session.flush()
    _renumber(approval_rules())


def move_approval_rule(actor, rule: ApprovalRule, direction: str) -> ApprovalRule:
    """One place up (tried earlier) or down; at either end nothing moves."""
    _require_institution_admin(actor, RULES_REFUSAL)
    if direction not in ("up", "down"):
        raise InvalidInput(T("Move a rule up or down."), "direction")
    rules = list(approval_rules())
    index = rules.index(rule)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(rules):
        rules[index], rules[other] = rules[other], rules[index]
        _renumber(rules)
    return rule


def charge_types() -> dict[str, str]:
    """Built-in charge types and the library's own active ones (code -> name)."""
    own = db.session.scalars(select(ChargeType).where(ChargeType.active).order_by(ChargeType.code)).all()
    return {**BUILT_IN_CHARGES, **{c.code: c.name for c in own}}


def own_charge_types() -> list[ChargeType]:
    return db.session.scalars(select(ChargeType).order_by(ChargeType.active.desc(), ChargeType.code)).all()


def _check_charge_type_room() -> None:
    active = db.session.scalar(select(db.func.count()).select_from(ChargeType).where(ChargeType.active))
    if active >= MAX_OWN_CHARGE_TYPES:
        raise RuleViolation(T("The library already has %(n)s charge types of its own, the most allowed; deactivate "
                              "one first.", n=MAX_OWN_CHARGE_TYPES), "code")


def create_charge_type(actor, code: str, name: str) -> ChargeType:
    """One of the library's own charge types (at most five active), beside the built-in four."""
    _require_institution_admin(actor, CHARGE_TYPES_REFUSAL)
    code, name = (code or "").strip().lower(), (name or "").strip()
    if not code or len(code) > 20 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in code):
        raise InvalidInput(T("The code is 1–20 letters, digits, - or _ (no spaces)."), "code")
    if code in BUILT_IN_CHARGES or code in RESERVED_LINE_TYPES:
        raise InvalidInput(T("%(code)s is a built-in type; choose another code.", code=code), "code")
    if not name or len(name) > 100:
        raise InvalidInput(T("Give the charge type a name (at most 100 characters)."), "name")
    existing = db.session.scalar(select(ChargeType).where(ChargeType.code == code))
    if existing is not None:
        if existing.active:
            raise Duplicate(T("There is already a charge type %(code)s, “%(name)s”.", code=code,
                              name=existing.name), "code")
        raise Duplicate(T("There is already a charge type %(code)s, “%(name)s” (inactive: activate it instead).",
                          code=code, name=existing.name), "code")
    _check_charge_type_room()
    charge_type = ChargeType(code=code, name=name, active=True)
    db.session.add(charge_type)
    db.session.flush()
    return charge_type


def set_charge_type_active(actor, charge_type: ChargeType, active: bool) -> ChargeType:
    """Deactivated types are no longer offered; invoices that used them keep them."""
    _require_institution_admin(actor, CHARGE_TYPES_REFUSAL)
    if active and not charge_type.active:
        _check_charge_type_room()
    charge_type.active = bool(active)
    db.session.flush()
    return charge_type

