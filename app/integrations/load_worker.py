"""Run a big load in a process of its own.

A load is mostly Python work (reading the spreadsheet, checking, building thousands of rows). In
a thread of the web process it would take turns on Python's interpreter lock with every request
that process serves, and each page would wait for its turn. So a big load (an Excel file of at
least ``LOAD_PROCESS_FROM_BYTES``) runs as a child process: ``python -m app.integrations.load_worker``
reads one pickled frame on stdin (the app's configuration, the run, the body's dotted name and
its arguments; parent to child only, never from elsewhere), builds the app and runs the body
through :func:`app.integrations.loads.execute`.

The child is started in a session of its own, so it finishes its run even if the web worker that
started it is recycled. A thread of the parent waits for it; should the child die without ending
its run (killed, out of memory), that thread marks the run interrupted at once, and loading the
same input again carries on from the last committed chunk.
"""
from __future__ import annotations

import importlib
import logging
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "app.integrations.load_worker"]


def _config(app) -> dict:
    """The app's effective configuration, as far as it can be pickled."""
    out = {}
    for key, value in app.config.items():
        try:
            pickle.dumps(value)
        except Exception:  # noqa: BLE001 (a value that cannot travel stays at its default)
            continue
        out[key] = value
    out["SCHEDULER_ENABLED"] = False
    return out


def spawn(app, run_id: int, body, *args) -> subprocess.Popen:
    """Start ``body(run_log, chunks, *args)`` as run ``run_id`` in a child process."""
    payload = pickle.dumps({"config": _config(app), "run_id": run_id, "body": f"{body.__module__}:{body.__qualname__}",
                            "args": args})
    proc = subprocess.Popen(COMMAND, stdin=subprocess.PIPE, cwd=PROJECT_ROOT, start_new_session=True)
    # The child reads its work once Python is up: hand it over (and wait for it) in a thread, so
    # the request that started the load answers at once.
    threading.Thread(target=_hand_over_and_reap, args=(app, proc, run_id, payload), name=f"reap-{run_id}",
                     daemon=True).start()
    return proc


def _hand_over_and_reap(app, proc: subprocess.Popen, run_id: int, payload: bytes) -> None:
    try:
        proc.stdin.write(payload)
        proc.stdin.close()
    except OSError:
        log.exception("the load process of run #%s did not take its work", run_id)
    code = proc.wait()
    from ..extensions import db
    from . import loads
    from .models import BulkLoad, JobRun
    with app.app_context():
        try:
            run = db.session.get(JobRun, run_id)
            if run is not None and run.status == "running":
                loads.interrupt(run, f"Interrupted: the load process stopped (exit code {code}). Load the same "
                                     "input again to carry on.")
                load = db.session.scalar(db.select(BulkLoad).filter_by(run_id=run_id))
                if load is not None:
                    load.status = "failed"
                db.session.commit()
        except Exception:  # noqa: BLE001 (a reaper must not die noisily; the run then looks stale)
            db.session.rollback()
            log.exception("could not mark run #%s interrupted", run_id)
        finally:
            db.session.remove()


def main() -> int:
    payload = pickle.load(sys.stdin.buffer)
    from app import create_app
    from app.extensions import db

    from . import loads
    from .models import JobEvent
    app = create_app(payload["config"])
    module, name = payload["body"].split(":")
    body = getattr(importlib.import_module(module), name)
    with app.app_context():
        db.session.add(JobEvent(run_id=payload["run_id"], level="info",
                                message=f"Running in a process of its own (pid {os.getpid()})."))
        db.session.commit()
        db.session.remove()
    loads.execute(app, payload["run_id"], body, *payload["args"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
