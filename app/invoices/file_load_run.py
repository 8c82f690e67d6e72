"""Loading an Excel invoice file as a background run (job ``invoice_file``) that commits in chunks.

"Load" on the preview page starts the run and answers at once; the page then follows the run
(:mod:`.file_views`). The run reads and checks the file without holding a write lock, then creates
the invoices one by one, each in its own savepoint (all of an invoice or nothing), committing every
``LOAD_CHUNK_SECONDS`` together with the run's events and progress.

Resumable: the load is a :class:`BulkLoad` keyed by the vendor and the file's bytes, and each
invoice it creates is recorded (:class:`BulkLoadInvoice`, by the row it starts on) in the same
transaction as the invoice. A run that dies part-way keeps what it committed; loading the same
file for the same vendor again leaves those invoices out ("loaded earlier") and loads the rest,
never an invoice twice.
"""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from ..auth.models import User
from ..auth.permissions import is_institution_admin
from ..errors import DomainError
from ..extensions import db
from ..integrations import loads
from ..integrations.models import BulkLoad, BulkLoadInvoice, JobEvent, JobRun
from ..text import T
from ..vendors.models import Vendor
from . import file_loading
from . import services as invoices
from .models import Invoice

JOB = KIND = "invoice_file"
SKIPPED_SHOWN = 500   # the report page lists at most this many skipped invoices (the CSV has them all)


class _Refused(loads.LoadRefused):
    """The file is refused: ``str()`` of it is its Text itself (the run's event and report are
    recorded from ``str(exc)``), so Monitor Jobs shows the refusal in each reader's language."""

    def __str__(self) -> str:
        return self.args[0]


def load_key(vendor: Vendor, data: bytes) -> str:
    return hashlib.sha256(f"{vendor.id}:".encode() + data).hexdigest()


def loaded_earlier(vendor: Vendor, data: bytes) -> dict[int, int]:
    """First row -> run, for each invoice an earlier load of these bytes for this vendor created."""
    load = db.session.scalar(select(BulkLoad).filter_by(kind=KIND, key=load_key(vendor, data)))
    if load is None:
        return {}
    return {row: run_id for row, run_id in db.session.execute(
        select(BulkLoadInvoice.first_row, BulkLoadInvoice.run_id).filter_by(load_id=load.id))}


def start_load(app, actor: User, vendor: Vendor, data: bytes, file_name: str) -> tuple[JobRun, bool]:
    """Start loading the file in the background: ``(run, started)``; when this file is being
    loaded by a live run already, that run with ``started`` False."""
    run, load, started = loads.start(JOB, f"FILE-{vendor.code}", actor, KIND, load_key(vendor, data), file_name)
    if started:
        big = len(data) >= int(app.config.get("LOAD_PROCESS_FROM_BYTES", 100_000))
        loads.in_background(app, run.id, load_file_in_chunks, load.id, actor.id, vendor.id, data, file_name,
                            own_process=big)
    return run, started


def load_file_in_chunks(run_log, chunks, load_id: int, actor_id: int, vendor_id: int, data: bytes,
                        file_name: str) -> str:
    """The run's body; returns its report line."""
    with loads.reading():   # reading, looking up and checking take no write lock
        actor, vendor = db.session.get(User, actor_id), db.session.get(Vendor, vendor_id)
        earlier = {row: run_id for row, run_id in db.session.execute(
            select(BulkLoadInvoice.first_row, BulkLoadInvoice.run_id).filter_by(load_id=load_id))}
        try:
            check = file_loading.prepare(actor, vendor, data, file_name, earlier)
        except DomainError as exc:
            raise _Refused(T("%(file)s: %(reason)s", file=file_name, reason=exc.text)) from None
        vendor_code = vendor.code

    todo = file_loading.ready(check)
    run_log.count(files=1)
    for inv in check.invalid:
        run_log.warning(joined(inv.problems) or T("Not loaded."), file=file_name, record=inv.number[:255])
        run_log.count(records=1, failed=1)
    if check.earlier:
        runs = ", ".join(sorted({f"#{inv.loaded_earlier}" for inv in check.earlier}))
        run_log.info(_plural(
            T("%(num)s invoice was loaded earlier from this same file (run %(runs)s); it is not loaded again.",
              num=1, runs=runs),
            T("%(num)s invoices were loaded earlier from this same file (run %(runs)s); they are not loaded again.",
              num=len(check.earlier), runs=runs), len(check.earlier)), file=file_name)
    run_log.info(_plural(T("%(num)s invoice to load for vendor %(vendor)s.", num=1, vendor=vendor_code),
                         T("%(num)s invoices to load for vendor %(vendor)s.", num=len(todo), vendor=vendor_code),
                         len(todo)), file=file_name)
    run_log.progress(0, len(todo))
    chunks.commit()
    created = 0
    for done, inv in enumerate(todo, 1):
        if file_loading.load_invoice(actor, inv):
            created += 1
            db.session.add(BulkLoadInvoice(load_id=load_id, first_row=inv.first_row, number=inv.number[:50],
                                           invoice_id=inv.invoice_id, run_id=run_log.run_id))
            run_log.info(T("Invoice %(number)s created: %(status)s.", number=inv.number, status=inv.outcome),
                         file=file_name, record=inv.number[:255])
            run_log.count(records=1)
        else:
            run_log.warning(joined(inv.problems), file=file_name, record=inv.number[:255])
            run_log.count(records=1, failed=1)
        run_log.progress(done)
        chunks.maybe_commit()
    skipped = len(check.invalid) + len(todo) - created
    report = _plural(T("%(num)s invoice created for vendor %(vendor)s", num=1, vendor=vendor_code),
                     T("%(num)s invoices created for vendor %(vendor)s", num=created, vendor=vendor_code), created)
    if skipped and check.earlier:
        return T("%(created)s; %(skipped)s skipped; %(earlier)s loaded earlier from this file.", created=report,
                 skipped=skipped, earlier=len(check.earlier))
    if skipped:
        return T("%(created)s; %(skipped)s skipped.", created=report, skipped=skipped)
    if check.earlier:
        return T("%(created)s; %(earlier)s loaded earlier from this file.", created=report, earlier=len(check.earlier))
    return T("%(created)s.", created=report)


def _plural(one: str, other: str, n: int) -> str:
    """``one`` or ``other`` for ``n`` (English and Chinese have these two forms at most). Not Tn: a
    plural Text with arguments besides ``num`` cannot be translated yet (flask_babel's ngettext,
    installed by app.i18n, substitutes ``num`` alone and fails on the others)."""
    return one if n == 1 else other


def joined(sentences: list) -> str:
    """The sentences one after the other (a Text when they are: each translated when shown); ""
    when there are none. Joined pairwise, so a stored event nests only as deep as log2 of their number."""
    sentences = list(sentences)
    if len(sentences) <= 1:
        return sentences[0] if sentences else ""
    middle = len(sentences) // 2
    return T("%(first)s %(then)s", first=joined(sentences[:middle]), then=joined(sentences[middle:]))


# -- who may ----------------------------------------------------------------------------------

def may_invoice_somewhere(user) -> bool:
    """Whether ``user`` may create invoices for the institution or some library (to load a file)."""
    from ..org.models import Library
    return invoices.can_edit(user, None) or any(
        invoices.can_edit(user, lib_id) for lib_id in db.session.scalars(select(Library.id)))


def may_follow(user, run: JobRun) -> bool:
    """A load's status: for whoever started it and the institution's invoice staff."""
    return run.actor_id == user.id or invoices.can_edit(user, None) or is_institution_admin(user)


# -- what the status fragment shows -------------------------------------------------------------

def run_of(run_id: int) -> JobRun | None:
    run = db.session.get(JobRun, run_id)
    return run if run is not None and run.job == JOB else None


def load_of(run: JobRun) -> BulkLoad | None:
    return db.session.scalar(select(BulkLoad).filter_by(kind=KIND, run_id=run.id)) or db.session.scalar(
        select(BulkLoad).join(BulkLoadInvoice, BulkLoadInvoice.load_id == BulkLoad.id)
        .where(BulkLoadInvoice.run_id == run.id).limit(1))


def created_by(run: JobRun) -> list[tuple[BulkLoadInvoice, Invoice | None]]:
    return list(db.session.execute(
        select(BulkLoadInvoice, Invoice).outerjoin(Invoice, Invoice.id == BulkLoadInvoice.invoice_id)
        .where(BulkLoadInvoice.run_id == run.id).order_by(BulkLoadInvoice.first_row)).all())


def skipped_by(run: JobRun) -> list[JobEvent]:
    return list(db.session.scalars(select(JobEvent).where(JobEvent.run_id == run.id, JobEvent.level != "info")
                                   .order_by(JobEvent.id).limit(SKIPPED_SHOWN)))


def status_context(run: JobRun) -> dict:
    ended = run.status != "running"
    return {"run": run, "load": load_of(run), "ended": ended,
            "created": created_by(run) if ended else [], "skipped": skipped_by(run) if ended else [],
            "skipped_shown": SKIPPED_SHOWN}
