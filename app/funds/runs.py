"""The fiscal-year rollover as a run on Monitor Jobs: job ``rollover`` (preview or commit) and job
``rollover_undo``, runs of no profile (``OTHER_JOBS``) whose owner is the periods ("FY2026→FY2027").

The "Fiscal period closure" page starts a run and answers at once; the run's body
(:func:`body`: :func:`app.funds.rollover.preview`, ``commit`` or ``undo``) runs in a thread of the
web process through :func:`app.integrations.loads.execute`, and the page follows it by polling
(:mod:`app.funds.views`). ``flask rollover ...`` runs the same body in the foreground (trigger
"cli"), so Monitor Jobs lists those too.

One transaction: the body never commits; ``loads.execute`` commits the rollover's writes together
with the run's events, counters and final message when the body returns. A refusal or an error
rolls all of it back and ends the run as failed with the reason: nothing changed. A second commit
of the same periods ends failed saying they were already rolled over. A preview is kept (status
"preview", see :mod:`app.funds.rollover`) so its report can be shown after the run.

Progress: the rollover calls ``progress(step, done, total)`` from inside its own write transaction,
so the run's row cannot carry it (on SQLite that transaction holds the write lock until the end).
The figures go to :mod:`app.integrations.live`, read by the pages this process serves; on
PostgreSQL they are also written to the ``job_run`` row through a connection of their own, in a
short transaction of their own, at most every half second (``WRITE_EVERY_NS``), so every server process sees
them. The row gets the final figures with the run's end.

Limitation: on SQLite with several server processes, a page served by a process other than the one
running the rollover sees no progress (the row keeps its start figures, "working…") until the run
ends; the run's end, its events and its report are seen by all.
"""
from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from flask import url_for
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from ..auth.models import User
from ..clock import utcnow
from ..errors import DomainError
from ..extensions import db
from ..formatting import money
from ..integrations import live, loads
from ..integrations.models import JobEvent, JobRun
from ..integrations.runs import RESULT_LINKS, RunLog, interrupt_dead_runs
from ..ledger import rollover as plan
from ..text import T, Tn, stored
from . import rollover
from .models import Rollover

log = logging.getLogger(__name__)

JOB, UNDO_JOB = "rollover", "rollover_undo"
JOBS = (JOB, UNDO_JOB)
WRITE_EVERY_NS = 500_000_000   # PostgreSQL: the row's progress is written at most every 0.5 s
SHOWN = 10                  # examples named per kind of reported line, skipped funds named one by one
RECORD = "rollover {}"      # the record of the event naming the rollover a run made or undid


@dataclass(frozen=True)
class Task:
    """What a run does: ``action`` preview | commit | undo."""
    action: str
    source: str = ""
    target: str = ""
    fund_rules: plan.LedgerRules | None = None
    line_rules: plan.LineRules | None = None
    rollover_id: int | None = None
    keep: bool = True       # a preview is stored (the page's); the CLI's is not

    @property
    def job(self) -> str:
        return UNDO_JOB if self.action == "undo" else JOB


def owner(source: str, target: str) -> str:
    """The periods, as the run's owner on Monitor Jobs."""
    return f"{source}→{target}"[:40]


def start(actor: User, task: Task, trigger: str = "manual") -> tuple[JobRun, bool]:
    """The run of ``task``, committed: ``(run, started)``. While a run of the same periods is live,
    that run with ``started`` False (a double click follows the first run); one whose process is
    gone is marked interrupted first."""
    who = owner(task.source, task.target)
    for job in JOBS:
        interrupt_dead_runs(job=job)
    busy = db.session.scalar(select(JobRun).where(JobRun.job.in_(JOBS), JobRun.status == "running",
                                                  JobRun.profile_code == who).order_by(JobRun.id))
    if busy is not None:
        db.session.commit()
        return busy, False
    run = JobRun(job=task.job, profile_id=None, profile_code=who, trigger=trigger, actor_id=actor.id,
                 heartbeat_at=utcnow())
    db.session.add(run)
    db.session.commit()
    return run, True


def in_background(app, run_id: int, task: Task, actor_id: int) -> None:
    """Run it in a thread of this process (``ROLLOVER_RUNS_IN_FOREGROUND``: in this one, for tests
    whose database is one connection); the request answers at once."""
    if app.config.get("ROLLOVER_RUNS_IN_FOREGROUND"):
        # In a context of its own, as a new thread would be: no request, patient waits, writing.
        contextvars.Context().run(execute, app, run_id, task, actor_id)
        return
    threading.Thread(target=execute, args=(app, run_id, task, actor_id), name=f"run-{run_id}", daemon=True).start()


def execute(app, run_id: int, task: Task, actor_id: int, result: dict | None = None) -> None:
    """Run ``task`` as run ``run_id`` here (its own app context and session); ``result["report"]``:
    the :class:`~app.funds.rollover.Report` when it completed."""
    try:
        loads.execute(app, run_id, body, task, actor_id, result)
    finally:
        live.forget(run_id)


class Progress:
    """The rollover's ``progress(step, done, total)``: to :mod:`app.integrations.live` at once, and on
    PostgreSQL to the run's row through a connection of its own (throttled)."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        engine = db.engine
        # In tests whose database is one connection, db.engine is that connection: no second one.
        self.engine = engine if isinstance(engine, Engine) and engine.dialect.name == "postgresql" else None
        self._written = 0   # time.monotonic_ns() of the last write (integers: this is money code, no floats)

    def __call__(self, step: str, done: int, total: int) -> None:
        live.report(self.run_id, step, done, total)
        if self.engine is None or time.monotonic_ns() - self._written < WRITE_EVERY_NS:
            return
        self._written = time.monotonic_ns()
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SET LOCAL lock_timeout = 200")   # never wait behind anyone
                message = T("%(step)s: %(done)s of %(total)s", step=step, done=f"{done:,}", total=f"{total:,}")
                conn.execute(update(JobRun.__table__).where(JobRun.id == self.run_id, JobRun.status == "running")
                             .values(progress_done=done, progress_total=total, heartbeat_at=utcnow(),
                                     message=message.english, message_text=stored(message)))
                conn.commit()
        except Exception:  # noqa: BLE001 (progress is a courtesy: the run goes on without it)
            log.warning("run #%s: could not write its progress; this process still shows it", self.run_id,
                        exc_info=True)
            self.engine = None


def body(run_log: RunLog, _chunks, task: Task, actor_id: int, result: dict | None = None) -> str:
    """The run's body: the rollover, never committed here (``loads.execute`` commits it whole with the
    run's end); returns the run's message."""
    actor = db.session.get(User, actor_id)
    progress = Progress(run_log.run_id)
    try:
        if task.action == "undo":
            progress(T("Undoing rollover %(id)s", id=task.rollover_id), 0, 0)
            stored = rollover.get_rollover(task.rollover_id)
            report = rollover.undo(actor, stored, progress)
        elif task.action == "preview":
            report = rollover.preview(actor, task.source, task.target, task.fund_rules, task.line_rules, progress,
                                      keep=task.keep)
        else:
            report = rollover.commit(actor, task.source, task.target, task.fund_rules, task.line_rules, progress)
    except DomainError as exc:
        message = exc.text
        if "nothing was changed" not in message.lower():   # the English sentence
            message = T("%(problem)s Nothing was changed.", problem=message)
        raise loads.LoadRefused(message) from None
    except Exception as exc:  # the run must end visibly, and say that nothing changed
        log.exception("rollover run #%s failed", run_log.run_id)
        raise loads.LoadRefused(T("Unexpected error: %(error)s. Nothing was changed.",
                                  error=f"{type(exc).__name__}: {exc}")) from None
    if result is not None:
        result["report"] = report
    return record(run_log, task, report)


# -- what the run says ----------------------------------------------------------------------------

def _totals(items, names) -> str:
    """The sums per currency: "EUR: new allocations 1,000.00, carried over 0.00" (``names``: attribute ->
    a sentence with %(amount)s). Figures are written as the ledger's messages write them (English
    grouping, for every reader): the events are stored."""
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for item in items:
        for name in names:
            sums[item.currency][name] += getattr(item, name)
    per_currency = [T("%(currency)s: %(figures)s", currency=cur or "—",
                      figures=_joined([label(money(t[name], cur or "EUR", locale="en")) for name, label in names.items()]))
                    for cur, t in sorted(sums.items())]
    return _joined(per_currency, last=True)


def _joined(texts: list, last: bool = False):
    """Texts in a list as one Text, each translated when shown: "a, b" (``last``: "a; b")."""
    if not texts:
        return ""
    joined = texts[0]
    for text in texts[1:]:
        joined = T("%(a)s; %(b)s", a=joined, b=text) if last else T("%(a)s, %(b)s", a=joined, b=text)
    return joined


def record(run_log: RunLog, task: Task, report: rollover.Report) -> str:
    """The run's events (a summary: counts, totals, each kind of reported line with examples), its
    counters and its message; each a :class:`~app.text.Text`, shown on Monitor Jobs in its reader's
    language."""
    rid, src, tgt = report.rollover_id, report.source, report.target
    would = task.action == "preview"
    if task.action == "undo":
        # T, not Tn, for plural sentences with arguments besides their number (Chinese has one form anyway)
        figures = dict(id=rid, source=src, target=tgt, num=len(report.funds))
        run_log.info(T("Rollover %(id)s from %(source)s to %(target)s undone: its %(num)s fund gave back what it was "
                       "given, its moved PO lines are back on their old funds.", **figures) if len(report.funds) == 1
                     else T("Rollover %(id)s from %(source)s to %(target)s undone: its %(num)s funds gave back what "
                            "they were given, its moved PO lines are back on their old funds.", **figures),
                     record=RECORD.format(rid))
        run_log.count(records=len(report.funds) + len({ln.po_line for ln in report.lines}))
        run_log.progress(1, 1)
        return T("Rollover %(id)s from %(source)s to %(target)s undone: the PO lines are back on their old funds, and "
                 "what it gave the new funds is taken back.", id=rid, source=src, target=tgt)
    rolled = [f for f in report.funds if f.skipped is None]
    skipped = [f for f in report.funds if f.skipped is not None]
    moved = {ln.po_line for ln in report.lines if ln.moved}
    reported = {ln.po_line for ln in report.reported_lines}
    parts = {name for name, rules in (("ledgers", task.fund_rules), ("lines", task.line_rules)) if rules is not None}
    if "ledgers" in parts:
        totals = _totals(rolled, {"new_allocation": lambda a: T("new allocations %(amount)s", amount=a),
                                  "carried": lambda a: T("carried over %(amount)s", amount=a),
                                  "not_carried": lambda a: T("not carried %(amount)s", amount=a)})
        figures = dict(rolled=f"{len(rolled):,}", target=tgt, new=f"{sum(f.created for f in rolled):,}",
                       skipped=f"{len(skipped):,}", totals=totals)
        run_log.info(T("Funds: %(rolled)s would be rolled over to %(target)s (%(new)s new), %(skipped)s skipped. "
                       "%(totals)s.", **figures) if would else
                     T("Funds: %(rolled)s rolled over to %(target)s (%(new)s created), %(skipped)s skipped. "
                       "%(totals)s.", **figures))
        for f in skipped[:SHOWN]:
            run_log.info(T("Fund %(code)s skipped: %(reason)s.", code=f.code, reason=f.reason), record=f.code)
        if len(skipped) > SHOWN:
            run_log.info(Tn("… and %(num)d more fund skipped (see the report).",
                            "… and %(num)d more funds skipped (see the report).", len(skipped) - SHOWN))
    if "lines" in parts:
        totals = _totals([ln for ln in report.lines if ln.moved],
                         {"released": lambda a: T("released %(amount)s", amount=a),
                          "encumbered": lambda a: T("re-encumbered %(amount)s", amount=a)})
        figures = dict(moved=f"{len(moved):,}", target=tgt, reported=f"{len(reported):,}", totals=totals)
        run_log.info(T("PO lines: %(moved)s would move to the funds of %(target)s, %(reported)s left as they were. "
                       "%(totals)s.", **figures) if would else
                     T("PO lines: %(moved)s moved to the funds of %(target)s, %(reported)s left as they were. "
                       "%(totals)s.", **figures))
        reasons = Counter()
        examples: dict[str, list[str]] = defaultdict(list)
        for ln in report.reported_lines:
            if ln.po_line in examples[ln.reason]:
                continue
            reasons[ln.reason] += 1
            if len(examples[ln.reason]) < SHOWN:
                examples[ln.reason].append(ln.po_line)
        for reason, count in reasons.most_common():
            figures = dict(count=f"{count:,}", reason=plan.REASONS.get(reason, reason),
                           lines=", ".join(examples[reason]), more=f"{count - SHOWN:,}")
            run_log.warning(T("%(count)s PO line(s) left as they were: %(reason)s (%(lines)s and %(more)s more).",
                              **figures) if count > SHOWN else
                            T("%(count)s PO line(s) left as they were: %(reason)s (%(lines)s).", **figures),
                            record=examples[reason][0])
    run_log.count(records=len(report.funds) + len(moved | reported), failed=len(reported))
    done = len(report.funds) + len(moved | reported)
    run_log.progress(done, done)
    counts = []
    if "ledgers" in parts:
        counts.append(T("%(count)s fund", count=f"{len(rolled):,}") if len(rolled) == 1 else
                      T("%(count)s funds", count=f"{len(rolled):,}"))
    if "lines" in parts:
        lines = dict(count=f"{len(moved):,}", reported=f"{len(reported):,}")
        one = len(moved) == 1
        if would:
            counts.append(T("%(count)s PO line would move, %(reported)s would be reported", **lines) if one else
                          T("%(count)s PO lines would move, %(reported)s would be reported", **lines))
        else:
            counts.append(T("%(count)s PO line moved, %(reported)s reported", **lines) if one else
                          T("%(count)s PO lines moved, %(reported)s reported", **lines))
    if would:
        if rid:
            run_log.info(T("Preview of %(source)s → %(target)s (kept as preview %(id)s): nothing was changed.",
                           source=src, target=tgt, id=rid), record=RECORD.format(rid))
        else:
            run_log.info(T("Preview of %(source)s → %(target)s: nothing was changed.", source=src, target=tgt))
        return T("Preview of %(source)s → %(target)s: %(counts)s. Nothing was changed.", source=src, target=tgt,
                 counts=_joined(counts, last=True))
    run_log.info(T("Rollover %(id)s committed.", id=rid), record=RECORD.format(rid))
    return T("Fiscal period %(source)s rolled over to %(target)s: %(counts)s.", source=src, target=tgt,
             counts=_joined(counts))


def running() -> list[JobRun]:
    """The rollover runs going on now."""
    return list(db.session.scalars(select(JobRun).where(JobRun.job.in_(JOBS), JobRun.status == "running")
                                   .order_by(JobRun.id)))


# -- what a run made ------------------------------------------------------------------------------

def rollover_id_of(run: JobRun) -> int | None:
    """The rollover ``run`` made (a commit, a kept preview) or undid, once it completed."""
    if run.job not in JOBS or run.status != "completed":
        return None
    found = db.session.scalar(select(JobEvent.record).where(JobEvent.run_id == run.id,
                                                            JobEvent.record.like("rollover %"))
                              .order_by(JobEvent.id.desc()).limit(1))
    return int(found.split()[1]) if found else None


def run_of_rollover(rollover_id: int) -> JobRun | None:
    """The run that made rollover ``rollover_id``, when it was made by one."""
    return db.session.scalar(select(JobRun).join(JobEvent, JobEvent.run_id == JobRun.id)
                             .where(JobRun.job == JOB, JobEvent.record == RECORD.format(rollover_id))
                             .order_by(JobRun.id).limit(1))


def result_link(run: JobRun) -> tuple[str, str] | None:
    rid = rollover_id_of(run)
    if rid is None or db.session.get(Rollover, rid) is None:
        return None
    if run.job == JOB and db.session.get(Rollover, rid).status == "preview":
        return T("Preview report: rollover %(id)s", id=rid), url_for("funds.show_rollover", rollover_id=rid)
    return T("Report: rollover %(id)s", id=rid), url_for("funds.show_rollover", rollover_id=rid)


RESULT_LINKS[JOB] = RESULT_LINKS[UNDO_JOB] = result_link
