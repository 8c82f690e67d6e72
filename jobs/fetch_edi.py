"""Fetch a vendor's EDIFACT INVOIC files from its S/FTP folder: ``run(app, vendor_code, trigger=...,
scheduled_for=..., actor_id=..., run_id=...)``.

Each candidate file (``.edi``, ``.edifact``, ``.inv``, ``.txt``) is received message by message
(:func:`app.integrations.edi.services.receive_logged`: a commit after each), then renamed
``<name>.handled``, or ``<name>.rejected`` when something in it was refused as sent; a file over
the size cap is renamed ``.rejected`` unread. Nothing is ever deleted. A transfer failure ends the
run *failed*; files not yet committed stay in place for the next run. Runs are ``JobRun`` rows
(job ``fetch_edi``, no profile, profile_code ``EDI-<vendor code>``).
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from app.auth.models import User
from app.clock import utcnow
from app.database import write_intent
from app.extensions import db
from app.integrations.edi import services as edi
from app.integrations.edi.models import VendorEdiSetting
from app.integrations.models import JobRun
from app.integrations.paths import is_candidate
from app.integrations.runs import AUTOMATIC_TRIGGERS, JobRefused, RunLog, system_actor
from app.integrations.transport import TransferError, open_transport
from app.text import T
from app.vendors.models import Vendor

log = logging.getLogger(__name__)


def run(app, vendor_code: str, trigger: str = "manual", scheduled_for: datetime | None = None,
        actor_id: int | None = None, run_id: int | None = None) -> int | None:
    """Fetch a vendor's EDI files as a ``JobRun``; returns the run's id (None when an automatic run
    found the setting inactive or its tick taken). ``run_id``: a run
    :func:`~app.integrations.edi.services.start_fetch` created already (the "Fetch now" button,
    before its thread)."""
    with app.app_context():
        token = write_intent.set(True)
        try:
            return _run(vendor_code, trigger, scheduled_for, actor_id, run_id)
        finally:
            write_intent.reset(token)
            db.session.remove()


def _run(vendor_code, trigger, scheduled_for, actor_id, run_id=None) -> int | None:
    setting = db.session.scalar(select(VendorEdiSetting).join(Vendor).where(Vendor.code == vendor_code))
    if setting is None:
        raise JobRefused(f"Vendor {vendor_code} has no EDI settings.")
    if trigger in AUTOMATIC_TRIGGERS and not setting.active:
        return None
    if trigger == "schedule" and scheduled_for is None:
        scheduled_for = utcnow().replace(second=0, microsecond=0)
    actor = db.session.get(User, actor_id) if actor_id else system_actor()
    run = db.session.get(JobRun, run_id) if run_id else edi.start_run(setting, actor, trigger, scheduled_for)
    if run is None:
        return None
    if run.status != "running":
        return run.id
    run_log = RunLog(run)
    try:
        db.session.commit()   # no transaction stays open while the body waits on the network
        fetch_files(setting, actor, run.id, run_log)
    except (TransferError, JobRefused) as exc:
        run_log.rollback()
        message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)   # a Text stays one
        run_log.error(message)
        run_log.finish("failed", message)
    except Exception as exc:  # the run must end visibly whatever happened
        log.exception("EDI fetch for %s failed", vendor_code)
        run_log.rollback()
        message = T("Unexpected error: %(error)s: %(detail)s", error=type(exc).__name__, detail=str(exc))
        run_log.error(message)
        run_log.finish("failed", message)
    else:
        if run_log.records_failed:
            summary = T("%(files)s file(s), %(records)s message(s), %(failed)s failed (see the EDI inbox).",
                        files=run_log.files, records=run_log.records, failed=run_log.records_failed)
        else:
            summary = T("%(files)s file(s), %(records)s message(s).", files=run_log.files, records=run_log.records)
        run_log.finish("completed", summary)
    return run.id


def fetch_files(setting: VendorEdiSetting, actor: User, run_id: int, run_log: RunLog) -> None:
    """The body: each candidate file is received message by message (a commit after each), then
    renamed ``.handled``, or ``.rejected`` when something in it was refused as sent (see the EDI
    inbox). Whatever goes wrong with one file, the run goes on with the next; only a transfer
    failure ends it (files not yet renamed are taken up again by the next run)."""
    vendor = setting.vendor
    vendor_id, folder = vendor.id, setting.folder
    limit = edi.MAX_FILE_BYTES
    with open_transport(setting.connection) as transport:
        files = sorted((f for f in transport.list_files(folder) if is_candidate(f.name, edi.SUFFIXES)),
                       key=lambda f: f.name)
        run_log.progress(0, len(files))
        run_log.info(T("%(count)s file(s) to fetch from %(folder)s.", count=len(files), folder=folder)
                     if folder else T("%(count)s file(s) to fetch from the base folder.", count=len(files)))
        run_log.commit()
        for done, remote in enumerate(files, 1):
            if remote.size > limit:
                run_log.error(T("%(file)s is %(size)s bytes, more than the %(limit)s allowed; renamed %(renamed)s and "
                                "not read.", file=remote.name, size=f"{remote.size:,}", limit=f"{limit:,}",
                                renamed=remote.name + edi.REJECTED), file=remote.name)
                run_log.count(files=1, failed=1)
                run_log.progress(done)
                run_log.commit()
                transport.rename(folder, remote.name, remote.name + edi.REJECTED)
                continue
            data = transport.read(folder, remote.name, limit)
            rejected = edi.receive_logged(actor, vendor_id, remote.name, data, "fetch", run_id, run_log)
            run_log.count(files=1)
            run_log.progress(done)
            run_log.commit()   # the file's messages are safe in the inbox before the file is renamed
            transport.rename(folder, remote.name, remote.name + (edi.REJECTED if rejected else edi.HANDLED))
