"""The ledger rules of a rollover from what a person typed: the page's fields or a rules file.

One parser for the "Fiscal period closure" page and ``flask rollover ledgers --rules FILE.json``:
a default rule, a rule per ledger of the source period and overrides for single funds
(:class:`app.ledger.rollover.LedgerRules`; the most specific wins). A refusal is an
:class:`~app.errors.InvalidInput` whose message names the ledger or fund and the field, and whose
``field`` is the form field to mark.

The page's fields (``request.form``)::

    allocation, percent, carry                      the default rule
    ledger-<i>-code                                 a ledger of the source period (hidden)
    ledger-<i>-allocation   "" | none | same | adjust    "" = as the default rule
    ledger-<i>-percent      with adjust: +3, -2.5
    ledger-<i>-carry        "" | none | cash | available
    fund-<i>-code, -allocation, -percent, -carry   an override of one fund ("" = as its ledger)

A ledger whose fields all say "as the default" gets no rule of its own (the report says so); a
field left "as ..." takes the allocation (with its percent) or the carry of the rule above it.

A rules file is JSON: ``{"default": {"allocation": "adjust", "percent": "3", "carry": "available"},
"ledgers": {"LEDA": {"allocation": "same"}}, "funds": {"RESERVE": {"allocation": "none", "carry":
"cash"}}}``; every key may be left out, and so may every field of a rule (as the rule above it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Mapping

from sqlalchemy import select

from ..errors import InvalidInput
from ..text import T
from ..extensions import db
from ..ledger.rollover import ALLOCATION_MODES, CARRY_MODES, FundRule, LedgerRules
from . import services
from .rollover import parse_percent
from .models import Fund, Ledger

ROW = re.compile(r"^(ledger|fund)-(\d{1,4})-(code|allocation|percent|carry)$")


@dataclass
class RuleFields:
    """One rule as typed: "" where it follows the rule above it."""
    allocation: str = ""
    percent: str = ""
    carry: str = ""

    @property
    def empty(self) -> bool:
        return not self.allocation and not self.carry


@dataclass
class TypedRules:
    """The page's rule fields, grouped (what the rules table shows again, as typed)."""
    default: RuleFields = field(default_factory=RuleFields)
    ledgers: dict[str, RuleFields] = field(default_factory=dict)     # by ledger code
    funds: list[tuple[str, RuleFields]] = field(default_factory=list)   # (fund code or "", fields), in order


def typed_rules(fields: Mapping[str, str]) -> TypedRules:
    """The rule fields of a posted form, grouped by row (nothing checked yet)."""
    get = fields.get
    typed = TypedRules(RuleFields(get("allocation") or "same", get("percent") or "", get("carry") or "none"))
    rows: dict[tuple[str, int], dict[str, str]] = {}
    for name in fields:
        m = ROW.match(name)
        if m:
            rows.setdefault((m[1], int(m[2])), {})[m[3]] = (get(name) or "").strip()
    for (kind, _i), row in sorted(rows.items()):
        values = RuleFields(row.get("allocation", ""), row.get("percent", ""), row.get("carry", ""))
        if kind == "ledger":
            if row.get("code"):
                typed.ledgers[row["code"]] = values
        else:
            typed.funds.append((row.get("code", ""), values))
    return typed


def rule_from(values: RuleFields, above: FundRule, where: str, prefix: str) -> FundRule:
    """One rule from its typed fields; "" takes ``above``'s. ``where`` names it in the messages
    ("Ledger LEDA", "Fund A-BKS"), ``prefix`` its form fields ("ledger-0-")."""
    allocation, carry = values.allocation or "", values.carry or ""
    if allocation and allocation not in ALLOCATION_MODES:
        raise InvalidInput(T("%(where)s: the new allocation is one of %(modes)s, not \"%(value)s\".", where=where,
                             modes=", ".join(ALLOCATION_MODES), value=allocation), prefix + "allocation")
    if carry and carry not in CARRY_MODES:
        raise InvalidInput(T("%(where)s: carry over is one of %(modes)s, not \"%(value)s\".", where=where,
                             modes=", ".join(CARRY_MODES), value=carry), prefix + "carry")
    if not allocation:
        mode, percent = above.allocation, above.percent
        if values.percent.strip():
            raise InvalidInput(T("%(where)s: \"adjust by %%\" needs the new allocation \"adjusted by a percent\".",
                                 where=where), prefix + "percent")
    elif allocation == "adjust":
        mode, percent = "adjust", parse_percent(values.percent, prefix + "percent", where, T("adjust by %%", sign="%"),
                                                low=Decimal(-100))
    else:
        mode, percent = allocation, Decimal("0")
    return FundRule(mode, percent, carry or above.carry)


def ledger_rules_from(fields: Mapping[str, str], ledgers: Iterable[str] | None = None,
                      funds: Mapping[str, str] | None = None) -> LedgerRules:
    """The :class:`LedgerRules` of the page's fields (see the module's docstring).

    ``ledgers``: the source period's ledger codes, and ``funds``: its fund codes with their ledger's
    code, when known; a code not among them is refused. A fund row with no fund chosen is ignored."""
    typed = typed_rules(fields)
    default = rule_from(typed.default, FundRule(), T("The default rule"), "")
    known_ledgers = set(ledgers) if ledgers is not None else None
    by_ledger: dict[str, FundRule] = {}
    for i, (code, values) in enumerate(typed.ledgers.items()):
        if known_ledgers is not None and code not in known_ledgers:
            raise InvalidInput(T("Ledger %(code)s is not a ledger of the source period.", code=code),
                               f"ledger-{i}-allocation")
        if not values.empty or values.percent.strip():
            by_ledger[code] = rule_from(values, default, T("Ledger %(code)s", code=code), f"ledger-{i}-")
    by_fund: dict[str, FundRule] = {}
    for i, (code, values) in enumerate(typed.funds):
        prefix = f"fund-{i}-"
        if not code:
            if not values.empty:
                raise InvalidInput(T("Fund override %(n)s: choose the fund it is for.", n=i + 1), prefix + "code")
            continue
        if funds is not None and code not in funds:
            raise InvalidInput(T("Fund %(code)s is not a fund of the source period.", code=code), prefix + "code")
        if code in by_fund:
            raise InvalidInput(T("Fund %(code)s is overridden twice: keep one row for it.", code=code), prefix + "code")
        if values.empty and not values.percent.strip():
            raise InvalidInput(T("Fund %(code)s: choose its new allocation or what it carries over (or remove the "
                                 "override).", code=code), prefix + "allocation")
        ledger_code = funds.get(code) if funds is not None else None
        above = by_ledger.get(ledger_code, default) if ledger_code else default
        by_fund[code] = rule_from(values, above, T("Fund %(code)s", code=code), prefix)
    return LedgerRules(default, by_ledger, by_fund)


def ledger_rules_from_json(data, ledgers: Iterable[str] | None = None,
                           funds: Mapping[str, str] | None = None) -> LedgerRules:
    """The :class:`LedgerRules` of a rules file's JSON (see the module's docstring), checked as the
    page's fields are (the same function reads both)."""
    return ledger_rules_from(fields_from_json(data), ledgers, funds)


def fields_from_json(data) -> dict[str, str]:
    """A rules file's JSON as the page's fields."""
    if not isinstance(data, Mapping):
        raise InvalidInput(T("A rules file holds one JSON object: {\"default\": …, \"ledgers\": …, \"funds\": …}."))
    unknown = set(data) - {"default", "ledgers", "funds"}
    if unknown:
        raise InvalidInput(T("Unknown key(s) in the rules: %(keys)s (default, ledgers, funds).",
                             keys=", ".join(sorted(unknown))))
    fields: dict[str, str] = {}

    def put(prefix: str, rule, where: str) -> None:
        if not isinstance(rule, Mapping) or set(rule) - {"allocation", "percent", "carry"}:
            raise InvalidInput(T("%(where)s: a rule is an object with allocation, percent and carry.", where=where))
        for key in ("allocation", "percent", "carry"):
            if key in rule:
                fields[prefix + key] = str(rule[key])

    put("", data.get("default", {}), T("The default rule"))
    for kind in ("ledgers", "funds"):
        group = data.get(kind, {})
        if not isinstance(group, Mapping):
            raise InvalidInput(T("\"%(kind)s\" maps codes to rules.", kind=kind))
        for i, (code, rule) in enumerate(group.items()):
            fields[f"{kind[:-1]}-{i}-code"] = str(code)
            put(f"{kind[:-1]}-{i}-", rule, T("Ledger %(code)s", code=code) if kind == "ledgers" else
                T("Fund %(code)s", code=code))
    return fields


# -- with the source period ---------------------------------------------------------------------

@dataclass(frozen=True)
class SourceChoices:
    """What the rules table offers for a source period: its ledgers and its allocated funds."""
    ledgers: list[tuple[str, str, str]]         # (code, name, currency)
    funds: list[tuple[str, str, str]]           # (code, name, ledger code), allocated funds only

    @property
    def fund_ledgers(self) -> dict[str, str]:
        return {code: ledger for code, _name, ledger in self.funds}


def source_choices(period) -> SourceChoices:
    """The ledgers and allocated funds of ``period`` (a FiscalPeriod, its code or id), by code."""
    period = services.get_fiscal_period(period)
    ledgers = db.session.execute(select(Ledger.code, Ledger.name, Ledger.currency)
                                 .where(Ledger.fiscal_period_id == period.id).order_by(Ledger.code)).all()
    funds = db.session.execute(select(Fund.code, Fund.name, Ledger.code).join(Ledger, Ledger.id == Fund.ledger_id)
                               .where(Fund.fiscal_period_id == period.id, Fund.kind == "allocated")
                               .order_by(Ledger.code, Fund.code)).all()
    return SourceChoices([tuple(r) for r in ledgers], [tuple(r) for r in funds])


def rules_for_period(fields: Mapping[str, str], period) -> LedgerRules:
    """:func:`ledger_rules_from` with the codes checked against the source ``period``."""
    choices = source_choices(period)
    return ledger_rules_from(fields, [code for code, _n, _c in choices.ledgers], choices.fund_ledgers)


# -- the page's table ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleRow:
    """One row of the rules table: a ledger of the source period or a fund override."""
    index: int
    code: str
    values: RuleFields
    gets: str = ""          # the rule it gets, for a person ("" while the fields do not parse)
    name: str = ""          # a ledger's name and currency
    error: str = ""         # what is wrong with its fields, if anything
    kind: str = "ledger"    # or "fund" (an override)

    def field(self, kind: str, name: str) -> str:
        return f"{kind}-{self.index}-{name}"


@dataclass(frozen=True)
class RulesTable:
    """What the "Rules per ledger and fund" part of the closure form shows."""
    default: str                                    # the default rule's label
    ledgers: list[RuleRow]
    funds: list[RuleRow]
    fund_groups: list[tuple[str, list[tuple[str, str]]]]    # (ledger code, [(fund code, name)])
    problem_field: str | None = None
    focus: str | None = None                        # the field to focus after the swap


def rules_table(fields: Mapping[str, str], choices: SourceChoices, problem_field: str | None = None,
                add: bool = False, remove: int | None = None) -> RulesTable:
    """The table for ``fields`` (a posted form: every source ledger gets a row, typed or not);
    ``add``: one more, empty fund override; ``remove``: the override at that index taken out."""
    typed = typed_rules(fields)
    overrides = [row for i, row in enumerate(typed.funds) if i != remove]
    if add:
        overrides.append(("", RuleFields()))
    # renumber: what is parsed is what is shown
    shown = {k: v for k, v in fields.items() if not ROW.match(k)}
    for i, (code, _name, _cur) in enumerate(choices.ledgers):
        values = typed.ledgers.get(code, RuleFields())
        shown.update({f"ledger-{i}-code": code, f"ledger-{i}-allocation": values.allocation,
                      f"ledger-{i}-percent": values.percent, f"ledger-{i}-carry": values.carry})
    for i, (code, values) in enumerate(overrides):
        shown.update({f"fund-{i}-code": code, f"fund-{i}-allocation": values.allocation,
                      f"fund-{i}-percent": values.percent, f"fund-{i}-carry": values.carry})
    fund_ledgers = choices.fund_ledgers
    error_row, error = "", ""
    try:
        parsed = ledger_rules_from(shown, [c for c, _n, _cur in choices.ledgers], fund_ledgers)
    except InvalidInput as exc:
        parsed, error = None, exc.text
        error_row = "-".join((exc.field or "").split("-")[:2])   # "ledger-2", "fund-0" or "" (the default)
    ledgers = []
    for i, (code, name, currency) in enumerate(choices.ledgers):
        gets = ""
        if parsed is not None:
            rule = parsed.rule_for(code, "").label()
            gets = rule if code in parsed.ledgers else T("%(rule)s (the default)", rule=rule)
        ledgers.append(RuleRow(i, code, typed.ledgers.get(code, RuleFields()), gets, f"{name} ({currency})",
                               error if error_row == f"ledger-{i}" else ""))
    funds = []
    for i, (code, values) in enumerate(overrides):
        gets = parsed.rule_for(fund_ledgers[code], code).label() if parsed is not None and code else ""
        funds.append(RuleRow(i, code, values, gets, error=error if error_row == f"fund-{i}" else "", kind="fund"))
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, name, ledger in choices.funds:
        groups.setdefault(ledger, []).append((code, name))
    focus = problem_field or (f"fund-{len(funds) - 1}-code" if add else "add_fund" if remove is not None else None)
    try:
        default = rule_from(typed.default, FundRule(), T("The default rule"), "").label()
    except InvalidInput:
        default = ""
    return RulesTable(default, ledgers, funds, list(groups.items()),
                      problem_field, focus)
