"""Run a big load in a process of its own.

A load is mostly Python work (reading the spreadsheet, checking, building thousands of rows). In
a thread of the web process it would take turns on Python's interpreter lock with every request
that process serves, and each page would wait for its turn. So a big load (an Excel file of at
least ``LOAD_PROCESS_FROM_BYTES``) runs as a child process: ``python -m jobs.load_worker``
reads one pickled frame on stdin (the app's configuration, the run, the body's dotted name and
its arguments; parent to child only, never from elsewhere), builds the app and runs the body
through :func:`app.integrations.loads.execute`. (The child's entry point lives in ``jobs/``,
beside the app, because it builds the app: nothing in ``app/`` imports ``create_app``.)

The child is started in a session of its own, so it finishes its run even if the web worker that
started it is recycled. A thread of the parent waits for it; should the child die without ending
its run (killed, out of memory), that thread tells the caller, which marks the run interrupted at
once (:func:`app.integrations.loads.process_ended`), and loading the same input again carries on
from the last committed chunk.
"""
from __future__ import annotations

import logging
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
COMMAND = [sys.executable, "-m", "jobs.load_worker"]


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


def spawn(app, run_id: int, body, *args, on_exit: Callable[[int], None]) -> subprocess.Popen:
    """Start ``body(run_log, chunks, *args)`` as run ``run_id`` in a child process; once it ends,
    ``on_exit(exit code)`` is called in the thread that waited for it."""
    payload = pickle.dumps({"config": _config(app), "run_id": run_id, "body": f"{body.__module__}:{body.__qualname__}",
                            "args": args})
    proc = subprocess.Popen(COMMAND, stdin=subprocess.PIPE, cwd=PROJECT_ROOT, start_new_session=True)
    # The child reads its work once Python is up: hand it over (and wait for it) in a thread, so
    # the request that started the load answers at once.
    threading.Thread(target=_hand_over_and_wait, args=(proc, run_id, payload, on_exit), name=f"reap-{run_id}",
                     daemon=True).start()
    return proc


def _hand_over_and_wait(proc: subprocess.Popen, run_id: int, payload: bytes, on_exit: Callable[[int], None]) -> None:
    try:
        proc.stdin.write(payload)
        proc.stdin.close()
    except OSError:
        log.exception("the load process of run #%s did not take its work", run_id)
    on_exit(proc.wait())
