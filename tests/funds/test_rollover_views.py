"""The "Fiscal period closure" page (issue 14, point 8): who may use it, Preview shows the report
and changes nothing, Commit stores it and shows its report, Undo; the issue's exact figures. Preview,
Commit and Undo are runs (app.funds.runs); here they run in the request (ROLLOVER_RUNS_IN_FOREGROUND),
tests/funds/test_rollover_runs.py runs them in their background thread."""
from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.funds import services as fs
from app.funds.models import Rollover
from tests.funds.test_rollover import books, fund, state  # noqa: F401 - the fixture
from tests.helpers import login

pytestmark = pytest.mark.postgres

FORM = {"source": "FY2026", "target": "FY2027", "allocation": "adjust", "percent": "3", "carry": "available",
        "one_time": "remaining", "continuous": "remaining", "increase": "5"}


@pytest.fixture(autouse=True)
def foreground(app):
    app.config["ROLLOVER_RUNS_IN_FOREGROUND"] = True


def rollover_count(status: str = "committed") -> int:
    return db.session.scalar(select(func.count()).select_from(Rollover).where(Rollover.status == status))


def follow(client, resp, status: int = 303):
    """The run's page a non-HTMX Preview, Commit or Undo answers with."""
    assert resp.status_code == status, resp.get_data(as_text=True)[:2000]
    assert "/fiscal-periods/closure/runs/" in resp.headers["Location"]
    return client.get(resp.headers["Location"])


def test_only_institution_admins_reach_the_page(app, world, books):
    for name in ("fundmgr", "buyer", "viewer", "invmanager"):
        client = login(app.test_client(), name)
        assert client.get("/fiscal-periods/closure").status_code == 403, name
        assert client.post("/fiscal-periods/closure", data={**FORM, "action": "commit"}).status_code == 403, name
    assert rollover_count() == 0
    page = login(app.test_client(), "admin").get("/fiscal-periods/closure").get_data(as_text=True)
    assert "Fiscal period closure" in page and 'value="preview"' in page and 'value="commit"' in page
    assert "No rollovers yet" in page
    periods = login(app.test_client(), "admin").get("/fiscal-periods/").get_data(as_text=True)
    assert "/fiscal-periods/closure" in periods
    assert "/fiscal-periods/closure" not in login(app.test_client(), "fundmgr").get("/fiscal-periods/").get_data(
        as_text=True)


def test_preview_shows_the_report_and_changes_nothing(app, world, books):
    client = login(app.test_client(), "admin")
    before = state()
    resp = client.post("/fiscal-periods/closure", data={**FORM, "action": "preview"}, headers={"HX-Request": "true"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert html.lstrip().startswith("<section id=\"rollover\">") and "<html" not in html   # the fragment only
    assert "Preview — nothing was changed" in html and 'id="rollover-run"' in html
    assert 'hx-trigger="every 1s"' not in html   # the run has ended: no more polling
    # BOOKS: allocated 10,000.00, expended 6,250.50, encumbered 1,200.00, carried 2,549.50, new 10,300.00
    for figure in ("10,000.00", "6,250.50", "1,200.00", "2,549.50", "10,300.00", "525.00", "700.00"):
        assert figure in html, figure
    assert state() == before and rollover_count() == 0 and rollover_count("preview") == 1
    full = follow(client, client.post("/fiscal-periods/closure", data={**FORM, "action": "preview"}))
    full = full.get_data(as_text=True)
    assert "<html" in full and "2,549.50" in full and "Nothing was changed." in full
    assert state() == before and rollover_count() == 0 and rollover_count("preview") == 2


def test_commit_stores_the_rollover_with_the_issue_figures_and_undo_restores(app, world, books):
    client = login(app.test_client(), "admin")
    resp = follow(client, client.post("/fiscal-periods/closure", data={**FORM, "action": "commit"}))
    assert resp.status_code == 302
    stored = db.session.scalar(select(Rollover))
    assert resp.headers["Location"].endswith(f"/fiscal-periods/closure/{stored.id}")
    new = fund("BOOKS", "FY2027")
    assert (new.allocated, new.encumbered, new.balance.available) == (D("12849.50"), D("1225.00"), D("11624.50"))
    assert fs.check_ledger() == []
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "rolled over to FY2027" in page and "Committed" in page and "2,549.50" in page and "Undo" in page
    # HTMX commit of the same periods: its run ends refused, saying so; nothing changed
    before = state()
    again = client.post("/fiscal-periods/closure", data={**FORM, "action": "commit"}, headers={"HX-Request": "true"})
    text = again.get_data(as_text=True)
    assert again.status_code == 200 and "already rolled over" in text and "nothing was changed" in text
    assert "Failed" in text
    assert state() == before and rollover_count() == 1
    listing = client.get("/fiscal-periods/closure").get_data(as_text=True)
    assert f'id="rollover-{stored.id}"' in listing and "Undo" in listing
    undone = follow(client, client.post(f"/fiscal-periods/closure/{stored.id}/undo"))
    assert undone.status_code == 302 and undone.headers["Location"].endswith(f"/fiscal-periods/closure/{stored.id}")
    db.session.expire_all()
    assert db.session.get(Rollover, stored.id).status == "undone"
    assert fund("BOOKS", "FY2027").allocated == 0 and fund("BOOKS", "FY2026").encumbered == D("1200.00")
    assert fs.check_ledger() == []
    second = client.post(f"/fiscal-periods/closure/{stored.id}/undo")
    assert second.status_code == 422 and "only a committed rollover" in second.get_data(as_text=True)


def test_bad_rules_and_periods_are_refused_on_the_form(app, world, books):
    client = login(app.test_client(), "admin")
    resp = client.post("/fiscal-periods/closure", data={**FORM, "percent": "lots", "action": "preview"})
    assert resp.status_code == 400 and "is not a percent" in resp.get_data(as_text=True)
    resp = client.post("/fiscal-periods/closure", data={**FORM, "source": "FY2027", "target": "FY2026",
                                                        "action": "commit"})
    assert resp.status_code == 422 and "must start after" in resp.get_data(as_text=True)
    resp = client.post("/fiscal-periods/closure", data={**FORM, "source": "", "action": "preview"})
    assert resp.status_code == 422 and "Choose the period to close." in resp.get_data(as_text=True)
    assert rollover_count() == 0
