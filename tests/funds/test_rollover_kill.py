"""A rollover commit killed mid-run (SIGKILL of the CLI process) leaves the database exactly as it
was: the same balances and row counts, a clean ledger check, and the rollover can then run whole."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.funds import services as fs
from app.funds.models import FiscalPeriod, Fund, FundTransaction, Rollover, RolloverFund, RolloverLine
from app.orders.models import POLine, POLineFund
from testkit import rollover as big

pytestmark = pytest.mark.committing

ROOT = Path(__file__).resolve().parents[2]

# The real CLI in its own process; once the rollover has written its first rows (still inside its
# transaction: after its first INSERT of rollover rows) it says so in a file, and carries on.
CLI = """
import sys
from pathlib import Path
from flask.cli import ScriptInfo
from sqlalchemy import event
from app import create_app
from app.extensions import db
from app.funds.models import RolloverFund, RolloverLine

uri, started, *args = sys.argv[1:]
app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "t", "TESTING": True})
with app.app_context():
    tables = (RolloverFund.__tablename__, RolloverLine.__tablename__)

    @event.listens_for(db.engine, "after_cursor_execute")
    def mark(conn, cursor, statement, *rest):   # rows are written as ORM objects or batched INSERTs
        words = statement.split(None, 3)
        if words[:2] == ["INSERT", "INTO"] and words[2].strip('"') in tables and not Path(started).exists():
            Path(started).write_text("running")
app.cli.main(args=args, prog_name="flask", obj=ScriptInfo(create_app=lambda: app))
"""


def snapshot():
    db.session.rollback()
    db.session.expire_all()
    counts = tuple(db.session.scalar(select(func.count()).select_from(m))
                   for m in (Fund, FundTransaction, Rollover, RolloverFund, RolloverLine, POLineFund, POLine))
    balances = db.session.execute(select(Fund.id, Fund.allocated, Fund.encumbered, Fund.expended)
                                  .order_by(Fund.id)).all()
    shares = db.session.execute(select(POLineFund.id, POLineFund.fund_id, POLineFund.encumbered_amount)
                                .order_by(POLineFund.id)).all()
    db.session.rollback()   # hold no lock while the other process runs
    return counts, balances, shares


def kill_mid_run(app, tmp_path, *args):
    started = tmp_path / f"started-{time.monotonic_ns()}"
    proc = subprocess.Popen([sys.executable, "-c", CLI, app.config["SQLALCHEMY_DATABASE_URI"], str(started), *args],
                            cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert started.exists() and proc.poll() is None, f"the rollover did not start: {proc.communicate()[0]!r}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, "the process ended before it was killed"


def test_kill_mid_commit_leaves_the_database_as_it_was(make_app, tmp_path):
    app = make_app("sqlite", world=True)
    with app.app_context():
        from app.auth.models import User
        admin = db.session.scalars(select(User).filter_by(username="admin")).one()
        period = db.session.scalars(select(FiscalPeriod).filter_by(code="FY2026")).one()
        big.build(admin, period, funds=300, lines=3000, target="FY2027")
        runner = app.test_cli_runner()
        before = snapshot()

        kill_mid_run(app, tmp_path, "rollover", "ledgers", "--from", "FY2026", "--to", "FY2027", "--carry", "available")
        assert snapshot() == before
        assert fs.check_ledger() == []
        db.session.rollback()
        assert runner.invoke(args=["ledger", "check"]).exit_code == 0

        db.session.rollback()
        done = runner.invoke(args=["rollover", "ledgers", "--from", "FY2026", "--to", "FY2027", "--carry", "available"])
        assert done.exit_code == 0, done.output
        before = snapshot()
        kill_mid_run(app, tmp_path, "rollover", "po-lines", "--from", "FY2026", "--to", "FY2027", "--increase", "5")
        assert snapshot() == before
        assert runner.invoke(args=["ledger", "check"]).exit_code == 0

        db.session.rollback()
        done = runner.invoke(args=["rollover", "po-lines", "--from", "FY2026", "--to", "FY2027", "--increase", "5"])
        assert done.exit_code == 0, done.output
        assert "3000 moved, 0 not moved" in done.output
        assert runner.invoke(args=["ledger", "check"]).exit_code == 0
