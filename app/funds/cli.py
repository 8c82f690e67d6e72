"""``flask --app wsgi ledger check``: every balance recomputed from the transactions; ``rollover
ledgers | po-lines``: the fiscal-year rollover (app.funds.rollover) in two jobs, each a run on
Monitor Jobs (app.funds.runs, trigger "cli")."""
from __future__ import annotations

import click
from flask.cli import AppGroup

ledger_group = AppGroup("ledger", help="Ledger maintenance.")


@ledger_group.command("check")
def ledger_check():
    """Recompute every balance from the transactions; exit 1 when any differs."""
    from . import services as funds
    diffs = funds.check_ledger()
    if diffs:
        for d in diffs:
            click.echo(f"DIFFERENCE {d}")
        click.echo(f"{len(diffs)} fund(s) differ from their transactions.")
        raise SystemExit(1)
    click.echo("All fund balances match their transactions.")


# -- the fiscal-year rollover -------------------------------------------------------------------

rollover_group = AppGroup("rollover", help="Fiscal-year rollover: the ledgers first, then the open PO lines.")

_common = [
    click.option("--from", "source", required=True, metavar="CODE", help="The fiscal period rolled over."),
    click.option("--to", "target", required=True, metavar="CODE",
                 help="The later fiscal period it rolls into (create it first)."),
    click.option("--preview", is_flag=True, help="Run it and report, then roll everything back: nothing changes."),
    click.option("--report", "report_file", type=click.Path(dir_okay=False, writable=True), default=None,
                 help="Write the report to FILE: an .xlsx workbook when FILE ends in .xlsx, else CSV."),
    click.option("--as", "username", default="admin", show_default=True, help="The user the rollover acts as."),
]


def _with_common(f):
    for option in reversed(_common):
        f = option(f)
    return f


def _allocation(value: str):
    """none | same | a signed percent (+3, -2.5, +3%): this year's allocation adjusted by it."""
    from decimal import Decimal, InvalidOperation
    v = value.strip().lower()
    if v in ("none", "same"):
        return v, Decimal("0")
    try:
        return "adjust", Decimal(v.rstrip("%").strip())
    except InvalidOperation:
        raise click.BadParameter(f"none, same or a percent such as +3 or -2.5, not {value!r}")


def _fund_rule(allocation: str, carry: str):
    from ..ledger.rollover import FundRule, RuleError
    mode, percent = _allocation(allocation)
    try:
        return FundRule(mode, percent, carry)
    except RuleError as exc:
        raise click.BadParameter(str(exc))


def _rules_from_file(rules_file, source: str, allocation: str, carry: str):
    """A --rules FILE.json, read by the closure page's parser (app.funds.rollover_rules)."""
    import json

    from ..errors import DomainError
    from . import rollover_rules
    try:
        data = json.load(rules_file)
    except ValueError as exc:
        raise click.BadParameter(f"{rules_file.name} is not JSON: {exc}", param_hint="--rules")
    try:
        fields = rollover_rules.fields_from_json(data)
        if not isinstance(data.get("default"), dict):
            mode, percent = _allocation(allocation)
            fields.update({"allocation": mode, "percent": f"{percent:f}", "carry": carry})
        return rollover_rules.rules_for_period(fields, source)
    except DomainError as exc:
        raise click.BadParameter(exc.message, param_hint="--rules")


def _run(username, source, target, preview, fund_rules, line_rules):
    """The rollover as a run on Monitor Jobs (trigger "cli", app.funds.runs) in this process; its report."""
    from ..auth.cli import user_named
    from ..errors import DomainError
    from ..extensions import db
    from . import rollover, runs
    actor = user_named(username)
    try:
        source, target = rollover.check_periods(actor, source, target)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message)
    task = runs.Task("preview" if preview else "commit", source.code, target.code, fund_rules, line_rules,
                     keep=False)
    return _as_run(actor, task)["report"]


def _as_run(actor, task) -> dict:
    from flask import current_app

    from ..extensions import db
    from ..integrations.models import JobRun
    from . import runs
    run, started = runs.start(actor, task, trigger="cli")
    if not started:
        raise click.ClickException(f"Run #{run.id} ({run.job_label} {run.profile_code}) is going on right now; "
                                   "nothing was changed.")
    run_id, actor_id = run.id, actor.id
    db.session.commit()   # this command's own transaction must not hold the lock the run needs
    result: dict = {}
    runs.execute(current_app._get_current_object(), run_id, task, actor_id, result)
    db.session.expire_all()
    run = db.session.get(JobRun, run_id)
    if run.status != "completed":
        raise click.ClickException(run.message)
    return result


def _money(amount) -> str:
    return f"{amount:,.2f}"


def _finish(report, report_file) -> None:
    from . import rollover_report
    if report_file:
        rollover_report.write(report, report_file)
        click.echo(f"Report written to {report_file}.")
    if report.status == "preview":
        click.echo("Preview only: nothing was changed.")
    else:
        click.echo(f"Rollover {report.rollover_id} committed (undo: flask --app wsgi rollover undo {report.rollover_id}).")


@rollover_group.command("ledgers")
@_with_common
@click.option("--allocation", default="same", show_default=True, metavar="none|same|±N",
              help="The new allocation: none, the same as this year, or this year's adjusted by N percent (+3, -2.5).")
@click.option("--carry", type=click.Choice(["none", "cash", "available"]), default="none", show_default=True,
              help="Carry over what is left: nothing, the cash balance (allocated − expended) or the available "
                   "balance (− encumbered too), posted as its own allocation 'carried over from <period>'.")
@click.option("--ledger", "ledger_rules", multiple=True, nargs=3, metavar="CODE ALLOCATION CARRY",
              help="Other rules for one ledger's funds (repeatable), e.g. --ledger LAW +5 available.")
@click.option("--fund", "fund_rules", multiple=True, nargs=3, metavar="CODE ALLOCATION CARRY",
              help="Other rules for one fund (repeatable; wins over --ledger), e.g. --fund RESERVE none cash.")
@click.option("--rules", "rules_file", type=click.File("r", encoding="utf-8"), default=None, metavar="FILE.json",
              help="Read the rules from a JSON file instead of --ledger and --fund (the closure page's rules): "
                   '{"default": {"allocation": "adjust", "percent": "3", "carry": "available"}, '
                   '"ledgers": {"LAW": {"allocation": "same", "carry": "none"}}, '
                   '"funds": {"RESERVE": {"allocation": "none", "carry": "cash"}}}. '
                   "allocation: none, same or adjust (with percent); carry: none, cash or available; a field "
                   "left out follows the rule above it (a fund's its ledger's, a ledger's the default); "
                   'without "default", --allocation and --carry give it.')
def rollover_ledgers(source, target, preview, report_file, username, allocation, carry, ledger_rules, fund_rules,
                     rules_file):
    """Copy the ledgers and the fund tree of period --from into period --to, with new allocations and
    what is left carried over. Inactive funds and funds marked "do not roll over" are skipped and reported.

    Rules: a default (--allocation, --carry), other rules per ledger (--ledger) and per fund (--fund),
    or all of them from a JSON file (--rules FILE.json); the most specific wins."""
    from ..ledger.rollover import CARRY_MODES, LedgerRules
    for _code, _alloc, c in (*ledger_rules, *fund_rules):
        if c not in CARRY_MODES:
            raise click.BadParameter(f"carry is one of {', '.join(CARRY_MODES)}, not {c!r}")
    if rules_file is not None:
        if ledger_rules or fund_rules:
            raise click.UsageError("Give the rules either in --rules FILE.json or with --ledger and --fund.")
        rules = _rules_from_file(rules_file, source, allocation, carry)
    else:
        rules = LedgerRules(_fund_rule(allocation, carry),
                            {code: _fund_rule(a, c) for code, a, c in ledger_rules},
                            {code: _fund_rule(a, c) for code, a, c in fund_rules})
    report = _run(username, source, target, preview, rules, None)
    rolled = [f for f in report.funds if f.skipped is None]
    skipped = [f for f in report.funds if f.skipped is not None]
    verb = "would roll" if preview else "rolled"
    click.echo(f"Ledgers of {report.source} {verb} over to {report.target}: {len(rolled)} fund(s) "
               f"({sum(f.created for f in rolled)} created), {len(skipped)} skipped.")
    from .rollover_report import totals_by_currency
    for currency, t in totals_by_currency(report).items():
        click.echo(f"  {currency}: new allocations {_money(t['new_allocation'])}, carried over {_money(t['carried'])}, "
                   f"not carried {_money(t['not_carried'])} (left {_money(t['left'])}).")
    for f in skipped:
        click.echo(f"  skipped {f.code}: {f.reason}")
    _finish(report, report_file)


@rollover_group.command("po-lines")
@_with_common
@click.option("--one-time", "one_time", type=click.Choice(["remaining", "initial", "none"]), default="remaining",
              show_default=True, help="What one-time lines re-encumber: the remaining encumbrance, the initial "
                                      "amount, or nothing (the line moves with no encumbrance).")
@click.option("--continuous", type=click.Choice(["remaining", "initial", "none"]), default="remaining",
              show_default=True, help="What continuous lines re-encumber.")
@click.option("--increase", default="0", show_default=True, metavar="N",
              help="Continuous lines' new encumbrance increased by N percent (a price rise).")
def rollover_po_lines(source, target, preview, report_file, username, one_time, continuous, increase):
    """Move every open PO line encumbering funds of period --from to the funds of the same code in
    period --to (run `rollover ledgers` first). A line that cannot move whole is reported and left as
    it was; the exit status is then 1."""
    from decimal import Decimal, InvalidOperation

    from ..ledger.rollover import EncumbranceRule, LineRules, RuleError
    try:
        rules = LineRules(EncumbranceRule(one_time), EncumbranceRule(continuous, Decimal(increase.rstrip("%"))))
    except (InvalidOperation, RuleError) as exc:
        raise click.BadParameter(f"--increase: a percent such as 5, not {increase!r} ({exc})")
    report = _run(username, source, target, preview, None, rules)
    lines = {ln.po_line for ln in report.lines}
    left = {ln.po_line for ln in report.reported_lines}
    verb = "would move" if preview else "moved"
    click.echo(f"PO lines of {report.source} {verb} to {report.target}: {len(lines) - len(left)} moved, "
               f"{len(left)} not moved.")
    from .rollover_report import totals_by_currency
    for currency, t in totals_by_currency(report).items():
        click.echo(f"  {currency}: released {_money(t['released'])}, re-encumbered {_money(t['reencumbered'])}, "
                   f"left encumbered on lines not moved {_money(t['not_moved'])}.")
    shown = set()
    for ln in report.reported_lines:
        if ln.po_line in shown:
            continue
        shown.add(ln.po_line)
        if len(shown) > 20:
            click.echo(f"  … and {len(left) - 20} more (see the report).")
            break
        click.echo(f"  not moved {ln.po_line} ({ln.old_fund}): {ln.detail}")
    _finish(report, report_file)
    if left:
        raise SystemExit(1)


@rollover_group.command("undo")
@click.argument("rollover_id", type=int)
@click.option("--as", "username", default="admin", show_default=True, help="The user the undo acts as.")
def rollover_undo(rollover_id, username):
    """Undo committed rollover ROLLOVER_ID (its id is printed by the commit) while nothing else was
    posted to the funds it gave money to: undo the PO lines' rollover before the ledgers'."""
    from ..auth.cli import user_named
    from ..errors import DomainError
    from ..extensions import db
    from . import rollover, runs
    from .models import Rollover
    actor = user_named(username)
    found = db.session.get(Rollover, rollover_id)
    if found is None:
        raise click.ClickException(f"No rollover {rollover_id}.")
    try:
        rollover.check_undoable(actor, found)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message)
    task = runs.Task("undo", found.source_period.code, found.target_period.code, rollover_id=found.id)
    report = _as_run(actor, task)["report"]
    click.echo(f"Rollover {rollover_id} of {report.source} to {report.target} undone.")
