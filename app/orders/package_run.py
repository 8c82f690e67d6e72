"""Packaging and sending many Ready lines as a background run (job ``package_orders`` on Monitor
Jobs), so "Package and send" answers at once however many lines wait.

The page packages in the request when at most ``PACKAGE_IN_REQUEST_MAX_LINES`` lines wait (the
usual day: the result is on the page at once); more start this run in a thread of the web process
(``PACKAGE_RUNS_IN_FOREGROUND``: in the request, for tests). The run commits as it goes (every
PO is whole: its lines, its status and its letter in one commit), records one event per vendor it
could not package, and its letters are delivered by the ``send_letters`` run as usual.

The same body is the daily packaging at the institution's ``packaging_at`` (scheduled by
:mod:`app.integrations.daily`) and ``flask orders package``.
"""
from __future__ import annotations

import contextvars
import threading

from flask import current_app
from sqlalchemy import select

from ..auth.models import User
from ..clock import utcnow
from ..errors import DomainError
from ..extensions import db
from ..integrations import loads
from ..integrations.models import JobRun
from ..integrations.runs import interrupt_dead_runs
from ..text import T
from . import services as orders

JOB = "package_orders"
OWNER = "orders"


def in_request(count: int) -> bool:
    return count <= int(current_app.config.get("PACKAGE_IN_REQUEST_MAX_LINES", 100))


def start(actor: User, trigger: str = "manual") -> tuple[int, bool]:
    """The run's id, committed: ``(run_id, started)``; while one is live, that one with ``started``
    False. The caller reads nothing more before the run starts (a read would begin a transaction
    the run's commits could end up inside, in the tests' one-connection database)."""
    interrupt_dead_runs(job=JOB)
    busy = db.session.scalar(select(JobRun.id).where(JobRun.job == JOB, JobRun.status == "running"))
    if busy is not None:
        db.session.commit()
        return busy, False
    run = JobRun(job=JOB, profile_id=None, profile_code=OWNER, trigger=trigger, actor_id=actor.id,
                 heartbeat_at=utcnow())
    db.session.add(run)
    db.session.flush()
    run_id = run.id
    db.session.commit()
    return run_id, True


def launch(actor: User) -> tuple[int, bool]:
    """Start the run for ``actor`` (see :func:`start`) and set it going in the background."""
    actor_id = actor.id
    run_id, started = start(actor)
    if started:
        in_background(current_app._get_current_object(), run_id, actor_id)
    return run_id, started


def in_background(app, run_id: int, actor_id: int) -> None:
    if app.config.get("PACKAGE_RUNS_IN_FOREGROUND"):
        contextvars.Context().run(loads.execute, app, run_id, body, actor_id)
        return
    threading.Thread(target=loads.execute, args=(app, run_id, body, actor_id), name=f"run-{run_id}",
                     daemon=True).start()


def body(run_log, chunks, actor_id: int) -> str:
    actor = db.session.get(User, actor_id)
    groups = orders.packaging_groups(actor, orders.ready_for_packaging(actor))
    run_log.info(T("%(lines)s ready line(s) for %(orders)s order(s).", lines=f"{sum(len(g) for g in groups):,}",
                   orders=f"{len(groups):,}"))
    run_log.progress(0, len(groups))
    chunks.commit()
    sent = failed = 0
    for done, group in enumerate(groups, start=1):
        vendor = group[0].vendor.code
        try:
            with db.session.begin_nested():
                po = orders.package_ready_lines(actor, group)[0]
        except DomainError as exc:
            failed += 1
            run_log.error(T("%(vendor)s: not packaged: %(reason)s", vendor=vendor, reason=exc.text), record=vendor)
            run_log.count(records=1, failed=1)
        else:
            sent += 1
            run_log.count(records=1)
            if done <= 20 or done == len(groups):
                run_log.info(T("%(po)s sent to %(vendor)s with %(count)s line(s).", po=po.number, vendor=vendor,
                               count=len(group)), record=po.number)
        run_log.progress(done, len(groups))
        chunks.maybe_commit()
    if failed:
        return T("%(sent)s purchase order(s) packaged and sent; %(failed)s vendor(s) refused.", sent=f"{sent:,}",
                 failed=f"{failed:,}")
    return T("%(sent)s purchase order(s) packaged and sent.", sent=f"{sent:,}")


def daily_body(run_log, actor: User, today) -> str:
    """The scheduled (and command-line) packaging: the same run, as ``actor``."""
    return body(run_log, loads.Chunks.for_app(run_log), actor.id)
