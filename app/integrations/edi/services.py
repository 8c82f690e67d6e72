"""EDI invoices on the database side: vendor EDI settings, receiving an INVOIC file (uploaded or
fetched), turning each message into an invoice, the inbox and its retry, and the runs of the fetch
job (whose body is ``jobs/fetch_edi.py``).

Receiving a file (:func:`receive_edi_file`): the same bytes received before are recorded as a
*duplicate* and create nothing. Otherwise the file is decoded and read (:mod:`.format`);
a file that cannot be read is kept whole as one *failed* inbox row. Each message is kept with its
raw text, matched (vendor, POLs, unique invoice number) and created with
``create_invoice(channel="edi")`` in a savepoint, then ``process_invoice`` (review and approval
rules). A message that fails stays in the inbox as *failed* with the reason, and can be retried
after the POL or the vendor is fixed. Callers commit.

The owner of an EDI invoice is the library all its POLs belong to, else the institution. Each
line gets its POL's fund distribution (as percents). Header allowances and charges become the
invoice's charges (pro rata) or, without pro rata, lines of their charge type paid by the lines'
funds in proportion. When the vendor/VAT check asks a question, the invoice is saved as the vendor
reported it ("yes"; "no_vat" for the governmental case) and the question is written in its notes.

The fetch job (``jobs/fetch_edi.py``) lists the vendor's folder, receives each candidate file
(``.edi``, ``.edifact``, ``.inv``, ``.txt``) with :func:`receive_logged`, commits, and only then
renames the remote file ``<name>.handled`` (a file whose messages failed is renamed too:
everything is in the inbox). A file over the size cap is renamed ``<name>.rejected``. Nothing is
ever deleted. Runs are ``JobRun`` rows (job ``fetch_edi``, no profile, profile_code
``EDI-<vendor code>``) started by :func:`start_run`; the integration scheduler schedules them
through :func:`schedule_edi_jobs`, and both it and the "Fetch now" button call :func:`fetch_run`.
Like a profile's section, a pickup's fetch carries the tick it belongs to (one fetch per tick), a
tick that could not run is recorded *skipped*, and after downtime one catch-up fetch covers the
ticks missed.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Callable

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from ...auth.models import Role, User
from ...clock import utcnow
from ...auth.permissions import has_any_role, library_scope
from ...database import is_postgres, write_intent
from ...errors import DomainError, Forbidden, InvalidInput, NotFound
from ...extensions import db
from ...funds.distribution import Share
from ...invoices import services as invoices
from ...invoices import settings
from ...invoices.models import Invoice
from ...ledger.invoicing import VatCheck
from ...ledger.money import quantize, split
from ...notifications import triggers as tell
from ...orders.models import POLine
from ...text import T, english
from ...vendors.models import Vendor
from ..models import SCHEDULES, Connection, JobRun
from ..paths import UnsafePath, clean_folder
from ..runs import RunLog, job_runner, naive_utc, new_run, record_skipped
from ..schedules import previous_tick, trigger_for
from ..transport import TransferError
from . import format as edifact
from .format import joined
from .models import EdiMessage, VendorEdiSetting

log = logging.getLogger(__name__)

JOB = "fetch_edi"
SUFFIXES = (".edi", ".edifact", ".inv", ".txt")
MAX_FILE_BYTES = edifact.MAX_BYTES
HANDLED, REJECTED = ".handled", ".rejected"
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


# -- permissions -------------------------------------------------------------------------------

def may_receive(user) -> bool:
    """Institution-wide invoice operators, managers and administrators: an EDI file may hold
    invoices of any library, and its messages are not anyone's before they are matched."""
    return has_any_role(user, invoices.OPERATORS) and library_scope(user, invoices.OPERATORS) is None


# What a refusal says the person may not do (translated in the refusal).
_ACTIONS = {"receive EDI invoices": T("receive EDI invoices"), "retry EDI messages": T("retry EDI messages"),
            "see the EDI inbox": T("see the EDI inbox"), "see EDI uploads": T("see EDI uploads")}


def _require_receiver(actor, what: str = "receive EDI invoices") -> None:
    if not has_any_role(actor, invoices.OPERATORS):
        raise Forbidden(T("You may not %(action)s.", action=_ACTIONS.get(what, what)))
    if library_scope(actor, invoices.OPERATORS) is not None:
        raise Forbidden(T("Only invoice operators for the whole institution may %(action)s.",
                          action=_ACTIONS.get(what, what)))


def may_configure(user) -> bool:
    return has_any_role(user, {Role.ADMIN}) and library_scope(user, {Role.ADMIN}) is None


def _require_configurer(actor) -> None:
    if not may_configure(actor):
        raise Forbidden(T("Only institution administrators may change vendor EDI settings."))


# -- settings ----------------------------------------------------------------------------------

@dataclass
class EdiSettingFields:
    connection: Connection | None = None
    folder: str = ""
    active: bool = False
    schedule: str = "none"
    schedule_time: str = ""
    schedule_day: int | None = None
    orders_folder: str = ""            # where EDI ORDERS go ("" = "<folder>/orders")
    syntax: str = "UNOC"               # of the ORDERS files: UNOC (Latin-1) or UNOW (UTF-8)


def setting_of(vendor: Vendor) -> VendorEdiSetting | None:
    return db.session.scalar(select(VendorEdiSetting).where(VendorEdiSetting.vendor_id == vendor.id))


def save_setting(actor, vendor: Vendor, f: EdiSettingFields) -> VendorEdiSetting:
    """Create or change a vendor's EDI pickup; ``version`` changes on every save so the scheduler
    process picks the change up."""
    _require_configurer(actor)
    if f.connection is None:
        raise InvalidInput(T("Choose the connection the vendor's files are fetched from."), "connection")
    try:
        folder = clean_folder(f.folder, "folder", allow_empty=False)
    except UnsafePath as exc:
        raise InvalidInput(exc.args[0] if exc.args else str(exc), "folder") from None
    schedule = f.schedule or "none"
    if schedule not in SCHEDULES:
        raise InvalidInput(T("Choose a schedule from the list."), "schedule")
    time_, day = "", None
    if schedule in ("daily", "weekly"):
        time_ = (f.schedule_time or "").strip()
        if not _TIME.match(time_):
            raise InvalidInput(T("Give the time as HH:MM (24-hour clock)."), "schedule_time")
    if schedule == "weekly":
        if f.schedule_day is None or not 0 <= int(f.schedule_day) <= 6:
            raise InvalidInput(T("Choose the day of the week."), "schedule_day")
        day = int(f.schedule_day)
    try:
        orders_folder = clean_folder(f.orders_folder or "", T("orders folder"), allow_empty=True)
    except UnsafePath as exc:
        raise InvalidInput(exc.args[0] if exc.args else str(exc), "orders_folder") from None
    if f.syntax not in ("UNOC", "UNOW"):
        raise InvalidInput(T("Choose the syntax UNOC (Latin-1) or UNOW (UTF-8)."), "syntax")
    row = setting_of(vendor)
    if row is None:
        row = VendorEdiSetting(vendor=vendor, vendor_id=vendor.id, version=0)
        db.session.add(row)
    row.connection, row.connection_id = f.connection, f.connection.id
    row.folder, row.active = folder, bool(f.active)
    row.schedule, row.schedule_time, row.schedule_day = schedule, time_, day
    row.orders_folder, row.syntax = orders_folder, f.syntax
    row.version = (row.version or 0) + 1
    row.updated_at = utcnow()
    db.session.flush()
    return row


def edi_schedules() -> list[tuple[str, VendorEdiSetting]]:
    """For the integration scheduler: (job id, setting) of every active, scheduled vendor pickup."""
    rows = db.session.scalars(select(VendorEdiSetting).where(VendorEdiSetting.active,
                                                              VendorEdiSetting.schedule != "none")
                              .order_by(VendorEdiSetting.id)).all()
    return [(f"edi-{row.id}", row) for row in rows]


def schedule_edi_jobs(app, scheduler, known: dict, wanted: dict, first: bool = False) -> None:
    """The integration scheduler's reconcile tick, for the vendors' EDI pickups: add or retime a
    job per active, scheduled setting (id ``edi-<setting id>``), recording it in ``wanted`` and
    ``known`` (job id → version) so the tick's own clean-up removes the ones no longer wanted. At
    the scheduler's ``first`` tick, one catch-up fetch for each pickup whose last tick passed
    without a run (:func:`missed_tick`), as the profiles' sections have."""
    override = app.config.get("SCHEDULE_INTERVAL_OVERRIDE_SECONDS")
    now = utcnow(aware=True)
    for job_id, setting in edi_schedules():
        trig = trigger_for(setting, scheduler.timezone, override)
        if trig is None:
            continue
        wanted[job_id] = setting.version
        if known.get(job_id) != setting.version or scheduler.get_job(job_id) is None:
            scheduler.add_job(scheduled_fetch, trig, args=[app, setting.vendor.code], kwargs={"trigger": "schedule"},
                              id=job_id, replace_existing=True, name=f"EDI invoices of {setting.vendor.code}")
            known[job_id] = setting.version
        if first:
            tick = missed_tick(app, setting, now)
            if tick is not None:
                scheduler.add_job(scheduled_fetch, "date", args=[app, setting.vendor.code],
                                  kwargs={"trigger": "catch_up", "tick": tick}, id=f"catch-up-{job_id}",
                                  replace_existing=True, run_date=now)


def missed_tick(app, setting: VendorEdiSetting, now: datetime | None = None) -> datetime | None:
    """The tick (aware) a catch-up fetch is due for: the pickup's last tick at or before ``now``
    passed (while no scheduler ran) after the setting was last saved, and no scheduled or catch-up
    fetch started since, or the scheduled one was interrupted. One catch-up covers all the ticks
    missed; an interrupted catch-up is not caught up again (a fetch that kills its process does not
    loop)."""
    tick = previous_tick(app, setting, now or utcnow(aware=True))
    if tick is None:
        return None
    tick_utc = naive_utc(tick)
    if setting.updated_at and setting.updated_at > tick_utc:
        return None
    last = db.session.scalar(select(func.max(JobRun.started_at)).where(
        JobRun.job == JOB, JobRun.profile_code == setting.job_code, JobRun.trigger.in_(("schedule", "catch_up")),
        JobRun.status != "skipped", db.or_(JobRun.interrupted.is_(False), JobRun.trigger == "catch_up")))
    return tick if last is None or last < tick_utc else None


def scheduled_fetch(app, vendor_code: str, trigger: str = "schedule", tick: datetime | None = None) -> int | None:
    """What APScheduler calls at a pickup's tick (and for a catch-up, with the missed ``tick``):
    the fetch, carrying the tick it belongs to, so a tick has one fetch however it was started
    (two schedulers, a catch-up meeting the scheduled run of the same tick)."""
    try:
        if tick is None:
            with app.app_context():
                setting = db.session.scalar(select(VendorEdiSetting).join(Vendor).where(Vendor.code == vendor_code))
                tick = previous_tick(app, setting, utcnow(aware=True)) if setting is not None else None
                db.session.remove()
        scheduled_for = naive_utc(tick) if tick is not None else utcnow().replace(second=0, microsecond=0)
        return fetch_run(app, vendor_code, trigger=trigger, scheduled_for=scheduled_for)
    except Exception:  # a job must never take the scheduler down
        log.exception("scheduled EDI fetch of %s failed to start", vendor_code)
        return None


def record_skip(app, job_id: str, reason: str, when: datetime | None) -> None:
    """A pickup's tick that could not run (its previous fetch still going, or missed) is recorded as a
    *skipped* fetch with a warning, as a section's is. Called by the scheduler's listener."""
    with app.app_context():
        try:
            setting = db.session.get(VendorEdiSetting, int(job_id.split("-", 1)[1]))
            if setting is None:
                return
            record_skipped(JOB, None, setting.job_code, when, reason)
        except Exception:
            db.session.rollback()
            log.exception("could not record a skipped EDI tick")
        finally:
            db.session.remove()


# -- receiving ---------------------------------------------------------------------------------

@dataclass
class ReceiveResult:
    file_name: str
    sha256: str
    messages: list[EdiMessage] = field(default_factory=list)
    duplicate_of: EdiMessage | None = None
    resumed: int = 0         # messages an earlier, unfinished receipt of the same bytes kept already
    rejected: bool = False   # something in the file itself was refused: the fetch renames it .rejected

    @property
    def created(self) -> list[EdiMessage]:
        return [m for m in self.messages if m.status == "invoice_created"]

    @property
    def failed(self) -> list[EdiMessage]:
        return [m for m in self.messages if m.status == "failed"]


def _kept_indexes(sha: str) -> set[int]:
    return set(db.session.scalars(select(EdiMessage.message_index).where(EdiMessage.sha256 == sha,
                                                                          EdiMessage.status != "duplicate")))


def _lock_message(sha: str, index: int) -> bool:
    """Take the message of these bytes for this receipt: False when another receipt kept it already.
    PostgreSQL: two receipts of the same bytes at once queue on an advisory lock per message, the
    second then sees the first's row. (SQLite writers are serialised by BEGIN IMMEDIATE already.)"""
    if is_postgres(db.session):
        db.session.execute(text("SELECT pg_advisory_xact_lock(:file, :message)"),
                           {"file": int(sha[:7], 16), "message": index})
    return db.session.scalar(select(EdiMessage.id).where(EdiMessage.sha256 == sha, EdiMessage.message_index == index,
                                                         EdiMessage.status != "duplicate").limit(1)) is None


@dataclass
class ReadFile:
    """A file read without the database (:func:`read_file`): a run reads it before it takes the
    write lock, so a big file's parsing never holds up other writers."""
    sha256: str
    content: str
    messages: list[edifact.InvoiceMessage]
    refusal: str = ""   # why the file as a whole is not EDIFACT (then ``messages`` is empty); a Text


def read_file(data: bytes) -> ReadFile:
    content, _codec = edifact.decode(data)
    try:
        messages, refusal = edifact.parse_file(content).messages, ""
    except edifact.EdiParseError as exc:
        messages, refusal = [], exc.text
    return ReadFile(hashlib.sha256(data).hexdigest(), content, messages, refusal)


def receive_edi_file(actor, vendor: Vendor | None, file_name: str, data: bytes, source: str = "upload",
                     run_id: int | None = None, *, read: ReadFile | None = None,
                     on_parsed: Callable[[int], None] | None = None,
                     on_message: Callable[[EdiMessage], None] | None = None) -> ReceiveResult:
    """Keep every message of the file in the inbox and create the invoices that match.
    ``vendor``: the vendor chosen for an upload or the fetch setting's vendor (None: matched per
    message by its NAD+SU party id). ``on_parsed(count)`` is told how many messages the file holds;
    ``on_message(row)`` is called after each message: a background run commits there, so a big
    file is written message by message, and the same bytes received again after a crash take up
    the messages not yet kept (never one twice). Without it, the caller commits."""
    _require_receiver(actor)
    if source not in ("upload", "fetch"):
        raise InvalidInput(T("Unknown source."), "source")
    file_name = (file_name or "upload.edi").strip()[:255]
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(T("%(file)s is %(size)s bytes; an EDI file may have at most %(limit)s bytes.",
                             file=file_name, size=f"{len(data):,}", limit=f"{MAX_FILE_BYTES:,}"), "file")
    read = read or read_file(data)
    sha, content, messages = read.sha256, read.content, read.messages
    result = ReceiveResult(file_name=file_name, sha256=sha)
    common = {"vendor_id": vendor.id if vendor else None, "file_name": file_name, "sha256": sha, "source": source,
              "run_id": run_id, "received_by_id": actor.id}
    kept = _kept_indexes(sha)
    if kept and (not messages or 0 in kept or all(m.index in kept for m in messages)):
        return _duplicate(result, common, content)
    if on_parsed is not None:
        on_parsed(len(messages) or 1)
    if not messages:   # not EDIFACT at all: the file is kept whole
        if _lock_message(sha, 0):
            row = EdiMessage(**common, raw=content, status="failed")
            row.set_reason(read.refusal)
            db.session.add(row)
            db.session.flush()
            tell.edi_unmatched(actor, row)
            result.messages, result.rejected = [row], True
            if on_message is not None:
                on_message(row)
        return result if result.messages else _duplicate(result, common, content)
    for message in messages:
        if message.index in kept or not _lock_message(sha, message.index):
            result.resumed += 1
            continue
        row = EdiMessage(**common, message_index=message.index, message_ref=message.reference[:35],
                         invoice_number=message.number[:50], raw=message.raw, status="received")
        db.session.add(row)
        db.session.flush()
        if _process(actor, row, message, vendor):
            result.rejected = True
        result.messages.append(row)
        if on_message is not None:
            on_message(row)
    return result if result.messages else _duplicate(result, common, content)


def _duplicate(result: ReceiveResult, common: dict, content: str) -> ReceiveResult:
    """The same bytes were received before (every message of them is kept): one *duplicate* row."""
    earlier = db.session.scalar(select(EdiMessage).where(EdiMessage.sha256 == result.sha256,
                                                         EdiMessage.status != "duplicate")
                                .order_by(EdiMessage.id).limit(1))
    row = EdiMessage(**common, raw=content, status="duplicate")
    row.set_reason(T("The same file was received already: %(file)s on %(when)s (inbox #%(id)s); nothing was "
                     "created.", file=earlier.file_name, when=f"{earlier.received_at:%Y-%m-%d %H:%M}", id=earlier.id))
    db.session.add(row)
    db.session.flush()
    result.duplicate_of, result.messages, result.resumed = earlier, [row], 0
    return result


def keep_unprocessed(actor, vendor_id: int | None, file_name: str, data: bytes, source: str, run_id: int | None,
                     error: Exception) -> EdiMessage:
    """A file whose receipt failed unexpectedly (a bug, not the file's content as far as we know):
    kept whole as *failed* with the error, so nothing is lost and the pickup goes on."""
    content, _codec = edifact.decode(data)
    row = EdiMessage(vendor_id=vendor_id, file_name=(file_name or "upload.edi")[:255],
                     sha256=hashlib.sha256(data).hexdigest(), raw=content, status="failed", source=source,
                     run_id=run_id, received_by_id=actor.id if actor else None)
    row.set_reason(error.text if isinstance(error, DomainError) else
                   T("The file could not be processed (an internal error, logged): %(error)s: %(detail)s",
                     error=type(error).__name__, detail=str(error)[:500]))
    db.session.add(row)
    db.session.flush()
    return row


def retry_edi_message(actor, message: EdiMessage) -> EdiMessage:
    """Try a failed message again (after its POL or vendor was fixed). The caller commits."""
    _require_receiver(actor, "retry EDI messages")
    if not message.can_retry:
        raise InvalidInput(T("Inbox message #%(id)s is %(status)s; only failed ones are retried.", id=message.id,
                             status=message.status_label), "status")
    message.attempts += 1
    try:
        parsed = edifact.parse_file(message.raw)
    except edifact.EdiParseError as exc:
        message.set_reason(exc.text)
        db.session.flush()
        return message
    if message.message_index == 0 and len(parsed.messages) > 1:
        # A whole file kept because it could not be read, readable now: its messages get rows.
        for one in parsed.messages:
            row = EdiMessage(vendor_id=message.vendor_id, file_name=message.file_name, sha256=message.sha256,
                             message_index=one.index, message_ref=one.reference[:35], invoice_number=one.number[:50],
                             raw=one.raw, status="received", source=message.source, received_by_id=actor.id)
            db.session.add(row)
            db.session.flush()
            _process(actor, row, one, message.vendor)
        message.status = "duplicate"
        message.set_reason(T("Read again: its messages are listed separately."))
        db.session.flush()
        return message
    one = parsed.messages[0]
    message.message_ref, message.invoice_number = one.reference[:35], one.number[:50]
    _process(actor, message, one, message.vendor)
    return message


def get_message(user, message_id) -> EdiMessage:
    _require_receiver(user, "see the EDI inbox")
    row = db.session.get(EdiMessage, message_id) if str(message_id).isdigit() else None
    if row is None:
        raise NotFound(T("No such EDI message."))
    return row


def inbox_query(status: str | None = None):
    q = select(EdiMessage).order_by(EdiMessage.id.desc())
    if status:
        q = q.where(EdiMessage.status == status)
    return q


def inbox_counts() -> dict[str, int]:
    return dict(db.session.execute(select(EdiMessage.status, func.count()).group_by(EdiMessage.status)).all())


# -- one message → one invoice -----------------------------------------------------------------

def _process(actor, row: EdiMessage, message: edifact.InvoiceMessage, vendor: Vendor | None) -> bool:
    """Match and create; on any error the row is *failed* with the reason. True when the message
    itself was refused (unreadable, incomplete, amounts out of range) or broke something of ours:
    not a matter of fixing a POL or a vendor and retrying. A message that newly fails is told to
    the EDI inbox's operators (a retry that fails again is not told twice)."""
    was_failed = row.status == "failed"

    def failed(reason: str, refused: bool) -> bool:
        row.status = "failed"
        row.set_reason(reason)
        db.session.flush()
        if not was_failed:
            tell.edi_unmatched(actor, row)
        return refused

    if message.refused:
        return failed(message.refused, True)
    try:
        vendor = _vendor_for(message, vendor)
        row.vendor_id = vendor.id
        fields = _fields(actor, row, message, vendor)
        invoice = _create(actor, fields)
    except DomainError as exc:
        return failed(exc.text, bool(message.errors))
    except SQLAlchemyError as exc:   # e.g. the same invoice number committed meanwhile by someone else
        log.warning("EDI message %s: %s", row.id, exc)
        return failed(T("The invoice could not be saved: %(error)s.", error=type(exc).__name__), False)
    except Exception as exc:  # noqa: BLE001 - a bug must stop neither the other messages nor the pickup
        log.exception("EDI message %s could not be processed", row.id)
        return failed(edifact.unexpected(exc), True)
    row.status, row.invoice_id = "invoice_created", invoice.id
    row.set_reason("")
    try:
        with db.session.begin_nested():
            invoices.process_invoice(actor, invoice)
    except DomainError as exc:
        row.set_reason(T("Created In Review; the workflow stopped: %(reason)s", reason=exc.text))
    except Exception as exc:  # noqa: BLE001 - as above: the invoice stays In Review
        log.exception("EDI message %s: the workflow failed", row.id)
        row.set_reason(T("Created In Review; the workflow stopped (an internal error, logged): %(error)s.",
                         error=type(exc).__name__))
    db.session.flush()
    return False


def _identifiers(vendor: Vendor) -> set[str]:
    return {v.strip().upper() for v in (vendor.code, vendor.financial_sys_code, vendor.edi_vendor_id,
                                        vendor.additional_code) if v and v.strip()}


def _vendor_for(message: edifact.InvoiceMessage, vendor: Vendor | None) -> Vendor:
    supplier = message.supplier_id.strip().upper()
    if vendor is not None:
        if supplier and supplier not in _identifiers(vendor):
            raise InvalidInput(T("The supplier in NAD+SU is %(supplier)s, which is not vendor %(vendor)s (its code, "
                                 "financial system code or EDI id). Fix the vendor's EDI id, then retry.",
                                 supplier=message.supplier_id, vendor=vendor.code), "vendor")
        return vendor
    if not supplier:
        raise InvalidInput(T("No vendor: the message has no supplier (NAD+SU) and none was chosen."), "vendor")
    matches = [v for v in db.session.scalars(select(Vendor).where(func.upper(Vendor.code) == supplier)).all()]
    if not matches:
        matches = db.session.scalars(select(Vendor).where(
            (func.upper(Vendor.edi_vendor_id) == supplier) | (func.upper(Vendor.financial_sys_code) == supplier)
            | (func.upper(Vendor.additional_code) == supplier))).all()
    if len(matches) != 1:
        raise InvalidInput(T("No single vendor has the supplier id %(supplier)s of NAD+SU (%(n)s found). Set it as "
                             "the vendor's EDI id, then retry.", supplier=message.supplier_id, n=len(matches)),
                           "vendor")
    return matches[0]


def _pol_shares(pol: POLine) -> list[Share]:
    """The POL's fund distribution as percents adding up to exactly 100."""
    rows = list(pol.distribution)
    if not rows:
        return []
    if all(d.percent is not None for d in rows):
        percents = [d.percent for d in rows]
    else:
        weights = [abs(d.amount) for d in rows] if any(d.amount for d in rows) else [1] * len(rows)
        percents = split(Decimal(100), weights, "EUR")   # two decimals, like percents
    return [Share(d.fund, pct) for d, pct in zip(rows, percents)]


def _fields(actor, row: EdiMessage, message: edifact.InvoiceMessage, vendor: Vendor) -> invoices.InvoiceFields:
    if message.errors:
        raise InvalidInput(joined(message.errors), "edi")
    numbers = {item.order_line for item in message.items}
    pols = {pol.number: pol for pol in db.session.scalars(select(POLine).where(POLine.number.in_(numbers)))}
    problems = []
    for item in message.items:
        pol = pols.get(item.order_line)
        if pol is None:
            problems.append(T("Line %(line)s: order line %(pol)s unknown.", line=item.position,
                              pol=item.order_line))
        elif pol.vendor_id != vendor.id:
            problems.append(T("Line %(line)s: order line %(pol)s is ordered from vendor %(ordered_from)s, not "
                              "%(vendor)s.", line=item.position, pol=pol.number, ordered_from=pol.vendor.code,
                              vendor=vendor.code))
    if problems:
        raise InvalidInput(joined(problems), "lines")
    existing = db.session.scalar(select(Invoice).where(Invoice.vendor_id == vendor.id,
                                                       func.lower(Invoice.number) == message.number.lower()))
    if existing is not None:
        raise InvalidInput(T("Duplicate: invoice %(number)s of vendor %(vendor)s already exists (id %(id)s, dated "
                             "%(date)s).", number=existing.number, vendor=vendor.code, id=existing.id,
                             date=existing.invoice_date.isoformat()), "number")
    currency = message.currency or vendor.currency
    owners = {pols[item.order_line].owner_library_id for item in message.items}
    owner_id = owners.pop() if len(owners) == 1 else None
    owner = next((pols[i.order_line].owner_library for i in message.items), None) if owner_id else None
    line_vat = any(item.vat_percent or item.vat_amount for item in message.items)
    lines = [_line(item, pols[item.order_line], currency, line_vat, message.is_credit_note) for item in message.items]
    charges, charge_lines = _charges(message, lines, currency)
    lines += charge_lines
    total = message.total_amount
    if total is None:
        total = sum((ln.total for ln in lines), Decimal(0)) + sum(charges.values(), Decimal(0)) \
            + (message.tax_amount or Decimal(0) if not line_vat else
               sum((item.vat_amount or Decimal(0) for item in message.items), Decimal(0)))
    vat_level = "line" if line_vat else ("invoice" if message.vat_percent or message.tax_amount else "none")
    return invoices.InvoiceFields(
        number=message.number, vendor=vendor, invoice_date=message.invoice_date, total_amount=total,
        currency=currency, owner_library=owner, reference_number=f"EDI message {message.reference}"[:100],
        notes=f"EDI {message.document_label.lower()} from {row.file_name} (message {message.reference}).",
        pro_rata=None, charges=charges, vat_level=vat_level,
        vat_percent=message.vat_percent if vat_level == "invoice" else None,
        vat_amount=message.tax_amount if vat_level == "invoice" else None, lines=lines)


def _line(item: edifact.InvoiceItem, pol: POLine, currency: str, line_vat: bool, refund: bool) -> invoices.LineFields:
    """A line on the POL with its distribution; fully invoiced when it bills every ordered copy
    (never for a credit note)."""
    quantity = item.quantity or 1
    amount = item.amount
    unit = item.unit_price if item.unit_price is not None else amount / quantity
    unit = quantize(unit, currency)
    total = amount if amount is not None else quantize(item.unit_price * quantity, currency)
    notes = "; ".join(f"{'allowance' if a.indicator == 'A' else 'charge'} {english(a.label)} {a.amount}"
                      for a in item.allowances_charges)   # stored: in English (a label may be a Text)
    return invoices.LineFields(
        unit_price=unit, quantity=quantity, po_line=pol, total=total,
        fully_invoiced=not refund and quantity >= pol.quantity, reporting_code=pol.reporting_code,
        price_note=(item.description or pol.title)[:300],
        vat_percent=item.vat_percent if line_vat else None, vat_amount=item.vat_amount if line_vat else None,
        distribution_method="percent", distribution=_pol_shares(pol),
        note=f"EDI line {item.position}" + (f" ({notes})" if notes else ""))


def _charges(message: edifact.InvoiceMessage, lines: list[invoices.LineFields], currency: str):
    """Header allowances/charges → {charge type: amount} with pro rata, else charge lines."""
    own = {code.upper(): code for code in invoices.charge_types()}
    summed: dict[str, Decimal] = {}
    for alc in message.charges:
        code = own.get(alc.code.upper(), alc.charge_type) if alc.code else alc.charge_type
        summed[code] = summed.get(code, Decimal(0)) + alc.amount
    summed = {code: amount for code, amount in summed.items() if amount}
    if not summed or settings.get("invoice_use_pro_rata"):
        return summed, []
    weights: dict = {}
    for ln in lines:
        for share in ln.distribution:
            part = abs(ln.total) * Decimal(share.value) / 100
            weights[share.fund] = weights.get(share.fund, Decimal(0)) + part
    funds = sorted(weights, key=lambda fund: fund.id)
    percents = split(Decimal(100), [weights[f] for f in funds], "EUR") if funds and any(weights.values()) else []
    shares = [Share(fund, pct) for fund, pct in zip(funds, percents) if pct]
    return {}, [invoices.LineFields(line_type=code, unit_price=amount, quantity=1, total=amount, fully_invoiced=False,
                               price_note=f"EDI {code} charge", distribution_method="percent", distribution=shares)
                for code, amount in summed.items()]


def _create(actor, fields: invoices.InvoiceFields) -> Invoice:
    """create_invoice in a savepoint; the vendor/VAT question is answered with what the vendor sent."""
    try:
        with db.session.begin_nested():
            return invoices.create_invoice(actor, fields, channel="edi")
    except invoices.ConfirmationNeeded as exc:
        answer = "no_vat" if exc.check is VatCheck.CONFIRM_NO_VAT_GOVERNMENTAL else "yes"
        question = english(exc.text)   # the notes are stored: in English
        fields.notes = (fields.notes + f" VAT check: {question} Saved as the vendor sent it.").strip()
        with db.session.begin_nested():
            return invoices.create_invoice(actor, fields, channel="edi", confirm=answer)


# -- the fetch job (its body: jobs/fetch_edi.py) ---------------------------------------------------

def fetch_run(app, vendor_code: str, **kw) -> int | None:
    """What the scheduler and the "Fetch now" button start: the ``fetch_edi`` job handed to
    ``create_app`` (``jobs.fetch_edi.run``)."""
    return job_runner(app, JOB)(app, vendor_code, **kw)


def start_run(setting: VendorEdiSetting, actor: User, trigger: str, scheduled_for: datetime | None) -> JobRun | None:
    code = setting.job_code
    # Serialise starts of this vendor's runs (the setting row is the lock on PostgreSQL).
    db.session.execute(select(VendorEdiSetting.id).where(VendorEdiSetting.id == setting.id).with_for_update())
    # A tick has its fetch once; a skipped or interrupted one leaves the tick to a catch-up.
    if scheduled_for is not None and db.session.scalar(select(JobRun.id).where(
            JobRun.job == JOB, JobRun.profile_code == code, JobRun.scheduled_for == scheduled_for,
            JobRun.status != "skipped", JobRun.interrupted.is_(False)).limit(1)):
        db.session.rollback()
        return None
    return new_run(JOB, code, actor, trigger, scheduled_for, "this fetch")   # a dead fetch is interrupted first


def start_fetch(actor, vendor: Vendor) -> JobRun:
    """The run of a "Fetch now" (committed; *skipped* when one of this vendor is still running): the
    page shows it at once while a thread does the work (:func:`fetch_run` with its id)."""
    _require_configurer(actor)
    setting = setting_of(vendor)
    if setting is None:
        raise InvalidInput(T("%(vendor)s has no EDI settings yet.", vendor=vendor.code), "vendor")
    return start_run(setting, actor, "manual", None)


def receive_logged(actor, vendor_id: int | None, file_name: str, data: bytes, source: str, run_id: int,
                   run_log: RunLog, *, message_progress: bool = False) -> bool:
    """:func:`receive_edi_file` inside a run: the file read before any database work (no write lock
    held meanwhile), then an event and a commit per message. A failure that is not the file's
    content (a bug) rolls back the unfinished message and keeps the file whole in the inbox. True
    when the file holds something refused (it is set aside as ``.rejected``)."""

    def parsed(count: int) -> None:
        run_log.info(T("%(file)s: %(n)s message(s).", file=file_name, n=count), file=file_name)
        if message_progress:
            run_log.progress(0, count)
        run_log.commit()

    def one(row: EdiMessage) -> None:
        if message_progress:
            run_log.progress(run_log.done + 1)
        record = row.invoice_number or f"message {row.message_index}"
        if row.status == "invoice_created":
            run_log.info(T("Invoice %(number)s created (inbox #%(id)s).", number=row.invoice_number, id=row.id),
                         file=file_name, record=record)
            run_log.count(records=1)
        elif row.status == "duplicate":
            run_log.warning(row.reason_message, file=file_name, record=record)
        else:
            run_log.error(T("Kept in the EDI inbox (#%(id)s): %(reason)s", id=row.id, reason=row.reason_message),
                          file=file_name, record=record)
            run_log.count(records=1, failed=1)
        run_log.commit()

    try:
        read = read_file(data) if len(data) <= MAX_FILE_BYTES else None
        vendor = db.session.get(Vendor, vendor_id) if vendor_id else None
        result = receive_edi_file(actor, vendor, file_name, data, source, run_id, read=read,
                                  on_parsed=parsed, on_message=one)
    except TransferError:
        raise
    except Exception as exc:  # noqa: BLE001 - never let one file stop the others
        log.exception("EDI file %s could not be received", file_name)
        run_log.rollback()
        row = keep_unprocessed(actor, vendor_id, file_name, data, source, run_id, exc)
        one(row)
        return True
    if result.duplicate_of is not None:
        one(result.messages[0])   # the duplicate row (not yet logged: it comes without on_message)
    if result.resumed:
        run_log.info(T("%(n)s message(s) of %(file)s were kept by an earlier, unfinished receipt and are not read "
                       "again.", n=result.resumed, file=file_name), file=file_name)
    return result.rejected


# -- an uploaded file, received as a background run --------------------------------------------

UPLOAD_JOB = "upload_edi"


def start_upload(actor, vendor: Vendor | None, file_name: str, data: bytes) -> JobRun:
    """The run that receives an uploaded file (job ``upload_edi``, listed on Monitor Jobs): the page
    answers at once and follows the run; :func:`run_edi_upload` does the work. The caller commits,
    then starts it."""
    _require_receiver(actor)
    file_name = (file_name or "upload.edi").strip()[:255]
    if not data:
        raise InvalidInput(T("%(file)s is empty.", file=file_name), "file")
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(T("%(file)s is more than %(limit)s bytes, the most an EDI file may have.", file=file_name,
                             limit=f"{MAX_FILE_BYTES:,}"), "file")
    receiving = T("Receiving %(file)s.", file=file_name)
    run = JobRun(job=UPLOAD_JOB, profile_id=None, profile_code=f"EDI-{vendor.code}" if vendor else "EDI",
                 trigger="manual", actor_id=actor.id, heartbeat_at=utcnow())
    run.say(receiving)
    db.session.add(run)
    db.session.flush()
    return run


def get_upload(user, run_id) -> tuple[JobRun, list[EdiMessage]]:
    """An upload's run and the inbox rows it wrote so far."""
    _require_receiver(user, "see EDI uploads")
    run = db.session.get(JobRun, run_id) if str(run_id).isdigit() else None
    if run is None or run.job != UPLOAD_JOB:
        raise NotFound(T("No such EDI upload."))
    rows = db.session.scalars(select(EdiMessage).where(EdiMessage.run_id == run.id).order_by(EdiMessage.id)).all()
    return run, list(rows)


def run_edi_upload(app, run_id: int, vendor_id: int | None, file_name: str, data: bytes) -> None:
    """The body of an upload run, in its own thread and session: every message committed as it is
    read. An upload that dies part-way is finished by uploading the same file again."""
    with app.app_context():
        token = write_intent.set(True)
        try:
            run = db.session.get(JobRun, run_id)
            run_log = RunLog(run)
            try:
                actor = db.session.get(User, run.actor_id)
                db.session.commit()
                receive_logged(actor, vendor_id, file_name, data, "upload", run_id, run_log, message_progress=True)
            except Exception as exc:  # noqa: BLE001 - the run must end visibly whatever happened
                log.exception("EDI upload %s failed", file_name)
                run_log.rollback()
                message = T("Unexpected error: %(error)s: %(detail)s", error=type(exc).__name__, detail=str(exc))
                run_log.error(message, file=file_name)
                run_log.finish("failed", message)
            else:
                run_log.count(files=1)
                if run_log.records_failed:
                    summary = T("%(file)s: %(n)s message(s) read, %(failed)s kept in the EDI inbox as failed.",
                                file=file_name, n=run_log.records, failed=run_log.records_failed)
                else:
                    summary = T("%(file)s: %(n)s message(s) read.", file=file_name, n=run_log.records)
                run_log.finish("completed", summary)
        finally:
            write_intent.reset(token)
            db.session.remove()
