"""The "Funds allocation loader" job: allocation files from the ERP's folder become ALLOCATION
fund transactions.

A file is all or nothing. Every row is checked first (its form, the ERP's fiscal period number,
the fund, the actor's right to manage its money, and the ledger rules for the combined effect
of all rows on each fund: a reduction may not take a fund below what is committed). One bad row
rejects the file: nothing is posted, each bad row is reported, and the file is renamed
``<name>.rejected`` so it stays on the server for correction. A good file is posted in one unit
of work and renamed ``<name>.handled``. The same bytes are never loaded twice, under any name.

A file stays all or nothing, so its postings are one transaction; everything before them (reading
the bytes, parsing, finding the funds, checking every row) takes no write lock (see
:func:`app.integrations.loads.reading`), so other writers wait only for the bulk insert itself.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy import inspect as sa_inspect

from app.clock import utcnow
from app.auth.permissions import can_manage_money
from app.errors import DomainError
from app.extensions import db
from app.funds import services as funds
from app.funds.models import Fund
from app.funds.scope import visible_funds_clause
from app.integrations.formats.allocations import AllocationLine, FileError, parse_allocation_file
from app.integrations.loads import reading
from app.integrations.models import AllocationRow, FiscalPeriodMapping, HandledFile
from app.integrations.paths import is_candidate, is_safe_file_name
from app.integrations.runs import execute, message_of, settled_inputs
from app.ledger import InvalidPosting, LimitExceeded, TransactionKind, check_posting
from app.ledger.money import AmountError, parse_amount
from app.spreadsheets import MAX_FILE_BYTES
from app.text import T
from app.vendors.services import institution_currency

JOB = "load_allocations"
HANDLED, REJECTED = ".handled", ".rejected"


@dataclass
class _Resolved:
    line: AllocationLine
    fund: Fund
    amount: Decimal


def load_allocations(ctx) -> None:
    file_type = ctx.section.file_type or "csv"
    suffix = "." + file_type
    with ctx.transport() as transport:
        listing = transport.list_files(ctx.folder)
        files = [f for f in listing if is_candidate(f.name, (suffix,))]
        files = settled_inputs(ctx, files)
        for f in listing:
            if f.name.lower().endswith(suffix) and not is_safe_file_name(f.name):
                ctx.log.warning(T("Skipped a file with an unsafe name: %(name)s.", name=repr(f.name)))
        if not files:
            ctx.log.info(T("No %(suffix)s files in %(folder)s.", suffix=suffix, folder=ctx.folder))
        ctx.log.progress(0, len(files))
        ctx.log.commit()
        for done, remote in enumerate(files, start=1):
            _load_file(ctx, transport, remote, file_type)
            ctx.log.progress(done)
            ctx.log.commit()


def _load_file(ctx, transport, remote, file_type: str) -> None:
    folder, name = ctx.folder, remote.name
    ctx.log.count(files=1)
    if remote.size > MAX_FILE_BYTES:
        ctx.log.error(T("The file is %(size)s bytes; at most %(max)s are accepted. Nothing was loaded.",
                        size=f"{remote.size:,}", max=f"{MAX_FILE_BYTES:,}"), file=name)
        ctx.log.count(failed=1)
        _finish(ctx, transport, name, _free_name(ctx, transport, name, REJECTED))
        return
    data = transport.read(folder, name, MAX_FILE_BYTES)
    sha256 = hashlib.sha256(data).hexdigest()
    with reading():
        seen = db.session.scalar(select(HandledFile).filter_by(job=JOB, sha256=sha256))
        if seen is not None and seen.status == "done":
            ctx.log.info(T("Already loaded on %(when)s UTC as %(name)s: the same file again, nothing loaded.",
                           when=f"{seen.handled_at:%Y-%m-%d %H:%M}", name=seen.file_name), file=name)
        else:
            flawed: list[AllocationLine] = []
            lines, errors = parse_allocation_file(data, file_type, flawed=flawed)
            resolved, problems = _resolve(ctx.actor, lines, flawed) if lines or flawed else ([], [])
            errors = sorted(errors + problems, key=lambda e: (e.row or 0))
    if seen is not None and seen.status == "done":
        _finish(ctx, transport, name, _free_name(ctx, transport, name, HANDLED))
        return
    # The target names are found before the postings: no network wait inside the write transaction.
    handled, rejected = _free_name(ctx, transport, name, HANDLED), _free_name(ctx, transport, name, REJECTED)
    if not errors:
        try:
            _post(ctx.actor, resolved, sha256)
        except DomainError as exc:   # the funds changed between the check and the posting
            ctx.log.rollback()
            ctx.log.count(files=1)
            seen = db.session.scalar(select(HandledFile).filter_by(job=JOB, sha256=sha256))
            errors = [FileError(None, exc.text)]
    if errors:
        _reject(ctx, name, rejected, data, sha256, seen, lines, errors)
        _finish(ctx, transport, name, rejected)
        return
    total = sum((r.amount for r in resolved), Decimal("0"))
    _remember(ctx, seen, name, data, sha256, "done")
    ctx.log.count(records=len(resolved))
    ctx.log.info(T("Loaded %(rows)s allocation row(s), %(total)s in all, into %(funds)s fund(s).", rows=len(resolved),
                   total=f"{total:f}", funds=len({r.fund.id for r in resolved})), file=name)
    _finish(ctx, transport, name, handled)


def _free_name(ctx, transport, name: str, suffix: str) -> str:
    """``name`` + ``suffix``, or with a time stamp before the suffix when an earlier file of the
    same name was handled already (it is kept, not overwritten)."""
    target = name + suffix
    if transport.stat(ctx.folder, target) is not None:
        target = f"{name}.{utcnow(aware=True):%Y%m%dT%H%M%S%f}{suffix}"
    return target


def _finish(ctx, transport, name: str, target: str) -> None:
    """Commit what the file did, then rename it (never before: a failed rename leaves a file whose
    bytes are known, and the next run only renames it)."""
    ctx.log.commit()
    transport.rename(ctx.folder, name, target)


def _remember(ctx, seen, name: str, data: bytes, sha256: str, status: str) -> None:
    if seen is None:
        seen = HandledFile(job=JOB, sha256=sha256)
        db.session.add(seen)
    seen.file_name, seen.size, seen.status = name[:255], len(data), status
    seen.profile_id, seen.run_id = ctx.profile.id, ctx.run.id
    seen.handled_at = utcnow()


def _reject(ctx, name, target, data, sha256, seen, lines, errors: list[FileError]) -> None:
    for e in errors:
        ctx.log.error(e.message, file=name, record=e.record)
    bad_rows = {e.row for e in errors if e.row is not None}
    rows = len({ln.row for ln in lines} | bad_rows)
    failed = max(len(bad_rows), 1)
    ctx.log.count(records=rows, failed=failed, not_applied=max(rows - failed, 0))   # all or nothing
    if bad_rows:
        message = T("File rejected (%(refused)s of %(rows)s row(s) refused); nothing was loaded. It is kept as "
                    "%(target)s.", refused=len(bad_rows), rows=rows, target=target)
    else:
        message = T("File rejected (the file cannot be loaded); nothing was loaded. It is kept as %(target)s.",
                    target=target)
    ctx.log.error(message, file=name)
    _remember(ctx, seen, name, data, sha256, "rejected")


def _resolve(actor, lines: list[AllocationLine], flawed: list[AllocationLine] = ()
             ) -> tuple[list[_Resolved], list[FileError]]:
    """Fund and amount of every row, then the ledger rules for all rows together. ``flawed``: rows
    the parser refused; their period and fund are checked too (every problem of a row is
    reported), and they are never resolved."""
    periods = {m.erp_id: m.fiscal_period for m in db.session.scalars(select(FiscalPeriodMapping))}
    wanted = {periods[ln.period_number].id for ln in [*lines, *flawed] if ln.period_number in periods}
    by_external: dict[tuple[int, str], list[Fund]] = {}
    by_code: dict[tuple[int, str], Fund] = {}
    if wanted:
        q = select(Fund).where(Fund.fiscal_period_id.in_(wanted), visible_funds_clause(actor))
        for fund in db.session.scalars(q):
            if fund.external_id:
                by_external.setdefault((fund.fiscal_period_id, fund.external_id), []).append(fund)
            by_code[(fund.fiscal_period_id, fund.code)] = fund
    resolved, errors = [], []
    fund_problems: dict[int, str | None] = {}
    refused = {id(ln) for ln in flawed}
    for ln in sorted([*lines, *flawed], key=lambda x: x.row):   # every problem of a row, not only its first
        row_errors: list[str] = []
        fund = None
        period = periods.get(ln.period_number)
        if ln.period_number is None:
            pass   # the parser said why
        elif period is None:
            row_errors.append(T("FISCAL_PERIOD_ID %(number)s stands for none of our fiscal periods (see ERP fiscal "
                                "periods in the administration).", number=ln.period_number))
        elif ln.fund_ref:
            matches = by_external.get((period.id, ln.fund_ref)) or []
            if len(matches) > 1:
                row_errors.append(T("External ID %(ref)s belongs to several funds in %(period)s: %(funds)s.",
                                    ref=ln.fund_ref, period=period.code,
                                    funds=", ".join(sorted(f.code for f in matches))))
            else:
                fund = matches[0] if matches else by_code.get((period.id, ln.fund_ref))
                if fund is None:
                    row_errors.append(T("No fund with external ID or code %(ref)s in %(period)s.", ref=ln.fund_ref,
                                        period=period.code))
        if fund is not None:
            if fund.id not in fund_problems:
                fund_problems[fund.id] = _not_postable(actor, fund)
            if fund_problems[fund.id]:
                row_errors.append(fund_problems[fund.id])
        amount = None
        if ln.amount is not None:   # without a fund, still checked (in the institution's currency)
            try:
                amount = parse_amount(ln.amount, fund.currency if fund is not None else institution_currency())
            except AmountError as exc:
                row_errors.append(T("AMOUNT: %(error)s.", error=message_of(exc)))
        if row_errors or id(ln) in refused:
            errors.extend(FileError(ln.row, message) for message in row_errors)
            continue
        resolved.append(_Resolved(ln, fund, amount))
    errors.extend(_balance_errors(resolved))
    return resolved, errors


def _not_postable(actor, fund: Fund) -> str | None:
    if fund.kind != "allocated":
        return T("%(fund)s is a summary fund; allocations go to allocated funds.", fund=fund.label)
    if fund.status != "active":
        return T("Fund %(fund)s is inactive.", fund=fund.label)
    if fund.fiscal_period.status != "active":
        return T("Fiscal period %(period)s of fund %(fund)s is closed.", period=fund.fiscal_period.code, fund=fund.code)
    if not can_manage_money(actor, fund.owner_library_id):
        return T("You may not manage the money of fund %(fund)s.", fund=fund.code)
    return None


def _in_posting_order(resolved: list[_Resolved]) -> list[_Resolved]:
    """Additions before reductions (each in file order), so that each fund's rows are judged by
    their combined effect, whatever order the file lists them in."""
    return [r for r in resolved if r.amount > 0] + [r for r in resolved if r.amount < 0]


def _balance_errors(resolved: list[_Resolved]) -> list[FileError]:
    """The ledger's rules for the rows in posting order, as :func:`funds.post_transactions` applies
    them, with a refusal naming the row that would break them."""
    start = {r.fund.id: r.fund.balance for r in resolved}
    rules = {r.fund.id: (r.fund.rules, r.fund.currency, r.fund.label) for r in resolved}
    after = dict(start)
    errors = []
    for r in _in_posting_order(resolved):
        fid = r.fund.id
        fund_rules, currency, label = rules[fid]
        try:
            after[fid] = check_posting(after[fid], TransactionKind.ALLOCATION, r.amount, fund_rules,
                                       currency=currency, fund_label=label, base=start[fid])
        except (LimitExceeded, InvalidPosting) as exc:
            errors.append(FileError(r.line.row, message_of(exc)))
    return errors


def _post(actor, resolved: list[_Resolved], sha256: str) -> None:
    """All rows in one call (the funds are locked and every rule checked again), each transaction
    with its row's reference and note, and the row keys that make (file, row) load once."""
    if not resolved:
        return
    # One query reloads every fund checked while reading (each would reload on its own otherwise).
    funds.lock_funds({sa_inspect(r.fund).identity[0] for r in resolved})
    ordered = _in_posting_order(resolved)
    postings = [funds.Posting(r.fund, TransactionKind.ALLOCATION, r.amount, reference=r.line.reference,
                              note=r.line.note, source_type="allocation_file") for r in ordered]
    ids = funds.post_transactions_bulk(actor, postings)
    db.session.execute(insert(AllocationRow), [{"file_sha256": sha256, "row_number": r.line.row,
                                                "fund_transaction_id": tx_id} for r, tx_id in zip(ordered, ids)])


def run(app, profile_code: str, **kw) -> int | None:
    """:func:`load_allocations` as a run of the profile (:func:`app.integrations.runs.execute`)."""
    return execute(app, "load_allocations", profile_code, load_allocations, **kw)
