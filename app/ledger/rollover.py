"""Fiscal-year rollover arithmetic: what each fund and each PO line takes into the next period.

Pure functions over Decimal (no application, no database), so the preview, the commit and the
property tests run the same figures. The services in ``app.funds.rollover`` read the source
period, call :func:`plan_funds` and :func:`plan_lines`, and post what they return.

Money is neither made nor lost: for every fund, what the source has *left* (its cash balance,
allocated − expended) equals what is carried over plus what is not; every PO line encumbrance is
either released from the source (and a new one, by the rule, posted in the target) or the line is
reported and keeps it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Mapping

from ..text import T
from .balances import Balance, FundRules, InvalidPosting, LimitExceeded, TransactionKind, check_posting
from .money import quantize

ZERO = Decimal("0")
HUNDRED = Decimal(100)

ALLOCATION_MODES = ("none", "same", "adjust")   # none / this year's allocation / adjusted by ±percent
CARRY_MODES = ("none", "cash", "available")     # none / allocated − expended / − encumbered too
ENCUMBRANCE_BASES = ("remaining", "initial", "none")
ORDER_TYPES = ("one_time", "continuous")

# Why a fund or a line did not roll over (the report shows them; the services add none of their own).
INACTIVE = "inactive"
DO_NOT_ROLL = "do_not_roll_over"
PARENT_SKIPPED = "parent_skipped"
NO_COUNTERPART = "no_counterpart"
TARGET_UNUSABLE = "target_unusable"
INSUFFICIENT = "insufficient_funds"
REASONS = {
    INACTIVE: T("the fund is inactive"),
    DO_NOT_ROLL: T("the fund is marked do not roll over"),
    PARENT_SKIPPED: T("its parent fund is not rolled over"),
    NO_COUNTERPART: T("no fund with the same code in the target period"),
    TARGET_UNUSABLE: T("the target fund cannot be charged"),
    INSUFFICIENT: T("the target fund cannot take the encumbrance"),
}


class RuleError(ValueError):
    """Rules that make no sense (an unknown mode, a percent that would make allocations negative)."""


# -- ledger rollover ---------------------------------------------------------------------------

@dataclass(frozen=True)
class FundRule:
    """How one fund rolls over: its new allocation and what it carries of what is left."""
    allocation: str = "same"
    percent: Decimal = ZERO     # with allocation "adjust": +3 means this year's allocation + 3 %
    carry: str = "none"

    def __post_init__(self):
        if self.allocation not in ALLOCATION_MODES:
            raise RuleError(T("allocation is one of %(modes)s, not %(value)s", modes=", ".join(ALLOCATION_MODES),
                              value=repr(self.allocation)))
        if self.carry not in CARRY_MODES:
            raise RuleError(T("carry over is one of %(modes)s, not %(value)s", modes=", ".join(CARRY_MODES),
                              value=repr(self.carry)))
        if not isinstance(self.percent, Decimal) or not self.percent.is_finite():
            raise RuleError(T("the allocation percent is a Decimal"))
        if self.percent < -HUNDRED:
            raise RuleError(T("an allocation cannot fall by more than 100 %%", limit=HUNDRED))

    def to_dict(self) -> dict:
        return {"allocation": self.allocation, "percent": f"{self.percent:f}", "carry": self.carry}

    def label(self) -> str:
        """"same allocation", "allocation +3 %", "allocation -2.5 %" or "no allocation", then
        ", carry cash balance" or ", carry available" (a word first: a spreadsheet takes no formula)."""
        if self.allocation == "adjust":
            pct = self.percent.normalize() if self.percent != self.percent.to_integral() else self.percent.to_integral()
            text = T("allocation %(percent)s %%", percent=f"{'+' if pct >= 0 else ''}{pct:f}")
        else:
            text = T("no allocation") if self.allocation == "none" else T("same allocation")
        if self.carry == "cash":
            return T("%(allocation)s, carry cash balance", allocation=text)
        if self.carry == "available":
            return T("%(allocation)s, carry available", allocation=text)
        return text

    @classmethod
    def from_dict(cls, d: Mapping) -> "FundRule":
        return cls(d.get("allocation", "same"), Decimal(str(d.get("percent", "0"))), d.get("carry", "none"))


@dataclass(frozen=True)
class LedgerRules:
    """A default rule, overridden per ledger (by code) and per fund (by code): the most specific wins."""
    default: FundRule = FundRule()
    ledgers: Mapping[str, FundRule] = field(default_factory=dict)
    funds: Mapping[str, FundRule] = field(default_factory=dict)

    def rule_for(self, ledger_code: str, fund_code: str) -> FundRule:
        return self.funds.get(fund_code) or self.ledgers.get(ledger_code) or self.default

    def origin(self, ledger_code: str, fund_code: str) -> str:
        """Where a fund's rule comes from: "fund" (an override), "ledger" or "default"."""
        return "fund" if fund_code in self.funds else "ledger" if ledger_code in self.ledgers else "default"

    def label(self, ledger_code: str, fund_code: str) -> str:
        """The rule a fund gets, for a person: "same allocation, carry available", "allocation +3 %
        (ledger LEDA)", "no allocation, carry cash balance (override)"."""
        text = self.rule_for(ledger_code, fund_code).label()
        origin = self.origin(ledger_code, fund_code)
        return text if origin == "default" else T("%(rule)s (override)", rule=text) if origin == "fund" \
            else T("%(rule)s (ledger %(code)s)", rule=text, code=ledger_code)

    def to_dict(self) -> dict:
        return {"default": self.default.to_dict(),
                "ledgers": {k: v.to_dict() for k, v in sorted(self.ledgers.items())},
                "funds": {k: v.to_dict() for k, v in sorted(self.funds.items())}}

    @classmethod
    def from_dict(cls, d: Mapping) -> "LedgerRules":
        return cls(FundRule.from_dict(d.get("default", {})),
                   {k: FundRule.from_dict(v) for k, v in d.get("ledgers", {}).items()},
                   {k: FundRule.from_dict(v) for k, v in d.get("funds", {}).items()})


@dataclass(frozen=True)
class SourceFund:
    """A fund of the source period as the planner sees it (allocated counts transfers)."""
    code: str
    ledger: str
    kind: str = "allocated"                 # or "summary" (holds no money)
    parent: str | None = None               # the parent fund's code; None: directly under the ledger
    allocated: Decimal = ZERO
    expended: Decimal = ZERO
    encumbered: Decimal = ZERO
    active: bool = True
    roll_over: bool = True                  # False: marked "do not roll over"

    @property
    def cash(self) -> Decimal:
        return self.allocated - self.expended

    @property
    def available(self) -> Decimal:
        return self.allocated - self.expended - self.encumbered


@dataclass(frozen=True)
class FundPlan:
    """What one source fund becomes: the target's new allocation and carried amount, or a skip.

    ``left`` (the cash balance) = ``carried`` + ``not_carried``, always."""
    source: SourceFund
    rule: FundRule
    allocation: Decimal = ZERO
    carried: Decimal = ZERO
    not_carried: Decimal = ZERO
    skipped: str | None = None              # a key of REASONS

    @property
    def code(self) -> str:
        return self.source.code

    @property
    def left(self) -> Decimal:
        return self.source.cash

    @property
    def total(self) -> Decimal:
        """What the target fund is given: new allocation + carried over."""
        return self.allocation + self.carried


def new_allocation(allocated: Decimal, rule: FundRule, currency: str) -> Decimal:
    """This year's allocation under ``rule``, rounded to the currency (never below zero)."""
    if rule.allocation == "none":
        return quantize(ZERO, currency)
    factor = Decimal(1) if rule.allocation == "same" else (HUNDRED + rule.percent) / HUNDRED
    return quantize(max(allocated * factor, ZERO), currency)


def carried_over(fund: SourceFund, rule: FundRule, currency: str) -> Decimal:
    """What of the money left goes to the target: the cash or available balance, never a deficit."""
    if rule.carry == "none":
        return quantize(ZERO, currency)
    left = fund.cash if rule.carry == "cash" else fund.available
    return quantize(max(left, ZERO), currency)


def plan_funds(funds: Iterable[SourceFund], rules: LedgerRules, currency: str | Mapping[str, str]) -> list[FundPlan]:
    """One plan per source fund, parents before children (the order to create them in).

    Inactive funds, funds marked "do not roll over" and every fund under a skipped summary fund
    are skipped: nothing is allocated or carried, and everything left is *not carried*.
    ``currency``: one for all, or per ledger code."""
    funds = list(funds)
    by_code = {f.code: f for f in funds}
    if len(by_code) != len(funds):
        raise RuleError(T("fund codes repeat within the source period"))
    plans: dict[str, FundPlan] = {}

    def cur(f: SourceFund) -> str:
        return currency if isinstance(currency, str) else currency[f.ledger]

    def plan(f: SourceFund, trail: tuple = ()) -> FundPlan:
        if f.code in plans:
            return plans[f.code]
        if f.code in trail:
            raise RuleError(T("fund %(code)s is its own ancestor", code=f.code))
        parent = by_code.get(f.parent) if f.parent else None
        parent_plan = plan(parent, trail + (f.code,)) if parent is not None else None
        rule = rules.rule_for(f.ledger, f.code)
        c = cur(f)
        zero = quantize(ZERO, c)
        reason = (INACTIVE if not f.active else DO_NOT_ROLL if not f.roll_over
                  else PARENT_SKIPPED if parent_plan is not None and parent_plan.skipped else None)
        if reason or f.kind == "summary":
            left = quantize(f.cash, c)
            result = FundPlan(f, rule, zero, zero, left, reason)
        else:
            carried = carried_over(f, rule, c)
            result = FundPlan(f, rule, new_allocation(f.allocated, rule, c), carried, quantize(f.cash, c) - carried)
        plans[f.code] = result
        return result

    for f in funds:
        plan(f)
    ordered, seen = [], set()

    def visit(code):
        if code in seen:
            return
        parent = by_code[code].parent
        if parent in by_code:
            visit(parent)
        seen.add(code)
        ordered.append(plans[code])

    for f in sorted(funds, key=lambda f: (f.ledger, f.code)):
        visit(f.code)
    return ordered


# -- PO line rollover ---------------------------------------------------------------------------

@dataclass(frozen=True)
class EncumbranceRule:
    """What a line re-encumbers in the target: its remaining or initial encumbrance, or nothing;
    ``increase`` percent on top (continuous lines: a price rise)."""
    basis: str = "remaining"
    increase: Decimal = ZERO

    def __post_init__(self):
        if self.basis not in ENCUMBRANCE_BASES:
            raise RuleError(T("the encumbrance basis is one of %(bases)s, not %(value)s",
                              bases=", ".join(ENCUMBRANCE_BASES), value=repr(self.basis)))
        if not isinstance(self.increase, Decimal) or not self.increase.is_finite() or self.increase < -HUNDRED:
            raise RuleError(T("the increase is a Decimal percent of at least -100"))

    def to_dict(self) -> dict:
        return {"basis": self.basis, "increase": f"{self.increase:f}"}

    @classmethod
    def from_dict(cls, d: Mapping) -> "EncumbranceRule":
        return cls(d.get("basis", "remaining"), Decimal(str(d.get("increase", "0"))))


@dataclass(frozen=True)
class LineRules:
    one_time: EncumbranceRule = EncumbranceRule()
    continuous: EncumbranceRule = EncumbranceRule()

    def rule_for(self, order_type: str) -> EncumbranceRule:
        return self.continuous if order_type == "continuous" else self.one_time

    def to_dict(self) -> dict:
        return {"one_time": self.one_time.to_dict(), "continuous": self.continuous.to_dict()}

    @classmethod
    def from_dict(cls, d: Mapping) -> "LineRules":
        return cls(EncumbranceRule.from_dict(d.get("one_time", {})),
                   EncumbranceRule.from_dict(d.get("continuous", {})))


@dataclass(frozen=True)
class LineShare:
    """One fund of an open PO line's distribution in the source period."""
    fund_code: str
    remaining: Decimal          # what the line still holds encumbered on that fund
    initial: Decimal            # what it encumbered on approval


@dataclass(frozen=True)
class SourceLine:
    key: object                 # the PO line's id (or anything hashable)
    order_type: str
    shares: tuple[LineShare, ...]


@dataclass(frozen=True)
class TargetFund:
    """A fund of the target period that may take encumbrances: its balance after the ledger
    rollover, its rules, and whether it can be charged at all (allocated and active)."""
    code: str
    currency: str
    balance: Balance = Balance()
    rules: FundRules = FundRules()
    usable: bool = True


@dataclass(frozen=True)
class ShareMove:
    fund_code: str
    released: Decimal           # released from the source fund (0 when the line stays)
    encumbered: Decimal         # encumbered on the target fund of the same code
    kept: Decimal               # stays encumbered in the source (a reported line keeps it all)


@dataclass(frozen=True)
class LinePlan:
    line: SourceLine
    shares: tuple[ShareMove, ...]
    reason: str | None = None   # None: moved; else a key of REASONS
    fund_code: str | None = None   # the fund the reason is about
    detail: str = ""

    @property
    def moved(self) -> bool:
        return self.reason is None


def new_encumbrance(share: LineShare, rule: EncumbranceRule, currency: str) -> Decimal:
    if rule.basis == "none":
        return quantize(ZERO, currency)
    base = share.remaining if rule.basis == "remaining" else share.initial
    return quantize(max(base, ZERO) * (HUNDRED + rule.increase) / HUNDRED, currency)


def plan_lines(lines: Iterable[SourceLine], rules: LineRules, targets: Mapping[str, TargetFund]) -> list[LinePlan]:
    """Each line moved whole (every share released and re-encumbered by the rule) or reported and
    left exactly as it is. Lines are taken in the order given; each moved line's encumbrances count
    against the target funds' balance for the lines after it, under the funds' over-encumbrance
    rules (the same check the posting makes)."""
    return LinePlanner(rules, targets).plan(lines)


class LinePlanner:
    """:func:`plan_lines` a batch at a time: the target funds' balances carry from one call of
    :meth:`plan` to the next, so planning lines in batches gives the plans of one pass over them."""

    def __init__(self, rules: LineRules, targets: Mapping[str, TargetFund]):
        self.rules, self.targets = rules, targets
        self.balances = {code: t.balance for code, t in targets.items()}

    def plan(self, lines: Iterable[SourceLine]) -> list[LinePlan]:
        return [self.plan_line(line) for line in lines]

    def plan_line(self, line: SourceLine) -> LinePlan:
        targets, balances = self.targets, self.balances
        stay = tuple(ShareMove(s.fund_code, ZERO * s.remaining, ZERO * s.remaining, s.remaining) for s in line.shares)
        missing = next((s for s in line.shares if s.fund_code not in targets), None)
        if missing is not None:
            return LinePlan(line, stay, NO_COUNTERPART, missing.fund_code)
        unusable = next((s for s in line.shares if not targets[s.fund_code].usable), None)
        if unusable is not None:
            return LinePlan(line, stay, TARGET_UNUSABLE, unusable.fund_code)
        rule = self.rules.rule_for(line.order_type)
        after: dict[str, Balance] = {}     # the balances this line changes, kept only if all of it fits
        moves = []
        for s in line.shares:
            t = targets[s.fund_code]
            amount = new_encumbrance(s, rule, t.currency)
            if amount > 0:
                try:
                    after[t.code] = check_posting(after.get(t.code, balances[t.code]), TransactionKind.ENCUMBRANCE,
                                                  amount, t.rules, currency=t.currency, fund_label=t.code,
                                                  base=balances[t.code])
                except (LimitExceeded, InvalidPosting) as exc:
                    # kept with the rollover's report: in English, as stored text is
                    return LinePlan(line, stay, INSUFFICIENT, s.fund_code, getattr(exc.text, "english", str(exc)))
            moves.append(ShareMove(s.fund_code, s.remaining, amount, s.remaining - s.remaining))
        balances.update(after)
        return LinePlan(line, tuple(moves))
