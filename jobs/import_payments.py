"""The "Import payment confirmation" job: the ERP says which exported invoices it paid or rejected.

For every ``.xml`` file in the section's folder (oldest first; ``.csv`` files instead when the
section takes CSV confirmations, read through its column mapping into the same records,
:mod:`app.integrations.formats.payment_csv`; an unusable mapping fails the run before any file):

1. Names from the listing are untrusted: unsafe names are skipped and logged, ``.part``/``.tmp``
   uploads are left alone, and (when a settle time is set) a file whose size or time changes
   between two listings is left for the next run.
2. The bytes are read (size capped) and hashed. The same bytes already handled (under any name)
   apply nothing: the file is only renamed ``<name>.handled``.
3. A file that is not a safe, well-formed confirmation is refused as a whole: nothing changes, an
   error names the file, and it is renamed ``<name>.rejected`` (kept on the server, never retried
   by itself; rename it back to retry).
4. Each record is applied as if inside its own savepoint, so a refused record undoes only itself
   (for speed a chunk of records shares one savepoint until a service refuses one; that chunk is
   then redone with a savepoint per record). The whole file (records, its :class:`HandledFile`
   row, events and counters) is committed as ONE unit; only then is the file renamed. A crash
   before the commit leaves nothing applied and the file in place, so the rerun equals a clean
   run; a failed rename is retried by the next run, which finds the hash and applies nothing.

Matching follows Alma: ``unique_identifier`` first; without it ``invoice_number`` + ``vendor_code``
(``invoice_number`` alone when the vendor is not given; a CSV file may give the vendor's ERP code
instead; several matches are reported as ambiguous).
Only invoices Waiting for Payment or Ready to be Paid change; a record for an invoice in another
status changes nothing and is reported (a repeat of an applied record is a warning, a conflict an
error). The voucher fields are stored for information only; when the ERP leaves them out the
payment is recorded with the file's name as voucher number, the import date, and the invoice total.
A PAID record whose amount (or currency) differs from the invoice total is reported in the run;
the section's ``amount_mismatch`` decides: *warn* records it (the invoice page flags the
difference), *refuse* records nothing (an error for that record; the invoice stays as it was).
When the payment notice letter is switched on, the paid invoices of a file get one notice per vendor
and voucher (:func:`app.invoices.services.notify_payment`), queued in the file's transaction.

Closed fiscal periods: a payment confirmation posts no money (the invoice expended when it was
approved), so an invoice expended on a closed period is paid and closed as any other. A
*rejection* would give the expenditure back to the closed year (and restore its PO lines'
encumbrances there), so it is refused for that invoice: the record is reported as an error naming
the invoice and the closed period, the invoice stays as it was, and the run goes on with the
other records (:class:`app.invoices.services.RejectedOnClosedPeriod`). A closed year's figures
change only when a person reopens it with a reason; the rejection can then be imported again.
"""
from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import clock
from app.clock import utcnow
from app.errors import DomainError
from app.extensions import db
from app.integrations.formats import joined
from app.integrations.formats.payment_confirmation import Confirmation, parse_confirmations
from app.integrations.formats.payment_csv import CsvMapping, MappingError, parse_csv_confirmations
from app.integrations.formats.xml import MAX_XML_BYTES, XMLRefused
from app.integrations.models import HandledFile
from app.integrations.paths import is_candidate, is_safe_file_name
from app.integrations.runs import JobRefused, execute, settled_inputs
from app.text import T, english
from app.integrations.transport import RemoteFile, TransferError, Transport
from app.invoices import services as invoices
from app.invoices.history import deferred_history
from app.invoices.models import STATUSES, Invoice, InvoiceLine
from app.ledger.money import format_money
from app.vendors.models import Vendor

JOB = "import_payments"
SUFFIXES = (".xml",)
CSV_SUFFIXES = (".csv",)
MAX_FILE_BYTES = MAX_XML_BYTES          # ERP_PAYMENT_MAX_BYTES in the config overrides it
SETTLE_SECONDS = 0                      # ERP_IMPORT_SETTLE_SECONDS / option settle_seconds override it
PAYABLE = ("waiting_for_payment", "ready_to_be_paid")
REJECTION_NOTE = "Rejected by the financial system"
_IN_CHUNK = 500                         # ids per IN (...) when prefetching invoices
CHUNK = 100                             # records sharing one savepoint while none is refused
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def import_payments(ctx) -> None:
    limit = int(current_app.config.get("ERP_PAYMENT_MAX_BYTES") or MAX_FILE_BYTES)
    settle = float(ctx.options.get("settle_seconds",
                                   current_app.config.get("ERP_IMPORT_SETTLE_SECONDS", SETTLE_SECONDS)) or 0)
    reader, suffixes = _reader(ctx)
    with ctx.transport() as transport:
        files = _candidates(ctx, transport.list_files(ctx.folder), suffixes)
        files = settled_inputs(ctx, files)
        if files and settle > 0:
            files = _settled(ctx, transport, files, settle)
        if not files:
            ctx.log.info(T("No payment confirmation file to import."))
        for remote in sorted(files, key=lambda f: (f.mtime or _EPOCH, f.name)):
            _import_file(ctx, transport, remote, limit, reader)


def _reader(ctx):
    """How the section's files are read (bytes, limit -> records), and the file names it takes."""
    if ctx.section.confirmation_format != "csv":
        return parse_confirmations, SUFFIXES
    try:
        mapping = CsvMapping.from_json(ctx.section.csv_mapping)
    except MappingError as exc:
        raise JobRefused(T("The section takes CSV payment confirmations, but its column mapping cannot be used: "
                           "%(problem)s Fix it on the profile's Payment confirmation format page; no file was read.",
                           problem=exc.message)) from None
    return (lambda data, limit: parse_csv_confirmations(data, mapping, limit)), CSV_SUFFIXES


# -- picking files ---------------------------------------------------------------------------------

def _candidates(ctx, listing: list[RemoteFile], suffixes=SUFFIXES) -> list[RemoteFile]:
    out = []
    for f in listing:
        lower = f.name.lower()
        if is_candidate(f.name, suffixes):
            out.append(f)
        elif not is_safe_file_name(f.name):
            ctx.log.warning(T("Skipped the file %(name)s: not a safe file name (hidden, control characters, "
                              "'..' or a path). Rename it on the server to import it.", name=repr(f.name)),
                            file=repr(f.name)[:255])
        elif lower.endswith((".part", ".tmp", ".filepart")):
            ctx.log.info(T("Left %(name)s alone: a file still being uploaded.", name=f.name), file=f.name)
        # other files (.handled, .rejected, other suffixes) are silently not ours
    return out


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _settled(ctx, transport: Transport, files: list[RemoteFile], seconds: float) -> list[RemoteFile]:
    """The files whose size and time did not change while we waited ``seconds``."""
    _sleep(seconds)
    again = {f.name: f for f in transport.list_files(ctx.folder)}
    out = []
    for f in files:
        now = again.get(f.name)
        if now is not None and (now.size, now.mtime) == (f.size, f.mtime):
            out.append(f)
        elif now is not None:
            ctx.log.info(T("Left %(name)s for the next run: it is still changing (being written?).", name=f.name),
                         file=f.name)
    return out


# -- one file --------------------------------------------------------------------------------------

def _import_file(ctx, transport: Transport, remote: RemoteFile, limit: int, reader=parse_confirmations) -> None:
    name, folder = remote.name, ctx.folder
    ctx.log.count(files=1)
    if remote.size > limit:
        _refuse(ctx, transport, name, None, remote.size,
                T("it is %(size)s bytes, more than the %(max)s bytes allowed", size=f"{remote.size:,}",
                  max=f"{limit:,}"))
        return
    data = transport.read(folder, name, limit)
    digest = hashlib.sha256(data).hexdigest()
    handled = db.session.scalar(select(HandledFile).filter_by(job=JOB, sha256=digest))
    if handled is not None and handled.status == "done":
        if handled.file_name == name:
            ctx.log.info(T("%(name)s was already handled (same content); nothing applied again.", name=name),
                         file=name)
        else:
            ctx.log.info(T("%(name)s was already handled (same content as %(earlier)s); nothing applied again.",
                           name=name, earlier=handled.file_name), file=name)
        ctx.log.commit()
        _rename(ctx, transport, name, ".handled")
        return
    try:
        records = reader(data, limit)
    except XMLRefused as exc:
        _refuse(ctx, transport, name, (digest, handled), len(data), exc.text)
        return
    for warning in records.warnings:
        ctx.log.warning(T("%(name)s: %(warning)s", name=name, warning=warning), file=name)
    ctx.log.progress(0, len(records))
    outcome = _apply_all(ctx, name, records)
    notices = invoices.notify_payment(ctx.actor, outcome.paid_invoices)   # in the file's transaction
    if notices:
        ctx.log.info(T("%(name)s: %(count)s payment notice(s) queued for the vendors.", name=name, count=len(notices)),
                     file=name)
    if handled is None:
        handled = HandledFile(job=JOB, sha256=digest)
        db.session.add(handled)
    handled.file_name, handled.size, handled.status = name[:255], len(data), "done"
    handled.profile_id, handled.run_id = ctx.profile.id, ctx.run.id
    handled.handled_at = utcnow()
    ctx.log.info(T("%(name)s: %(outcome)s", name=name, outcome=outcome.text()), file=name)
    ctx.log.commit()
    _rename(ctx, transport, name, ".handled")


def _refuse(ctx, transport: Transport, name: str, hashed, size: int, reason: str) -> None:
    """The whole file is refused: nothing applied; it is kept on the server as ``<name>.rejected``."""
    if hashed is not None:
        digest, handled = hashed
        if handled is None:
            handled = HandledFile(job=JOB, sha256=digest)
            db.session.add(handled)
        handled.file_name, handled.size, handled.status = name[:255], size, "rejected"
        handled.profile_id, handled.run_id = ctx.profile.id, ctx.run.id
    if english(reason).endswith("."):   # a whole sentence (the file format's refusal)
        message = T("%(name)s was refused: %(reason)s Nothing was changed; the file is kept on the server as "
                    "%(name)s.rejected (rename it back to import it again).", name=name, reason=reason)
    else:
        message = T("%(name)s was refused: %(reason)s. Nothing was changed; the file is kept on the server as "
                    "%(name)s.rejected (rename it back to import it again).", name=name, reason=reason)
    ctx.log.error(message, file=name)
    ctx.log.commit()
    _rename(ctx, transport, name, ".rejected")


def _rename(ctx, transport: Transport, name: str, suffix: str) -> None:
    """Rename ``name`` to ``name + suffix`` without overwriting an earlier file of that name."""
    target = name + suffix
    try:
        n = 1
        while transport.stat(ctx.folder, target) is not None:
            n += 1
            target = f"{name}.{n}{suffix}" if n <= 50 else f"{name}.run{ctx.run.id}-{n}{suffix}"
            if n > 60:
                raise TransferError(T("too many earlier copies of %(name)s", name=name + suffix))
        transport.rename(ctx.folder, name, target)
    except TransferError as exc:
        ctx.log.warning(T("Could not rename %(name)s to %(target)s: %(error)s The next run will see it was handled "
                          "and only retry the rename.", name=name, target=target, error=exc.text), file=name)
        ctx.log.commit()


# -- records ---------------------------------------------------------------------------------------

class _Outcome:
    def __init__(self):
        self.paid = self.rejected = self.unchanged = self.failed = 0
        self.differing = 0                        # paid with an amount other than the invoice total
        self.fallbacks: dict[str, int] = defaultdict(int)
        self.paid_invoices: list[Invoice] = []   # for the payment notices, once the file is applied

    def text(self):
        parts = [T("%(count)s paid", count=self.paid), T("%(count)s rejected", count=self.rejected)]
        if self.differing:
            parts.append(T("%(count)s paid with an amount other than the invoice total", count=self.differing))
        if self.unchanged:
            parts.append(T("%(count)s changed nothing", count=self.unchanged))
        if self.failed:
            parts.append(T("%(count)s with errors", count=self.failed))
        return T("%(list)s.", list=joined(parts, ", "))

    def __str__(self):
        return str(self.text())


@dataclass
class _Result:
    """What one record did: ``kind`` paid | rejected | unchanged | failed, and what to report."""
    kind: str
    error: str = ""
    warnings: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    invoice: Invoice | None = None
    differing: bool = False


class _Refused(Exception):
    """A service refused a record while a whole chunk shared one savepoint."""


def _apply_all(ctx, file_name: str, records: list[Confirmation]) -> _Outcome:
    """Apply the records, each as if inside its own savepoint. For speed a chunk of records shares
    one savepoint; when a service refuses one of them, the chunk is undone and redone with one
    savepoint per record, so a refused record still undoes only itself."""
    outcome = _Outcome()
    by_uid, by_number = _prefetch(records)
    for start in range(0, len(records), CHUNK):
        chunk = records[start:start + CHUNK]
        try:
            with db.session.begin_nested(), deferred_history():
                results = [_apply(ctx, file_name, rec, by_uid, by_number, shared=True) for rec in chunk]
        except _Refused:
            results = [_apply(ctx, file_name, rec, by_uid, by_number, shared=False) for rec in chunk]
        for rec, result in zip(chunk, results):
            _report(ctx, file_name, rec, result, outcome)
        ctx.log.progress(start + len(chunk))
    ctx.log.progress(len(records))
    ctx.log.count(records=len(records), failed=outcome.failed)
    for what, count in outcome.fallbacks.items():
        ctx.log.info(T("%(count)s paid record(s) had no %(what)s.", count=count, what=what), file=file_name)
    return outcome


def _report(ctx, file_name: str, rec: Confirmation, result: _Result, outcome: _Outcome) -> None:
    for warning in result.warnings:
        ctx.log.warning(T("%(where)s: %(warning)s", where=rec.where, warning=warning), file=file_name, record=rec.label)
    for what in result.fallbacks:
        outcome.fallbacks[what] += 1
    if result.kind == "failed":
        outcome.failed += 1
        ctx.log.error(T("%(where)s: %(error)s", where=rec.where, error=result.error), file=file_name, record=rec.label)
    else:
        setattr(outcome, result.kind, getattr(outcome, result.kind) + 1)
        if result.kind == "paid" and result.invoice is not None:
            outcome.paid_invoices.append(result.invoice)
        if result.differing:
            outcome.differing += 1


def _prefetch(records: list[Confirmation]):
    """The invoices the file can refer to, in a few queries (with their lines, which closing needs)."""
    uids = sorted({r.unique_identifier for r in records if r.unique_identifier})
    numbers = sorted({r.invoice_number for r in records if r.invoice_number and not r.unique_identifier})
    opts = (selectinload(Invoice.lines).selectinload(InvoiceLine.po_line),)
    by_uid: dict[str, Invoice] = {}
    by_number: dict[str, list[Invoice]] = defaultdict(list)
    for i in range(0, len(uids), _IN_CHUNK):
        for inv in db.session.scalars(select(Invoice).where(Invoice.erp_identifier.in_(uids[i:i + _IN_CHUNK]))
                                      .options(*opts)):
            by_uid[inv.erp_identifier] = inv
    for i in range(0, len(numbers), _IN_CHUNK):
        for inv in db.session.scalars(select(Invoice).join(Vendor, Invoice.vendor_id == Vendor.id)
                                      .where(Invoice.number.in_(numbers[i:i + _IN_CHUNK])).options(*opts)):
            by_number[inv.number].append(inv)
    return by_uid, by_number


def _same_vendor(rec: Confirmation, inv: Invoice) -> bool:
    return (not rec.vendor_code or rec.vendor_code == inv.vendor.code) and \
        (not rec.erp_vendor_code or rec.erp_vendor_code == inv.vendor.financial_sys_code)


def _match(rec: Confirmation, by_uid, by_number) -> tuple[Invoice | None, str]:
    if rec.unique_identifier:
        inv = by_uid.get(rec.unique_identifier)
        if inv is None:
            return None, T("unknown invoice: no invoice has the unique identifier %(uid)s.", uid=rec.unique_identifier)
        if (rec.invoice_number and rec.invoice_number != inv.number) or not _same_vendor(rec, inv):
            return None, T("the unique identifier %(uid)s belongs to invoice %(number)s of vendor %(vendor)s, not to "
                           "the invoice number/vendor given; nothing changed.", uid=rec.unique_identifier,
                           number=inv.number, vendor=inv.vendor.code)
        return inv, ""
    found = [inv for inv in by_number.get(rec.invoice_number, []) if _same_vendor(rec, inv)]
    if not found:
        if rec.vendor_code and rec.erp_vendor_code:
            return None, T("unknown invoice: no invoice %(number)s of vendor %(vendor)s of the vendor with ERP code "
                           "%(erp_code)s.", number=rec.invoice_number, vendor=rec.vendor_code,
                           erp_code=rec.erp_vendor_code)
        if rec.vendor_code:
            return None, T("unknown invoice: no invoice %(number)s of vendor %(vendor)s.", number=rec.invoice_number,
                           vendor=rec.vendor_code)
        if rec.erp_vendor_code:
            return None, T("unknown invoice: no invoice %(number)s of the vendor with ERP code %(erp_code)s.",
                           number=rec.invoice_number, erp_code=rec.erp_vendor_code)
        return None, T("unknown invoice: no invoice %(number)s.", number=rec.invoice_number)
    if len(found) > 1:
        vendors = ", ".join(sorted(inv.vendor.code for inv in found))
        return None, T("ambiguous: %(count)s invoices are numbered %(number)s (vendors %(vendors)s); the ERP must "
                       "send the unique identifier or the vendor code. Nothing changed.", count=len(found),
                       number=rec.invoice_number, vendors=vendors)
    return found[0], ""


def _apply(ctx, file_name: str, rec: Confirmation, by_uid, by_number, *, shared: bool) -> _Result:
    """Apply one record. ``shared``: the caller's savepoint covers a chunk, so a refusal must undo the
    chunk (raise :class:`_Refused`); otherwise the record gets its own savepoint."""
    if rec.errors:
        return _Result("failed", T("%(errors)s. Nothing changed.", errors=joined(rec.errors)))
    result = _Result("paid" if rec.payment_status == "PAID" else "rejected",
                     warnings=[T("%(warning)s.", warning=w) for w in rec.warnings])
    inv, problem = _match(rec, by_uid, by_number)
    if problem:
        return _Result("failed", problem, result.warnings)
    if inv.status not in PAYABLE:
        return _not_payable(rec, inv, result)
    difference = _difference(rec, inv)
    if difference and ctx.section.amount_mismatch == "refuse":
        return _Result("failed", T("%(difference)s; refused, as the profile's setting for differing amounts says. "
                                   "Nothing changed: the invoice stays %(status)s.", difference=difference,
                                   status=STATUSES[inv.status]), result.warnings)
    if difference:
        result.differing = True
        result.warnings.append(T("%(difference)s; recorded as sent (the invoice page shows the difference).",
                                 difference=difference))
    try:
        if shared:
            _change(ctx, file_name, rec, inv, result)
        else:
            with db.session.begin_nested():
                _change(ctx, file_name, rec, inv, result)
    except DomainError as exc:
        if shared:
            raise _Refused() from exc
        return _Result("failed", T("invoice %(number)s (%(vendor)s): %(error)s Nothing changed.", number=inv.number,
                                   vendor=inv.vendor.code, error=exc.text), result.warnings)
    if result.kind == "paid":
        result.invoice = inv
    return result


def _change(ctx, file_name: str, rec: Confirmation, inv: Invoice, result: _Result) -> None:
    if rec.payment_status == "PAID":
        _pay(ctx, file_name, rec, inv, result)
    else:
        invoices.send_back_to_review(ctx.actor, inv, rec.payment_note or REJECTION_NOTE, erp=True)


def _not_payable(rec: Confirmation, inv: Invoice, result: _Result) -> _Result:
    repeat = (rec.payment_status == "PAID" and inv.status == "closed") or \
             (rec.payment_status == "REJECTED" and inv.status in ("in_review", "in_approval"))
    if repeat:
        if inv.status == "closed":
            result.warnings.append(T("invoice %(number)s (%(vendor)s) is already closed; nothing changed.",
                                     number=inv.number, vendor=inv.vendor.code))
        else:
            result.warnings.append(T("invoice %(number)s (%(vendor)s) is already %(status)s; nothing changed.",
                                     number=inv.number, vendor=inv.vendor.code, status=STATUSES[inv.status]))
        result.kind = "unchanged"
        return result
    if rec.payment_status == "PAID":
        message = T("the ERP says paid, but invoice %(number)s (%(vendor)s) is %(status)s; nothing changed. Check "
                    "it with the financial system.", number=inv.number, vendor=inv.vendor.code,
                    status=STATUSES[inv.status])
    else:
        message = T("the ERP says rejected, but invoice %(number)s (%(vendor)s) is %(status)s; nothing changed. "
                    "Check it with the financial system.", number=inv.number, vendor=inv.vendor.code,
                    status=STATUSES[inv.status])
    return _Result("failed", message, result.warnings)


def _pay(ctx, file_name: str, rec: Confirmation, inv: Invoice, result: _Result) -> None:
    voucher = rec.voucher_number
    if not voucher:
        voucher = f"ERP {file_name}"[:50]
        result.fallbacks.append(T("payment_voucher_number (stored '%(voucher)s')", voucher=voucher))
    on = rec.voucher_date
    if on is None:
        on = clock.today()
        result.fallbacks.append(T("payment_voucher_date (stored the import date)"))
    amount, currency = rec.amount, rec.currency
    if amount is None:
        amount, currency = inv.total_amount, inv.currency
        result.fallbacks.append(T("voucher_amount (stored the invoice total)"))
    currency = currency or inv.currency
    invoices.record_payment(ctx.actor, inv, voucher, on, amount, currency, flush=False,   # the savepoint flushes
                            notify=False)   # one notice per vendor and voucher, once the file is applied


def _difference(rec: Confirmation, inv: Invoice) -> str:
    """How a PAID record's amount differs from the invoice total ("" when it does not, or gives none)."""
    if rec.payment_status != "PAID" or rec.amount is None:
        return ""
    currency = rec.currency or inv.currency
    if currency == inv.currency and rec.amount == inv.total_amount:
        return ""
    paid, total = format_money(rec.amount, currency), format_money(inv.total_amount, inv.currency)
    return T("invoice %(number)s (%(vendor)s) paid %(paid)s %(currency)s, its total is %(total)s %(total_currency)s",
             number=inv.number, vendor=inv.vendor.code, paid=paid, currency=currency, total=total,
             total_currency=inv.currency)


def run(app, profile_code: str, **kw) -> int | None:
    """:func:`import_payments` as a run of the profile (:func:`app.integrations.runs.execute`)."""
    return execute(app, "import_payments", profile_code, import_payments, **kw)
