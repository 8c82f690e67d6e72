"""A big load while other writers post, through a real server: shared by
``tests/invoices/files/test_load_contention.py`` (finding 1 of issue 12) and ``bench/bench_load_contention.py``.

The app runs as its own process (``flask --app wsgi run``, threaded, CSRF on) on a SQLite file
built here. An invoice operator uploads an Excel file of ``lines`` invoice lines, previews it and
starts the load; meanwhile ``writers`` threads of this process post and time each answer:
allocations through the API (``POST /api/v1/funds/{id}/transactions``), logins (``POST /login``)
and HTMX approvals (``POST /invoices/{id}/approve``), each writer pausing ``think`` seconds between
posts. Only the answers given while the load was going count.
"""
from __future__ import annotations

import io
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
from testkit import PASSWORD
FAST_HASH = '{"time_cost": 1, "memory_cost": 1024, "parallelism": 1}'
OK = {"api": 201, "login": 302, "approve": 200}
KINDS = ("api", "login", "approve")
LOGIN_USERS = ("viewer", "viewer-a", "viewer-b", "fundmgr", "fundmgr-a", "fundmgr-b", "buyer", "invoicer",
               "invoicer-ext")
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
HX_CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')


@dataclass
class World:
    fund_id: int
    vendor_id: int
    api_token: str
    approvals: list[int]          # invoices In Approval, for the approving writers
    file: bytes                   # the Excel file of the big load
    invoices_in_file: int


def build(lines: int = 20_000, per_invoice: int = 100, approvals: int = 120) -> World:
    """The data, inside an app context on an empty migrated database: the test world with money,
    a vendor, invoices waiting for approval and the Excel file of the load."""
    from app.auth.services import issue_api_token
    from app.extensions import db
    from app.funds import services as funds
    from app.invoices.models import Invoice
    from app.vendors import services as vendors
    from testkit.world import build_world
    from testkit.invoices import invoice

    world = build_world()
    admin = world.user("admin")
    funds.allocate(admin, world.shared, Decimal("100000000.00"), "BUDGET")
    vendor = vendors.create_vendor(admin, "BIG", vendors.VendorFields(name="Big books", currency="EUR"))
    small = vendors.create_vendor(admin, "SMALL", vendors.VendorFields(name="Small books", currency="EUR"))
    token = issue_api_token(None, world.user("fundmgr"))
    waiting = []
    for n in range(approvals):
        inv = invoice(world, world.user("invoicer"), small, number=f"APPR-{n}", amounts=(f"{100 + n}.00",),
                      library=None, process=True)   # totals differ: no "possible duplicate" review
        waiting.append(inv.id)
    db.session.commit()
    assert {db.session.get(Invoice, i).status for i in waiting} == {"in_approval"}
    data, count = workbook(lines, per_invoice)
    return World(world.shared.id, vendor.id, token, waiting, data, count)


def workbook(lines: int, per_invoice: int) -> tuple[bytes, int]:
    """An .xlsx of ``lines`` invoice lines, ``per_invoice`` to an invoice, all on fund SHARED."""
    from openpyxl import Workbook

    from app.invoices.file_loading import COLUMNS
    keys = ["number", "invoice_date", "total_amount", "quantity", "unit_price", "funds", "reporting_code"]
    label = {c.key: c.label for c in COLUMNS}
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Invoices")
    ws.append([label[k] for k in keys])
    done = count = 0
    while done < lines:
        count += 1
        n = min(per_invoice, lines - done)
        prices = [Decimal(10 + (done + i) % 90) for i in range(n)]
        for i, price in enumerate(prices):
            ws.append([f"LOAD-{count:05d}", date(2026, 3, 1 + count % 28), float(sum(prices)) if i == 0 else None,
                       1, float(price), "SHARED", f"RC{(done + i) % 7}"])
        done += n
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), count


class Server:
    """``flask --app wsgi run`` on a free port, serving ``db_path``."""

    def __init__(self, db_path: Path, work: Path, **config: str):
        from testkit.net import free_port
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = work / "server.log"
        env = {**os.environ, "FLASK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
               "FLASK_SECRET_KEY": '"contention"', "FLASK_PASSWORD_HASH_PARAMS": FAST_HASH,
               "FLASK_INVOICE_FILE_FOLDER": f'"{work / "uploads"}"', "PYTHONUNBUFFERED": "1",
               **{f"FLASK_{k}": v for k, v in config.items()}}
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port",
                                      str(self.port), "--no-reload", "--with-threads"],
                                     cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def __enter__(self) -> "Server":
        from testkit.net import wait_port
        wait_port(self.port, 60)
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(15)
        self.log.close()

    def kill(self) -> None:
        """SIGKILL: the process dies at once, in the middle of whatever it does."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(15)
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def log_in(base: str, username: str, tries: int = 10) -> requests.Session:
    """A logged-in session; a login answered 503 (busy) is tried again after its Retry-After, as a
    person would."""
    s = requests.Session()
    for _ in range(tries):
        token = CSRF.search(s.get(f"{base}/login", timeout=60).text).group(1)
        resp = s.post(f"{base}/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                      allow_redirects=False, timeout=60)
        if resp.status_code != 503:
            break
        time.sleep(float(resp.headers.get("Retry-After", "1")))
    assert resp.status_code == 302, (username, resp.status_code, resp.text[:300])
    return s


@dataclass
class Sample:
    kind: str
    at: float          # monotonic start
    seconds: float
    status: int


@dataclass
class Writer:
    kind: str
    base: str
    world: World
    think: float
    approvals: list[int] = field(default_factory=list)
    username: str = "viewer"   # who a login writer logs in as
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def run(self, stop: threading.Event) -> None:
        try:
            self._run(stop)
        except Exception as exc:  # reported by the caller
            self.errors.append(f"{type(exc).__name__}: {exc}")

    def _run(self, stop: threading.Event) -> None:
        session, csrf = None, None
        if self.kind == "approve":
            session = log_in(self.base, "invmanager")
            page = session.get(f"{self.base}/invoices/{self.approvals[0]}", timeout=60).text
            csrf = HX_CSRF.search(page).group(1)
        while not stop.is_set():
            kind = self.kind if (self.kind != "approve" or self.approvals) else "api"
            if kind == "login":
                s = requests.Session()
                token = CSRF.search(s.get(f"{self.base}/login", timeout=60).text).group(1)
                start = time.monotonic()
                resp = s.post(f"{self.base}/login", data={"username": self.username, "password": PASSWORD,
                                                          "csrf_token": token}, allow_redirects=False, timeout=60)
            elif kind == "api":
                start = time.monotonic()
                resp = requests.post(f"{self.base}/api/v1/funds/{self.world.fund_id}/transactions",
                                     json={"type": "allocation", "amount": "1.00", "reference": "WRITER"},
                                     headers={"Authorization": f"Bearer {self.world.api_token}"}, timeout=60)
            else:
                invoice_id = self.approvals.pop(0)
                start = time.monotonic()
                resp = session.post(f"{self.base}/invoices/{invoice_id}/approve",
                                    data={"tab": "summary", "form_token": secrets.token_urlsafe(18)},
                                    headers={"HX-Request": "true", "X-CSRFToken": csrf}, timeout=60)
                if resp.status_code == 503:
                    self.approvals.append(invoice_id)   # not approved: try it again later
            self.samples.append(Sample(kind, start, time.monotonic() - start, resp.status_code))
            if resp.status_code not in (OK[kind], 503):
                self.errors.append(f"{kind}: {resp.status_code} {resp.text[:300]}")
            stop.wait(self.think)


def writers(base: str, world: World, count: int = 20, think: float = 0.5) -> list[Writer]:
    """``count`` writers, the kinds in turn; each approving writer has its own invoices."""
    made = [Writer(KINDS[n % 3], base, world, think) for n in range(count)]
    # Each login writer logs in as its own user: an attempt counts as a failure until its password is
    # checked, so five logins of one user name from one address in flight at once are throttled (429),
    # which is the login throttle working, not the contention this measures.
    for n, writer in enumerate(w for w in made if w.kind == "login"):
        writer.username = LOGIN_USERS[n % len(LOGIN_USERS)]
    approving = [w for w in made if w.kind == "approve"]
    for n, invoice_id in enumerate(world.approvals):
        approving[n % len(approving)].approvals.append(invoice_id)
    return made


def start_load(base: str, world: World, marks: dict | None = None) -> tuple[int, float]:
    """Upload, preview and load the file as the invoice operator: (run id, seconds the load's own
    POST took to answer). ``marks["load"]``: when the load's POST was sent (after the preview)."""
    marks = {} if marks is None else marks
    s = log_in(base, "invoicer")
    token = CSRF.search(s.get(f"{base}/invoices/files/", timeout=60).text).group(1)
    preview = s.post(f"{base}/invoices/files/", data={"vendor": str(world.vendor_id), "csrf_token": token},
                     files={"file": ("big.xlsx", world.file)}, timeout=600)
    assert preview.status_code == 200, preview.text[:500]
    page = preview.text
    assert f"Load {world.invoices_in_file} valid invoices" in page, page[:2000]
    started = marks["load"] = time.monotonic()
    resp = s.post(f"{base}/invoices/files/load", data={
        "csrf_token": CSRF.search(page).group(1),
        "token": re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)}, allow_redirects=False,
        timeout=60)
    answered = time.monotonic() - started
    assert resp.status_code == 303, resp.text[:500]
    return int(resp.headers["Location"].rsplit("/", 1)[1]), answered


def wait_run(base: str, run_id: int, timeout: float) -> str:
    """Poll the load's status fragment (as the page does) until the run ends; its last text."""
    s = log_in(base, "invoicer")
    deadline = time.monotonic() + timeout
    while True:
        text = s.get(f"{base}/invoices/files/runs/{run_id}", headers={"HX-Request": "true"}, timeout=60).text
        if 'hx-trigger="every 1s"' not in text:
            return text
        if time.monotonic() > deadline:
            raise TimeoutError(f"run #{run_id} still going after {timeout} s")
        time.sleep(0.5)


@dataclass
class Outcome:
    writers: list[Writer]
    preview: list[Sample]      # answers to posts sent while the file was uploaded and previewed
    load: list[Sample]         # ... while the load ran (from its POST to the end of its run)
    preview_seconds: float
    load_seconds: float
    answered: float            # seconds the load's own POST took
    final: str                 # the run's last status fragment


def run_with_writers(base: str, world: World, count: int = 20, think: float = 0.5,
                     timeout: float = 600) -> Outcome:
    """The preview and the load while ``count`` writers post."""
    made = writers(base, world, count, think)
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in made]
    for t in threads:
        t.start()
    marks = {"began": time.monotonic()}
    try:
        run_id, answered = start_load(base, world, marks)
        final = wait_run(base, run_id, timeout)
    finally:
        ended = time.monotonic()
        stop.set()
        for t in threads:
            t.join(120)
    samples = [s for w in made for s in w.samples]
    load_at = marks.get("load", ended)
    return Outcome(made, [s for s in samples if marks["began"] <= s.at < load_at],
                   [s for s in samples if load_at <= s.at <= ended], load_at - marks["began"], ended - load_at,
                   answered, final)


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def summary(samples: list[Sample]) -> str:
    lines = []
    for kind in (*KINDS, "all"):
        chosen = [s for s in samples if kind == "all" or s.kind == kind]
        if not chosen:
            continue
        waits = [s.seconds for s in chosen]
        busy = sum(1 for s in chosen if s.status == 503)
        lines.append(f"{kind:>8}: {len(chosen):5d} posts, p50 {percentile(waits, 50):.3f} s, "
                     f"p95 {percentile(waits, 95):.3f} s, max {max(waits):.3f} s, {busy} answered 503")
    return "\n".join(lines)
