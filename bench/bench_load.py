"""Load test on loopback: gunicorn -w 4 'wsgi:app' on a throwaway PostgreSQL with the demo data.

50 users (threads, each its own logged-in session) walk the dashboard, the invoice, PO line and
vendor lists, an invoice page, the API (GET funds, POST a fund transaction) and allocations (the
inline allocate form fetched, then posted with its fresh one-time token). Phase (a): each user
thinks 1 s between requests (targets: 0 errors, p95 <= 300 ms); phase (b): no think time
(throughput and p50/p95/p99 per page). Then the money is checked: every fund's allocated amount
grew by exactly what the successful posts added, and ``flask ledger check`` finds no difference.

    .venv/bin/python -m bench.bench_load [--users 50] [--seconds 30] [--workers 4] [--durable]
                                         [--profile SECONDS]

Everything runs on 127.0.0.1; nothing outside the machine is contacted. The app is configured by
FLASK_* environment variables (the worktree's instance/ is not written).
"""
from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import requests

from bench.common import ROOT, free_port, postgres_cluster, wait_port

DEMO_PASSWORD = "library-demo-2026"
USERNAME = "fundmanager"               # the demo's institution-wide fund manager
FORM_FUND, API_FUND = "HUM-BKS", "SCI-BKS"
FORM_AMOUNT, API_AMOUNT = Decimal("1.00"), Decimal("0.01")
INVOICES = 40
# page -> weight of a user's next step ("allocate" is two requests: the form, then its post)
MIX = {"dashboard": 18, "invoices": 14, "po_lines": 14, "vendors": 10, "invoice": 14, "api_funds": 10,
       "api_post": 8, "allocate": 12}
P95_TARGET_MS = 300


# -- the server -----------------------------------------------------------------------------------

def _env(url: str, instance: Path) -> dict:
    from cryptography.fernet import Fernet
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update(FLASK_SQLALCHEMY_DATABASE_URI=url, FLASK_SECRET_KEY="bench-load-secret",
               FLASK_CONNECTION_SECRET_KEY=Fernet.generate_key().decode(), FLASK_SCHEDULER_ENABLED="false",
               FLASK_INVOICE_FILE_FOLDER=str(instance / "uploads"), FLASK_ATTACHMENT_FOLDER=str(instance / "files"),
               PYTHONPATH=str(ROOT))
    return env


def _flask(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _invoices(url: str) -> list[int]:
    """A few invoices of the demo's vendors on the current period's funds (the demo has none)."""
    from cryptography.fernet import Fernet
    from sqlalchemy import select

    from app import create_app
    from app.auth.models import User
    from app.extensions import db
    from app.funds import services as fs
    from app.funds.distribution import Share
    from app.funds.models import Fund
    from app.invoices import services as ivs
    from app.vendors.models import Vendor

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                      "CONNECTION_SECRET_KEY": Fernet.generate_key().decode()})
    ids = []
    with app.app_context():
        actor = db.session.scalar(select(User).filter_by(username="admin"))
        vendor = db.session.scalar(select(Vendor).filter_by(code="EBSCO"))
        period = fs.current_fiscal_period()
        funds = db.session.scalars(select(Fund).where(Fund.fiscal_period_id == period.id, Fund.kind == "allocated",
                                                      Fund.code.in_(["SOC-BKS", "DATABASES", "PRINT-SER"]))).all()
        for n in range(INVOICES):
            fund = funds[n % len(funds)]
            price = f"{50 + 7 * n}.00"
            fields = ivs.InvoiceFields(number=f"LOAD-{n + 1:03d}", vendor=vendor, invoice_date=period.start_date,
                                       total_amount=price, currency="USD",
                                       lines=[ivs.LineFields(unit_price=price, distribution=[Share(fund, "100")])])
            invoice = ivs.create_invoice(actor, fields)
            if n % 2:
                ivs.process_invoice(actor, invoice)
            ids.append(invoice.id)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return ids


@contextmanager
def gunicorn(env: dict, workers: int):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
                             "wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.extend(line for line in proc.stderr), daemon=True)
    reader.start()
    try:
        wait_port(port, 60)
        yield f"http://127.0.0.1:{port}", proc, errors
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- the users ------------------------------------------------------------------------------------

def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    if not found:
        raise RuntimeError(f"no {name} on the page")
    return found.group(1)


@dataclass
class Ids:
    form_fund: int
    api_fund: int
    invoices: list[int]
    api_token: str


@dataclass
class Tally:
    times: dict = field(default_factory=lambda: defaultdict(list))     # page -> [seconds]
    errors: dict = field(default_factory=lambda: defaultdict(list))    # page -> [what]
    moved: dict = field(default_factory=lambda: defaultdict(Decimal))  # fund id -> amount added
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, page: str, seconds: float, problem: str | None = None) -> None:
        with self.lock:
            self.times[page].append(seconds)
            if problem:
                self.errors[page].append(problem)


class User:
    def __init__(self, base: str, ids: Ids, rng: random.Random):
        self.base, self.ids, self.rng = base, ids, rng
        self.http = requests.Session()
        page = self.http.get(base + "/login").text
        resp = self.http.post(base + "/login", allow_redirects=False, data={
            "csrf_token": _hidden(page, "csrf_token"), "username": USERNAME, "password": DEMO_PASSWORD})
        if resp.status_code != 302:
            raise RuntimeError(f"login answered {resp.status_code}")
        self.csrf = _hidden(self.http.get(base + "/funds/").text, "csrf_token")
        self.api = {"Authorization": f"Bearer {ids.api_token}"}

    def _call(self, tally: Tally, page: str, method: str, path: str, expect: int, **kw) -> requests.Response | None:
        started = time.perf_counter()
        try:
            resp = self.http.request(method, self.base + path, allow_redirects=False, timeout=60, **kw)
        except requests.RequestException as exc:
            tally.record(page, time.perf_counter() - started, f"{type(exc).__name__}")
            return None
        seconds = time.perf_counter() - started
        tally.record(page, seconds, None if resp.status_code == expect else f"HTTP {resp.status_code}")
        return resp if resp.status_code == expect else None

    def step(self, tally: Tally, think: float, stop_at: float) -> None:
        page = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        ids = self.ids
        if page == "dashboard":
            self._call(tally, page, "GET", "/funds/", 200)
        elif page == "invoices":
            self._call(tally, page, "GET", "/invoices/", 200)
        elif page == "po_lines":
            self._call(tally, page, "GET", "/orders/lines/", 200)
        elif page == "vendors":
            self._call(tally, page, "GET", "/vendors/", 200)
        elif page == "invoice":
            self._call(tally, page, "GET", f"/invoices/{self.rng.choice(ids.invoices)}", 200)
        elif page == "api_funds":
            self._call(tally, page, "GET", "/api/v1/funds", 200, headers=self.api)
        elif page == "api_post":
            resp = self._call(tally, page, "POST", f"/api/v1/funds/{ids.api_fund}/transactions", 201,
                              headers={**self.api, "Idempotency-Key": str(uuid.uuid4())},
                              json={"type": "allocation", "amount": str(API_AMOUNT), "reference": "LOAD-API"})
            if resp is not None:
                with tally.lock:
                    tally.moved[ids.api_fund] += API_AMOUNT
        else:
            hx = {"HX-Request": "true", "HX-Current-URL": self.base + "/funds/", "X-CSRFToken": self.csrf}
            form = self._call(tally, "allocate_form", "GET", f"/funds/{ids.form_fund}/allocate", 200, headers=hx)
            if form is None:
                return
            self._think(think, stop_at)
            resp = self._call(tally, "allocate_post", "POST", f"/funds/{ids.form_fund}/allocate", 200, headers=hx,
                              data={"csrf_token": self.csrf, "form_token": _hidden(form.text, "form_token"),
                                    "amount": str(FORM_AMOUNT), "reference": "LOAD-FORM"})
            if resp is not None:
                with tally.lock:
                    tally.moved[ids.form_fund] += FORM_AMOUNT

    def _think(self, think: float, stop_at: float) -> None:
        if think:
            time.sleep(max(0.0, min(think * self.rng.uniform(0.8, 1.2), stop_at - time.monotonic())))

    def run(self, tally: Tally, think: float, start: threading.Barrier, stop_at: list[float]) -> None:
        start.wait()
        self._think(think * self.rng.random(), stop_at[0])   # spread the first requests over the think time
        while time.monotonic() < stop_at[0]:
            self.step(tally, think, stop_at[0])
            self._think(think, stop_at[0])


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])   # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


class Meter:
    """CPU used by the app (gunicorn's workers), by PostgreSQL (the postmaster's children) and by
    this client, and the machine's load average: on a shared machine, the CPU per request is the
    figure that does not depend on what else runs."""

    def __init__(self, server_pid: int, postmaster_pid: int):
        self.server_pid, self.postmaster_pid = server_pid, postmaster_pid

    def read(self) -> tuple[float, float, float, float]:
        return (_cpu(_children(self.server_pid)), _cpu(_children(self.postmaster_pid)), time.process_time(),
                os.getloadavg()[0])


def phase(users: list[User], think: float, seconds: float) -> tuple[Tally, float]:
    tally, start, stop_at = Tally(), threading.Barrier(len(users) + 1), [0.0]
    threads = [threading.Thread(target=u.run, args=(tally, think, start, stop_at), daemon=True) for u in users]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + seconds
    began = time.perf_counter()
    start.wait()
    for t in threads:
        t.join(seconds + 120)
    return tally, time.perf_counter() - began


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def report(name: str, tally: Tally, elapsed: float, cpu_before: tuple, cpu_after: tuple) -> dict:
    every = [s for times in tally.times.values() for s in times]
    errors = sum(len(e) for e in tally.errors.values())
    app_ms, pg_ms, client_ms = (1000 * (after - before) / max(1, len(every))
                                for before, after in zip(cpu_before[:3], cpu_after[:3]))
    print(f"\n{name}: {len(every):,} requests in {elapsed:.1f} s = {len(every) / elapsed:.1f} req/s, "
          f"{errors} errors")
    print(f"  CPU per request: app {app_ms:.1f} ms, PostgreSQL {pg_ms:.1f} ms, this client {client_ms:.1f} ms "
          f"(all three together: at most {os.cpu_count() * 1000 / (app_ms + pg_ms + client_ms):.0f} req/s on "
          f"{os.cpu_count()} idle CPUs); machine load average {cpu_before[3]:.1f} -> {cpu_after[3]:.1f}")
    print(f"  {'page':<14}{'requests':>9}{'errors':>7}{'req/s':>7}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
          f"{'max ms':>8}")
    for page in sorted(tally.times, key=lambda p: -len(tally.times[p])):
        t = tally.times[page]
        print(f"  {page:<14}{len(t):>9}{len(tally.errors[page]):>7}{len(t) / elapsed:>7.1f}{_ms(t, .5):>8.0f}"
              f"{_ms(t, .95):>8.0f}{_ms(t, .99):>8.0f}{1000 * max(t):>8.0f}")
    print(f"  {'all':<14}{len(every):>9}{errors:>7}{len(every) / elapsed:>7.1f}{_ms(every, .5):>8.0f}"
          f"{_ms(every, .95):>8.0f}{_ms(every, .99):>8.0f}{1000 * max(every):>8.0f}")
    for page, problems in tally.errors.items():
        if problems:
            kinds = defaultdict(int)
            for p in problems:
                kinds[p] += 1
            print(f"  errors on {page}: " + ", ".join(f"{k} × {v}" for k, v in kinds.items()))
    return {"requests": len(every), "errors": errors, "rps": len(every) / elapsed, "p50": _ms(every, .5),
            "p95": _ms(every, .95), "p99": _ms(every, .99), "cpu_ms": app_ms + pg_ms}


# -- money ----------------------------------------------------------------------------------------

def _allocated(base: str, token: str) -> dict[int, Decimal]:
    resp = requests.get(base + "/api/v1/funds", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    resp.raise_for_status()
    return {f["id"]: Decimal(f["balances"]["allocated"]) for f in resp.json()["items"] if f["type"] == "allocated"}


def _postmaster_pid(url: str) -> int:
    import psycopg
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    status = Path(f"/proc/{backend}/status").read_text()
    return int(re.search(r"^PPid:\s+(\d+)", status, re.M).group(1))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30, help="length of each phase (default 30)")
    ap.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    ap.add_argument("--think", type=float, default=1.0, help="phase (a)'s think time in seconds (default 1)")
    ap.add_argument("--phases", default="ab", help="which phases to run: a, b or ab (default ab)")
    ap.add_argument("--durable", action="store_true", help="PostgreSQL with fsync on (default: off, as in the tests)")
    ap.add_argument("--profile", type=float, default=0, metavar="SECONDS",
                    help="record py-spy profiles of the workers during phase (b) (needs py-spy)")
    args = ap.parse_args(argv)

    with postgres_cluster(durable=args.durable) as url, tempfile.TemporaryDirectory(prefix="acq-load-") as tmp:
        instance = Path(tmp)
        env = _env(url, instance)
        started = time.perf_counter()
        _flask(env, "demo", "--erp-dir", str(instance / "erp"))
        invoice_ids = _invoices(url)
        token = _flask(env, "users", "token", "admin").strip().split()[-1]
        print(f"demo data loaded, {INVOICES} invoices added ({time.perf_counter() - started:.1f} s); "
              f"PostgreSQL {'durable' if args.durable else 'fsync off'}; gunicorn -w {args.workers}")
        with gunicorn(env, args.workers) as (base, proc, server_errors):
            funds = requests.get(base + "/api/v1/funds", headers={"Authorization": f"Bearer {token}"},
                                 timeout=60).json()["items"]
            current = max(f["fiscal_period"] for f in funds)
            by_code = {f["code"]: f["id"] for f in funds if f["fiscal_period"] == current}
            ids = Ids(by_code[FORM_FUND], by_code[API_FUND], invoice_ids, token)
            before = _allocated(base, token)
            meter = Meter(proc.pid, _postmaster_pid(url))
            rng = random.Random(2026)
            users = [User(base, ids, random.Random(rng.random())) for _ in range(args.users)]
            results = {}
            chosen = [(f"({key}) {args.users} users, " + (f"think {think:g} s" if think else "no think time"), think)
                      for key, think in (("a", args.think), ("b", 0.0)) if key in args.phases]
            for name, think in chosen:
                profiler = _profile(proc, args.profile, instance) if args.profile and not think else None
                cpu_before = meter.read()
                tally, elapsed = phase(users, think, args.seconds)
                cpu_after = meter.read()
                if profiler:
                    profiler()
                results[name] = (report(name, tally, elapsed, cpu_before, cpu_after), tally)
            after = _allocated(base, token)
            check = _flask(env, "ledger", "check")
        moved: dict[int, Decimal] = defaultdict(Decimal)
        for _, tally in results.values():
            for fund_id, amount in tally.moved.items():
                moved[fund_id] += amount
        print("\nmoney:")
        exact = True
        for fund_id in sorted(set(moved) | {ids.form_fund, ids.api_fund}):
            grew = after[fund_id] - before[fund_id]
            ok = grew == moved[fund_id]
            exact &= ok
            print(f"  fund {fund_id}: allocated grew by {grew} EUR; the successful posts added {moved[fund_id]} EUR"
                  f" {'(exact)' if ok else '(DIFFERENT)'}")
        others = {k for k in after if after[k] != before.get(k) and k not in moved}
        exact &= not others
        print(f"  other funds changed: {sorted(others) or 'none'}; ledger check: {check.strip().splitlines()[-1]}")
        bad_log = [line for line in server_errors if "Traceback" in line or " 500 " in line]
        print(f"  server log: {len(bad_log)} tracebacks or 500s")
    a = next((figures for name, (figures, _) in results.items() if name.startswith("(a)")), None)
    ok = exact and (a is None or (a["errors"] == 0 and a["p95"] <= P95_TARGET_MS))
    target = f"phase (a): {a['errors']} errors, p95 {a['p95']:.0f} ms (target <= {P95_TARGET_MS} ms); " if a else ""
    print(f"\n{target}money {'exact' if exact else 'NOT exact'}: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def _profile(proc: subprocess.Popen, seconds: float, folder: Path):
    """py-spy records every gunicorn worker for ``seconds``; returns a function that waits and reports."""
    children = _children(proc.pid)
    out = ROOT / "bench" / "data"
    out.mkdir(parents=True, exist_ok=True)
    import shutil
    spy = shutil.which("py-spy", path=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}")
    if spy is None:
        raise SystemExit("--profile needs py-spy (pip install -r requirements-dev.txt)")
    spies = [subprocess.Popen([spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--format",
                               "raw", "--output", str(out / f"load-worker-{pid}.txt"), "--nonblocking"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for pid in children]

    def finish():
        for spy in spies:
            spy.wait(seconds + 60)
        print(f"py-spy profiles (collapsed stacks): {out}/load-worker-*.txt")
    return finish


if __name__ == "__main__":
    sys.exit(main())
