"""The child process of a big load (``python -m jobs.load_worker``, started by
:func:`app.integrations.load_worker.spawn`): reads one pickled frame on stdin (the app's
configuration, the run, the body's dotted name and its arguments; parent to child only, never
from elsewhere), builds the app and runs the body through :func:`app.integrations.loads.execute`."""
from __future__ import annotations

import importlib
import os
import pickle
import sys

from app import create_app
from app.extensions import db
from app.integrations import loads
from app.integrations.models import JobEvent
from app.text import T


def main() -> int:
    payload = pickle.load(sys.stdin.buffer)
    app = create_app(payload["config"])
    module, name = payload["body"].split(":")
    body = getattr(importlib.import_module(module), name)
    with app.app_context():
        message = T("Running in a process of its own (pid %(pid)s).", pid=os.getpid())
        db.session.add(JobEvent.of(payload["run_id"], "info", message))
        db.session.commit()
        db.session.remove()
    loads.execute(app, payload["run_id"], body, *payload["args"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
