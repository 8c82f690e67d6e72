"""The scheduler: one process only (lock file, debug reloader, two app processes, gunicorn workers,
two app servers on one PostgreSQL with takeover when the owner dies), a switch takes effect within
seconds, missed ticks give exactly one catch-up run, a run never overlaps itself and a tick that
could not run is recorded, not silent (reliability FIL-10, FIL-11, FIL-12; issue 12)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.clock import utcnow
from app.extensions import db
from app.integrations import services as integrations
from app.integrations.models import JobRun, ProfileSection
from tests.helpers import free_port, wait_port
from testkit.erp import erp_profile, local_connection

ROOT = Path(__file__).resolve().parents[2]


def _runs(job="import_payments"):
    """Snapshots of the job's runs (plain objects: the scheduler's threads keep writing)."""
    db.session.rollback()
    rows = [SimpleNamespace(status=r.status, trigger=r.trigger, message=r.message, scheduled_for=r.scheduled_for)
            for r in db.session.scalars(db.select(JobRun).filter_by(job=job).order_by(JobRun.id))]
    db.session.commit()
    return rows


def _stop(app):
    from app.integrations import scheduler
    scheduler.stop(app)


def _wait(predicate, timeout=15):
    """Poll ``predicate`` (a cheap look at files or rows) until it holds; whether it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _reconciles(app):
    """Counts the reconcile ticks of ``app``'s scheduler from now on: ``.wait(n)`` returns once n
    more ticks have ended (APScheduler's job-executed event: no guessing how long a tick takes)."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

    from app.integrations.scheduler import RECONCILE_ID
    done = threading.Semaphore(0)

    def _ended(event):
        if event.job_id == RECONCILE_ID:
            done.release()
    app.extensions["scheduler"].add_listener(_ended, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    class Ticks:
        @staticmethod
        def wait(count: int, timeout: float = 30) -> None:
            for _ in range(count):
                assert done.acquire(timeout=timeout), "the scheduler's reconcile stopped ticking"
    return Ticks


@pytest.fixture
def scheduled_app(make_app, tmp_path):
    """An app whose scheduler runs in this process; it follows the database every 0.2 s."""
    made = []

    def _make(**config):
        app = make_app("sqlite", SCHEDULER_ENABLED=True, SCHEDULER_RECONCILE_SECONDS=0.2,
                       SCHEDULER_LOCK_FILE=str(tmp_path / f"sched{len(made)}.lock"), **config)
        made.append(app)
        return app
    yield _make
    for app in made:
        _stop(app)


def _profile(app, tmp_path, schedule="hourly", active=True):
    from testkit.world import build_world
    with app.app_context():
        world = build_world()
        conn, root = local_connection(world.user("admin"), tmp_path / "erp")
        prof = erp_profile(world.user("admin"), conn, folder_root=root,
                           import_payments={"schedule": schedule, "schedule_time": "02:00"})
        if active:
            integrations.set_active(world.user("admin"), prof, "import_payments", True)
        db.session.commit()
        return prof.id, world.users["admin"]


def test_switch_takes_effect_within_seconds_and_runs_never_overlap(scheduled_app, tmp_path, monkeypatch):
    import jobs.import_payments as target
    inside, peak, lock = [0], [0], threading.Lock()
    release = threading.Event()   # a run lasts until the test has seen ticks skipped during it

    def slow_body(ctx):
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        release.wait(30)
        with lock:
            inside[0] -= 1
    monkeypatch.setattr(target, "import_payments", slow_body)
    app = scheduled_app(SCHEDULE_INTERVAL_OVERRIDE_SECONDS=1)
    profile_id, admin_id = _profile(app, tmp_path)
    with app.app_context():
        assert _wait(lambda: any(r.status == "skipped" for r in _runs()))   # ticks during the slow run
        release.set()
        assert _wait(lambda: any(r.status == "completed" for r in _runs()))
        from app.auth.models import User
        prof = integrations.get_profile(profile_id)
        integrations.set_active(db.session.get(User, admin_id), prof, "import_payments", False)
        job_id = f"section-{prof.section('import_payments').id}"
        db.session.commit()
        scheduler = app.extensions["scheduler"]
        # The reconcile removes the job within a tick; a run in progress ends.
        assert _wait(lambda: scheduler.get_job(job_id) is None, timeout=5)
        assert _wait(lambda: inside[0] == 0)
        settled = len(_runs())
        ticks = _reconciles(app)
        ticks.wait(6)   # more than a second: the section would have ticked again
        runs = _runs()
    assert len(runs) == settled, "the scheduler kept running a section that was switched off"
    assert peak[0] == 1, "two runs of one job were inside the job at once"
    skipped = [r for r in runs if r.status == "skipped"]
    assert skipped and all("still" in r.message for r in skipped)
    ticks = [r.scheduled_for for r in runs if r.status != "skipped"]
    assert len(ticks) == len(set(ticks))


def test_missed_ticks_give_one_catch_up_run(scheduled_app, make_app, tmp_path):
    # The section was set up (and last changed) 6 hours ago; the scheduler was down since.
    seed = make_app("sqlite")
    profile_id, _ = _profile(seed, tmp_path, schedule="hourly")
    with seed.app_context():
        db.session.execute(db.update(ProfileSection).values(updated_at=utcnow() - timedelta(hours=6)))
        db.session.commit()
        uri = seed.config["SQLALCHEMY_DATABASE_URI"]
    app = scheduled_app(SQLALCHEMY_DATABASE_URI=uri)
    with app.app_context():
        assert _wait(lambda: len(_runs()) >= 1)
        _reconciles(app).wait(3)   # several reconcile ticks later: still exactly one
        runs = _runs()
    assert [r.trigger for r in runs] == ["catch_up"]


def test_no_catch_up_when_the_last_tick_was_run(scheduled_app, make_app, tmp_path):
    seed = make_app("sqlite")
    profile_id, _ = _profile(seed, tmp_path, schedule="hourly")
    with seed.app_context():
        db.session.execute(db.update(ProfileSection).values(updated_at=utcnow() - timedelta(hours=6)))
        db.session.add(JobRun(job="import_payments", profile_id=profile_id, profile_code="ERP", trigger="schedule",
                              status="completed", started_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        uri = seed.config["SQLALCHEMY_DATABASE_URI"]
    app = scheduled_app(SQLALCHEMY_DATABASE_URI=uri)
    with app.app_context():
        assert _wait(lambda: app.extensions.get("scheduler_reconciled"))
        _reconciles(app).wait(3)
        assert len(_runs()) == 1


def test_lock_file_lets_one_process_schedule(make_app, tmp_path):
    lock = str(tmp_path / "one.lock")
    first = make_app("sqlite", SCHEDULER_ENABLED=True, SCHEDULER_LOCK_FILE=lock)
    second = make_app("sqlite", SCHEDULER_ENABLED=True, SCHEDULER_LOCK_FILE=lock)
    try:
        assert "scheduler" in first.extensions and "scheduler" not in second.extensions
    finally:
        _stop(first)
        _stop(second)


def _serve(env, port, debug, log):
    cmd = [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)]
    if debug:
        cmd.append("--debug")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def test_one_scheduler_across_the_reloader_and_two_processes(make_app, tmp_path):
    """`flask run --debug` (watcher + serving child) and a second `flask run` on one database and
    instance: exactly one process starts the scheduler, and no tick is run twice."""
    seed = make_app("sqlite")
    profile_id, _ = _profile(seed, tmp_path, schedule="hourly")
    db_path = Path(seed.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    with seed.app_context():
        db.session.remove()
        db.engine.dispose()
    env = {**os.environ, "FLASK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "FLASK_SECRET_KEY": '"t"',
           "FLASK_SCHEDULER_ENABLED": "true", "FLASK_SCHEDULE_INTERVAL_OVERRIDE_SECONDS": "2",
           "FLASK_SCHEDULER_RECONCILE_SECONDS": "1", "FLASK_SCHEDULER_LOCK_FILE": f'"{tmp_path / "s.lock"}"',
           "PYTHONUNBUFFERED": "1"}
    logs = [open(tmp_path / f"server{i}.log", "w+") for i in range(2)]
    ports = [free_port(), free_port()]
    procs = [_serve(env, ports[0], True, logs[0]), _serve(env, ports[1], False, logs[1])]
    text = lambda: "".join(Path(log.name).read_text() for log in logs)   # noqa: E731

    def scheduled():
        with seed.app_context():
            return [r for r in _runs() if r.trigger == "schedule"]
    try:
        for port in ports:
            wait_port(port, 30)
        # Both serving processes have said whether they run the scheduler, and it ran 3 ticks.
        assert _wait(lambda: text().count("scheduler started in pid") + text().count("scheduler not started") >= 2
                     and len(scheduled()) >= 3, timeout=60), text()
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(15)
    text = text()
    assert text.count("scheduler started in pid") == 1, text
    runs = scheduled()
    ticks = [r.scheduled_for for r in runs]
    assert len(ticks) >= 3, text
    assert len(ticks) == len(set(ticks)), "a tick was run twice"


def test_a_sent_po_is_exported_by_the_scheduler_within_seconds(scheduled_app, tmp_path):
    """The PO export has no schedule: the scheduler's reconcile tick starts it when sent POs wait."""
    from tests.integrations.order_export.helpers import sent
    from testkit.world import build_world
    from tests.orders.helpers import make_vendors
    app = scheduled_app()
    with app.app_context():
        world = build_world()
        conn, root = local_connection(world.user("admin"), tmp_path / "erp")
        erp_profile(world.user("admin"), conn, folder_root=root, active=("export_orders",))
        db.session.commit()
        pol = sent(world, make_vendors(world).eur)
        po_number = pol.po.number
        db.session.commit()
        out = root / "orders/out"
        assert _wait(lambda: any(p.name.startswith(f"PO_{po_number}_") for p in out.glob("*.xml")), timeout=20)
        assert _wait(lambda: [r.trigger for r in _runs("export_orders") if r.status == "completed"] == ["event"])


# -- which process runs the scheduler: gunicorn workers, two app servers (issue 12) ---------------------

STARTED = re.compile(r"\[(\d+)\] \[INFO\] scheduler started in pid (\d+) ")
WAITING = re.compile(r"\[(\d+)\] \[INFO\] scheduler not started in pid (\d+): pid (\d+)(?: on \S+)? runs it")


def _scheduler_pid(app):
    """The pid in the scheduler's heartbeat (written by its reconcile tick)."""
    from app.integrations.scheduler import heartbeat
    with app.app_context():
        db.session.remove()
        beat = heartbeat()
        db.session.remove()
    return beat and beat["pid"]


def _heartbeat_at(app):
    """When the scheduler's reconcile tick last wrote its heartbeat (to the second)."""
    from app.integrations.scheduler import heartbeat
    with app.app_context():
        db.session.remove()
        beat = heartbeat()
        db.session.remove()
    return beat and beat["at"]


def _sqlite_file(app) -> Path:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))


def test_H12_serve_runs_the_scheduler_in_exactly_one_gunicorn_worker(make_app, tmp_path):
    """scripts/serve with 3 workers: one runs the scheduler, the lock file names it, every worker
    says in gunicorn's log who runs it; when that worker is killed, another one takes over."""
    seed = make_app("sqlite")
    lock = tmp_path / "instance" / "scheduler.lock"
    lock.parent.mkdir()
    env = {**os.environ, "FLASK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{_sqlite_file(seed)}",
           "FLASK_SECRET_KEY": '"t"', "FLASK_SCHEDULER_LOCK_FILE": f'"{lock}"', "FLASK_SCHEDULER_RECONCILE_SECONDS": "1",
           "FLASK_SCHEDULER_LEADER_RETRY_SECONDS": "1", "PYTHON": sys.executable}
    env.pop("GUNICORN_CMD_ARGS", None)
    port, log_path = free_port(), tmp_path / "gunicorn.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([str(ROOT / "scripts/serve"), "--workers", "3", "--bind", f"127.0.0.1:{port}"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_port(port, 60)
        text = lambda: log_path.read_text()   # noqa: E731
        workers = lambda: re.findall(r"Booting worker with pid: (\d+)", text())   # noqa: E731
        assert _wait(lambda: len(workers()) == 3 and len(STARTED.findall(text())) + len(WAITING.findall(text())) == 3,
                     timeout=120), text()
        started, waiting = STARTED.findall(text()), WAITING.findall(text())
        assert len(started) == 1, text()
        leader = started[0][1]
        assert started[0][0] == leader and leader in workers()
        assert sorted(w[1] for w in waiting) == sorted(set(workers()) - {leader})
        assert all(w[0] == w[1] and w[2] == leader for w in waiting), text()   # each worker names the owner
        assert lock.read_text().strip() == leader
        assert _wait(lambda: _scheduler_pid(seed) == int(leader), timeout=30)
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=30).status == 200

        os.kill(int(leader), signal.SIGKILL)   # gunicorn starts a new worker; one process takes over
        assert _wait(lambda: len(STARTED.findall(text())) == 2, timeout=120), text()
        successor = STARTED.findall(text())[1][1]
        assert successor != leader and successor in workers()
        assert lock.read_text().strip() == successor
        assert _wait(lambda: _scheduler_pid(seed) == int(successor), timeout=30)
        # Three more reconcile ticks of the successor (its heartbeat, once a second), a few election
        # rounds (1 s) later: still one scheduler.
        beats = set()
        assert _wait(lambda: beats.add(_heartbeat_at(seed)) or len(beats) >= 4, timeout=30)
        assert len(STARTED.findall(text())) == 2, text()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def _flask_run(env, port, log):
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _lock_holder(app) -> str | None:
    from app.integrations.leadership import AdvisoryLock
    with app.app_context():
        name = db.session.scalar(db.text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objid::bigint = :key"), {"key": AdvisoryLock.KEY})
        db.session.remove()
    return name


def test_H12_two_app_servers_on_one_postgresql_run_one_scheduler_and_fail_over(make_app, tmp_path):
    """Two app processes with different instance folders (so their lock files never meet) on one
    PostgreSQL database: the advisory lock lets exactly one run the scheduler; when it is killed,
    the other takes over within a bounded time."""
    seed = make_app("postgresql")
    with seed.app_context():
        db.session.remove()
    logs, procs, ports = [], [], []
    for name in ("a", "b"):
        instance = tmp_path / f"instance-{name}"
        instance.mkdir()
        env = {**os.environ, "FLASK_SQLALCHEMY_DATABASE_URI": f'"{seed.config["SQLALCHEMY_DATABASE_URI"]}"',
               "FLASK_SECRET_KEY": '"t"', "FLASK_SCHEDULER_ENABLED": "true", "FLASK_SCHEDULER_RECONCILE_SECONDS": "1",
               "FLASK_SCHEDULER_LOCK_FILE": f'"{instance / "scheduler.lock"}"',
               "FLASK_SCHEDULER_LEADER_RETRY_SECONDS": "0.5", "PYTHONUNBUFFERED": "1"}
        logs.append(tmp_path / f"server-{name}.log")
        ports.append(free_port())
        with open(logs[-1], "w") as log:
            procs.append(_flask_run(env, ports[-1], log))
    text = lambda: "".join(p.read_text() for p in logs)   # noqa: E731
    try:
        for port in ports:
            wait_port(port, 60)
        assert _wait(lambda: len(STARTED.findall(text())) + len(WAITING.findall(text())) == 2, timeout=60), text()
        started = STARTED.findall(text())
        assert len(started) == 1, text()
        leader = int(started[0][1])
        follower = next(p for p in procs if p.pid != leader)
        assert {leader, follower.pid} == {p.pid for p in procs}
        assert WAITING.findall(text()) == [(str(follower.pid), str(follower.pid), str(leader))]
        assert f"pid {leader} " in (_lock_holder(seed) or "")
        assert _wait(lambda: _scheduler_pid(seed) == leader, timeout=30)

        os.killpg(leader, signal.SIGKILL)
        killed = time.monotonic()
        assert _wait(lambda: len(STARTED.findall(text())) == 2, timeout=30), text()
        took = time.monotonic() - killed
        assert sorted(pid for _, pid in STARTED.findall(text())) == sorted([str(leader), str(follower.pid)])
        assert f"pid {follower.pid} " in (_lock_holder(seed) or "")
        assert _wait(lambda: _scheduler_pid(seed) == follower.pid, timeout=30)
        print(f"the follower took over {took:.1f} s after the leader was killed")
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(15)
