"""H12-08: the same money form (or API request) sent many times changes the money once.

Money forms carry a one-time token spent with the change; the API honours Idempotency-Key. The
races run against the app served by werkzeug's threaded server with CSRF on: the form is fetched
like a browser would, then 30 copies of one POST are released at once by a barrier, on a SQLite
file and on PostgreSQL.
"""
from __future__ import annotations

import pytest

import io
import re
import threading
import time
import uuid
from datetime import date
from decimal import Decimal

import requests
from sqlalchemy import func, select

from app.auth.services import issue_api_token
from app.extensions import db
from app.funds import services as fs
from app.funds.models import Fund, FundTransaction
from app.idempotency import IdempotencyKey, new_form_token
from app.integrations.models import JobRun
from app.invoices import services as ivs
from app.invoices.models import Invoice
from tests.helpers import PASSWORD, login
from testkit.world import load_world
from tests.helpers import served
from tests.invoices.helpers import invoice, make_vendors

pytestmark = pytest.mark.postgres

HX = {"HX-Request": "true"}
RACERS = 30
POOL = {"pool_size": RACERS + 5, "max_overflow": 5}


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    return found.group(1) if found else ""


def _browser(base: str, username: str) -> requests.Session:
    s = requests.Session()
    csrf = _hidden(s.get(base + "/login").text, "csrf_token")
    resp = s.post(base + "/login", data={"csrf_token": csrf, "username": username, "password": PASSWORD},
                  allow_redirects=False)
    assert resp.status_code == 302, resp.text[:300]
    return s


def _at_once(n: int, send) -> list:
    """Call ``send()`` from n threads released together; the answers (or exceptions)."""
    barrier, answers = threading.Barrier(n), [None] * n

    def run(i):
        barrier.wait()
        try:
            answers[i] = send()
        except Exception as exc:  # reported by the assertions
            answers[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return answers


def _copy(session: requests.Session) -> requests.Session:
    twin = requests.Session()
    twin.cookies.update(session.cookies)
    return twin


def _app(make_app, backend, setup=None):
    """A CSRF-protected app on the standard world; plain ids, what ``setup(world)`` returned, and
    an API token of the fund manager."""
    extra = {"SQLALCHEMY_ENGINE_OPTIONS": POOL} if backend == "postgresql" else {}
    app = make_app(backend, world=True, WTF_CSRF_ENABLED=True, **extra)
    with app.app_context():
        world = load_world()
        ids = {"shared": world.shared.id, "fund_a": world.fund_a.id, "setup": setup(world) if setup else None}
        token = issue_api_token(None, world.user("fundmgr"))
        db.session.commit()
        db.session.remove()
    return app, ids, token


def _rows(app, reference: str) -> list[FundTransaction]:
    with app.app_context():
        rows = db.session.scalars(select(FundTransaction).where(FundTransaction.reference == reference)).all()
        assert fs.check_ledger() == []
        db.session.expunge_all()
        return rows


def _allocated(app, fund_id: int) -> Decimal:
    with app.app_context():
        return db.session.get(Fund, fund_id).balance.allocated


# -- the race, as the finding measured it --------------------------------------------------------

def test_H12_08_one_allocate_form_sent_30_times_at_once_allocates_once(make_app, backend):
    app, ids, _ = _app(make_app, backend)
    with served(app) as base:
        browser = _browser(base, "fundmgr")
        url = f"{base}/funds/{ids['shared']}/allocate"
        page = browser.get(url).text
        data = {"csrf_token": _hidden(page, "csrf_token"), "form_token": _hidden(page, "form_token"),
                "amount": "1.00", "reference": "DOUBLE"}
        answers = _at_once(RACERS, lambda: _copy(browser).post(url, data=data, allow_redirects=False))
    failures = [a for a in answers if isinstance(a, Exception)]
    assert not failures, failures[:3]
    assert sorted(a.status_code for a in answers) == [302] + [409] * (RACERS - 1)
    assert all("Already done" in a.text for a in answers if a.status_code == 409)
    assert len(_rows(app, "DOUBLE")) == 1
    assert _allocated(app, ids["shared"]) == Decimal("1001.00")


def test_H12_08_one_api_request_sent_30_times_with_one_idempotency_key_allocates_once(make_app, backend):
    app, ids, token = _app(make_app, backend)
    key = str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    body = {"type": "allocation", "amount": "1.00", "reference": "API-DOUBLE"}
    with served(app) as base:
        url = f"{base}/api/v1/funds/{ids['shared']}/transactions"
        answers = _at_once(RACERS, lambda: requests.post(url, json=body, headers=headers))
        failures = [a for a in answers if isinstance(a, Exception)]
        assert not failures, failures[:3]
        assert {a.status_code for a in answers} == {201}
        assert len({a.text for a in answers}) == 1, "every repeat gets the first answer"
        assert sorted(a.headers.get("Idempotent-Replayed", "") for a in answers) == [""] + ["true"] * (RACERS - 1)
        # once more, afterwards: still the same answer, still one allocation
        again = requests.post(url, json=body, headers=headers)
        assert again.status_code == 201 and again.text == answers[0].text
        # the same key for another request is refused; a new key is a new allocation
        other = requests.post(url, json={**body, "amount": "2.00"}, headers=headers)
        assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
        fresh = requests.post(url, json=body, headers={**headers, "Idempotency-Key": str(uuid.uuid4())})
        assert fresh.status_code == 201 and "Idempotent-Replayed" not in fresh.headers
    assert len(_rows(app, "API-DOUBLE")) == 2
    assert _allocated(app, ids["shared"]) == Decimal("1002.00")


# -- the forms: the replay answer, a missing token, a refusal leaves the token usable -------------

def test_H12_08_a_replayed_money_form_answers_already_done_and_changes_nothing(app, world):
    client = login(app.test_client(), "fundmgr")
    form = client.get(f"/funds/{world.shared.id}/allocate", headers=HX).get_data(as_text=True)
    token = _hidden(form, "form_token")
    assert len(token) >= 16 and token != _hidden(client.get(f"/funds/{world.shared.id}/allocate").get_data(
        as_text=True), "form_token"), "a new token at each rendering"
    data = {"amount": "5.00", "reference": "ONCE", "form_token": token}
    assert client.post(f"/funds/{world.shared.id}/allocate", data=data, headers=HX).status_code == 200
    replay = client.post(f"/funds/{world.shared.id}/allocate", data=data, headers=HX)
    assert replay.status_code == 409 and replay.headers["HX-Retarget"] == "#problems"
    assert "Already done" in replay.get_data(as_text=True)
    plain = client.post(f"/funds/{world.shared.id}/allocate", data=data)
    assert plain.status_code == 409 and "<h1>Already done</h1>" in plain.get_data(as_text=True)
    # the same token on the transfer form is spent too
    moved = client.post(f"/funds/{world.shared.id}/transfer", headers=HX,
                        data={"target": str(world.fund_a.id), "amount": "1.00", "form_token": token})
    assert moved.status_code in (403, 409)
    assert len(_rows(app, "ONCE")) == 1 and world.shared.balance.allocated == Decimal("1005.00")


def test_H12_08_a_money_form_without_its_token_asks_to_reload(app, world):
    client = login(app.test_client(), "fundmgr")
    resp = client.post(f"/funds/{world.shared.id}/allocate", data={"amount": "5.00"}, headers=HX)
    assert resp.status_code == 400 and "Reload the page" in resp.get_data(as_text=True)
    assert resp.headers["HX-Retarget"] == "#problems"
    bad = client.post(f"/funds/{world.shared.id}/allocate", data={"amount": "5.00", "form_token": "<x>"})
    assert bad.status_code == 400 and "Reload the page" in bad.get_data(as_text=True)
    assert world.shared.balance.allocated == Decimal("1000.00")


def test_H12_08_a_refused_money_form_keeps_its_token_for_the_corrected_post(app, world):
    client = login(app.test_client(), "fundmgr")
    token = new_form_token()
    url = f"/funds/{world.shared.id}/allocate"
    refused = client.post(url, data={"amount": "-5000.00", "form_token": token}, headers=HX)
    assert refused.status_code == 422
    assert client.post(url, data={"amount": "-50.00", "form_token": token}, headers=HX).status_code == 200
    assert world.shared.balance.allocated == Decimal("950.00")


def test_H12_08_invoice_approve_and_payment_forms_work_once(app, world):
    vendors = make_vendors(world)
    inv = invoice(world, world.user("invoicer"), vendors.plain, amounts=("100.00",), process=True)
    assert inv.status == "in_approval"
    manager = login(app.test_client(), "invmanager")
    page = manager.get(f"/invoices/{inv.id}").get_data(as_text=True)
    approve = {"form_token": _hidden(page, "form_token")}
    assert manager.post(f"/invoices/{inv.id}/approve", data=approve, headers=HX).status_code == 200
    # sent back and processed again, the invoice waits for approval once more: the old approve
    # form, posted again, must not approve it a second time
    ivs.send_back_to_review(world.user("invmanager"), db.session.get(Invoice, inv.id), "price")
    ivs.process_invoice(world.user("invoicer"), db.session.get(Invoice, inv.id))
    db.session.commit()
    assert db.session.get(Invoice, inv.id).status == "in_approval"
    replay = manager.post(f"/invoices/{inv.id}/approve", data=approve, headers=HX)
    assert replay.status_code == 409 and "Already done" in replay.get_data(as_text=True)
    assert db.session.get(Invoice, inv.id).status == "in_approval"
    assert manager.post(f"/invoices/{inv.id}/approve", data={}, headers=HX).status_code == 400

    manager.post(f"/invoices/{inv.id}/approve", data={"form_token": new_form_token()}, headers=HX)
    ivs.mark_exported(None, db.session.get(Invoice, inv.id))
    db.session.commit()
    page = manager.get("/invoices/tasks/payment").get_data(as_text=True)
    pay = {"back": "payment", "voucher_number": "V-1", "payment_date": "2026-03-20", "amount": "100.00",
           "form_token": _hidden(page, "form_token")}
    assert manager.post(f"/invoices/{inv.id}/payment", data=pay, headers=HX).status_code == 200
    again = manager.post(f"/invoices/{inv.id}/payment", data={**pay, "voucher_number": "V-2"})
    assert again.status_code == 409 and "Already done" in again.get_data(as_text=True)
    paid = db.session.get(Invoice, inv.id)
    assert (paid.status, paid.voucher_number) == ("closed", "V-1")
    assert fs.check_ledger() == []


def test_H12_08_the_invoice_file_load_form_loads_once(make_app, backend, tmp_path):
    from tests.invoices.files.helpers import table, xlsx
    app, ids, _ = _app(make_app, backend, setup=lambda world: make_vendors(world).plain.id)
    app.config["INVOICE_FILE_FOLDER"] = str(tmp_path)
    vendor_id = ids["setup"]
    rows = [{"number": f"F-{n}", "invoice_date": date(2026, 3, 2), "total_amount": 10, "unit_price": 10,
             "funds": "SHARED"} for n in range(3)]
    with served(app) as base:
        browser = _browser(base, "invoicer")
        csrf = _hidden(browser.get(base + "/invoices/files/").text, "csrf_token")
        preview = browser.post(base + "/invoices/files/", data={"csrf_token": csrf, "vendor": str(vendor_id)},
                               files={"file": ("march.xlsx", io.BytesIO(xlsx(table(rows))))}).text
        data = {"csrf_token": _hidden(preview, "csrf_token"), "token": _hidden(preview, "token")}
        answers = _at_once(5, lambda: _copy(browser).post(base + "/invoices/files/load", data=data))
        failures = [a for a in answers if isinstance(a, Exception)]
        assert not failures, failures[:3]
        assert sorted(a.status_code for a in answers) == [200, 409, 409, 409, 409]
        started = next(a for a in answers if a.status_code == 200)
        assert "the load goes on" in started.text   # the load's status page: it runs in the background
        with app.app_context():
            runs = db.session.scalars(select(JobRun).filter_by(job="invoice_file")).all()
            assert len(runs) == 1, "one load started"
            run_id = runs[0].id
        deadline = time.monotonic() + 120
        while "3 invoices created" not in (report := browser.get(f"{base}/invoices/files/runs/{run_id}").text):
            assert time.monotonic() < deadline, report[-2000:]
            time.sleep(0.2)
    assert all("Already done" in a.text or "no longer waiting" in a.text for a in answers if a.status_code == 409)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == 3
        assert fs.check_ledger() == []


# -- the API: replay of invoice actions, refusals are not kept -----------------------------------

def test_H12_08_api_invoice_approval_with_a_key_is_replayed_not_repeated(app, world):
    vendors = make_vendors(world)
    inv = invoice(world, world.user("invoicer"), vendors.plain, amounts=("100.00",), process=True)
    token = issue_api_token(None, world.user("invmanager"))
    db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "approve-1"}
    first = client.post(f"/api/v1/invoices/{inv.id}/actions/approve", headers=headers)
    assert first.status_code == 200 and first.get_json()["status"] == "ready_to_be_paid"
    ivs.send_back_to_review(world.user("invmanager"), db.session.get(Invoice, inv.id), "price")
    ivs.process_invoice(world.user("invoicer"), db.session.get(Invoice, inv.id))
    db.session.commit()
    replay = client.post(f"/api/v1/invoices/{inv.id}/actions/approve", headers=headers)
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_data() == first.get_data()
    assert db.session.get(Invoice, inv.id).status == "in_approval", "the replay approved nothing"
    # the same key by another user is that user's own key
    other = issue_api_token(None, world.user("admin"))
    db.session.commit()
    resp = client.post(f"/api/v1/invoices/{inv.id}/actions/approve",
                       headers={"Authorization": f"Bearer {other}", "Idempotency-Key": "approve-1"})
    assert resp.status_code == 200 and "Idempotent-Replayed" not in resp.headers
    assert db.session.get(Invoice, inv.id).status == "ready_to_be_paid"


def test_H12_08_api_refusals_are_not_kept_and_bad_keys_are_refused(app, world):
    token = issue_api_token(None, world.user("fundmgr"))
    db.session.commit()
    client = app.test_client()
    url = f"/api/v1/funds/{world.shared.id}/transactions"
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "take-back"}
    refused = client.post(url, headers=headers, json={"type": "allocation", "amount": "-5000.00"})
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "rule_violation"
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    fs.allocate(world.user("admin"), world.shared, Decimal("4000.00"))
    db.session.commit()
    ok = client.post(url, headers=headers, json={"type": "allocation", "amount": "-5000.00"})
    assert ok.status_code == 201 and world.shared.balance.allocated == Decimal("0.00")
    for bad in ("", "x" * 256, "tab\there", "é"):
        resp = client.post(url, headers={**headers, "Idempotency-Key": bad},
                           json={"type": "allocation", "amount": "1.00"})
        assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "Idempotency-Key", bad
    # without the header the API works as before
    assert client.post(url, headers={"Authorization": f"Bearer {token}"},
                       json={"type": "allocation", "amount": "1.00"}).status_code == 201
    assert world.shared.balance.allocated == Decimal("1.00")


def test_H12_08_the_openapi_document_names_the_idempotent_posts(app):
    from app.api.openapi import build_document
    doc = build_document()
    documented = {(path, "post") for path, item in doc["paths"].items() if "post" in item and any(
        p.get("$ref", "").endswith("/IdempotencyKey") for p in item["post"].get("parameters", []))}
    served_ = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and "POST" in rule.methods and \
                getattr(app.view_functions[rule.endpoint], "idempotent", False):
            served_.add((re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), "post"))
    assert documented == served_ and ("/api/v1/funds/{id}/transactions", "post") in served_
