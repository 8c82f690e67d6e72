"""My work: which sections each role sees, library scope, each count against the list its link
opens, the approval rules, and the home page choice."""
from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from lxml import html

from app.clock import utcnow
from app.extensions import db
from app.integrations.edi.models import EdiMessage
from app.integrations.models import Connection, IntegrationProfile, JobRun
from app.invoices.models import ApprovalRule
from tests.helpers import PASSWORD, login
from tests.work.helpers import list_rows, make_work, scoped_users
from testkit.invoices import invoice

INVOICES = {"invoices_review", "invoices_ready", "invoices_waiting", "invoices_erp_rejected"}
LINES = {"lines_review", "lines_ready", "claims", "renewals"}
ADMIN_ONLY = {"runs_failed", "profiles_failed"}
# user -> the sections of My work they see
SEEN = {
    "admin": INVOICES | {"invoices_approval"} | LINES | {"edi_failed"} | ADMIN_ONLY,
    "invmanager": INVOICES | {"invoices_approval", "edi_failed"},
    "invoicer": INVOICES | {"edi_failed"},
    "invoicer-ext": INVOICES | {"edi_failed"},
    "buyer": LINES,
    "fundmgr": set(),
    "viewer": set(),
    "invoicer-a": INVOICES,            # the EDI inbox is for institution-wide operators only
    "invmanager-a": INVOICES | {"invoices_approval"},
    "buyer-a": LINES,
    "viewer-a": set(),
}
ALL_SECTIONS = INVOICES | {"invoices_approval"} | LINES | {"edi_failed"} | ADMIN_ONLY


@pytest.fixture
def work(app, world, orders, buyer_a):
    scoped_users(world)
    return make_work(world, orders)


def _sections(page: bytes) -> dict:
    """section key -> (count, the texts of its rows, the link to its list or None)."""
    doc = html.fromstring(page)
    out = {}
    for section in doc.xpath('//section[contains(@class, "work-section")]'):
        key = section.get("id").removeprefix("work-")
        count = int(section.xpath('.//span[@class="count"]')[0].get("data-count"))
        items = [" ".join(li.text_content().split()) for li in section.xpath('./ul[@class="work-items"]/li')]
        link = section.xpath('.//a[@class="all"]')
        out[key] = (count, items, link[0].get("href") if link else None)
    return out


def _my_work(app, username: str) -> dict:
    client = login(app.test_client(), username)
    resp = client.get("/work")
    assert resp.status_code == 200
    return _sections(resp.data)


@pytest.mark.parametrize("username", sorted(SEEN))
def test_each_role_sees_the_sections_it_can_act_on(app, world, work, username):
    sections = _my_work(app, username)
    assert set(sections) == SEEN[username]


@pytest.mark.parametrize("username", ["invoicer-a", "invmanager-a", "buyer-a", "invoicer", "invmanager", "buyer",
                                      "admin"])
def test_library_scope_on_my_work_and_on_the_lists_it_links_to(app, world, work, username):
    """A library-A user sees A's invoices and lines and never B's, on My work and on every list it
    links to; an institution-wide user sees both."""
    client = login(app.test_client(), username)
    page = client.get("/work").data
    sections = _sections(page)
    scoped = username.endswith("-a")
    for key, by_library in {**work.invoices, **work.lines}.items():
        if key not in sections:
            continue
        count, items, link = sections[key]
        shown = " ".join(items)
        assert by_library["A"] in shown, (key, items)
        assert (by_library["B"] in shown) is not scoped, (key, items)
        listed = " ".join(list_rows(client.get(link).data, urlsplit(link).path))
        assert by_library["A"] in listed
        assert (by_library["B"] in listed) is not scoped, (key, link)


@pytest.mark.parametrize("username", ["admin", "invmanager-a", "buyer-a", "invoicer"])
def test_each_count_is_the_number_of_rows_its_link_shows(app, world, work, username):
    _failed_run(world)
    for n in (1, 2):
        db.session.add(EdiMessage(file_name=f"bad-{n}.edi", sha256=f"{n}" * 64, raw="UNA", status="failed",
                                  reason="No vendor matches the supplier."))
    db.session.add(EdiMessage(file_name="good.edi", sha256="9" * 64, raw="UNA", status="invoice_created"))
    db.session.commit()
    client = login(app.test_client(), username)
    sections = _sections(client.get("/work").data)
    checked = 0
    for key, (count, items, link) in sections.items():
        assert len(items) == min(count, 5), key
        if key == "profiles_failed":
            continue   # one link per profile (below)
        assert link is not None and count > 0, key
        rows = list_rows(client.get(link).data, urlsplit(link).path)
        assert len(rows) == count, (key, link, rows)
        checked += 1
    assert checked == len(SEEN[username]) - (username == "admin")


def test_the_first_five_oldest_first(app, world, work, orders):
    manager = world.user("invmanager")
    for n in range(1, 7):
        invoice(world, manager, orders.eur, number=f"OLD-{n}", library="a", amounts=(f"{n}.00",),
                invoice_date=date(2026, 1, n))
    count, items, link = _my_work(app, "invoicer")["invoices_review"]
    assert count == 2 + 2 + 6   # REV and ERP of A and B, and these
    assert [i.split()[0] for i in items] == [f"OLD-{n}" for n in range(1, 6)]
    assert "sort=date" in link and "status=in_review" in link


def test_review_problems_are_shown(app, world, work):
    count, items, _ = _my_work(app, "invoicer")["invoices_review"]
    rev = next(i for i in items if i.startswith("REV-A"))
    assert "differs from its lines and charges" in rev
    erp = _my_work(app, "invoicer")["invoices_erp_rejected"][1]
    assert any("ERP rejected it: unknown cost centre" in i for i in erp)


def test_waiting_for_payment_longer_than_the_configured_days(app, world, work):
    count, items, link = _my_work(app, "invoicer")["invoices_waiting"]
    assert count == 2 and all(i.startswith("WAIT-") for i in items)
    assert "waiting_days=30" in link
    app.config["WORK_WAITING_FOR_PAYMENT_DAYS"] = 1
    count, items, link = _my_work(app, "invoicer")["invoices_waiting"]
    assert count == 4 and "waiting_days=1" in link   # RECENT-A/B (2 days) too
    client = login(app.test_client(), "invoicer")
    assert len(list_rows(client.get("/invoices/?waiting_days=1").data, "/invoices/")) == 4
    assert len(list_rows(client.get("/invoices/?waiting_days=100").data, "/invoices/")) == 0


def test_approval_rules_decide_who_may_approve(app, world, orders):
    """A rule asking for an approver other than the creator: the creator does not see the invoice
    on My work nor on the list it links to; another manager does."""
    db.session.add(ApprovalRule(position=1, name="Four eyes", approver_not_creator=True))
    db.session.commit()
    manager = world.user("invmanager")
    invoice(world, manager, orders.eur, number="MINE-1", library="a", process=True)
    invoice(world, world.user("admin"), orders.eur, number="THEIRS-1", library="a", amounts=("7.00",), process=True)
    count, items, link = _my_work(app, "invmanager")["invoices_approval"]
    assert count == 1 and items[0].startswith("THEIRS-1")
    client = login(app.test_client(), "invmanager")
    assert [r.split()[0] for r in list_rows(client.get(link).data, "/invoices/")] == ["THEIRS-1"]
    count, items, _ = _my_work(app, "admin")["invoices_approval"]
    assert count == 1 and items[0].startswith("MINE-1")


def test_empty_sections_say_so(app, world):
    page = login(app.test_client(), "invoicer").get("/work").data.decode()
    assert page.count("Nothing waits for you here.") == len(SEEN["invoicer"])
    viewer = login(app.test_client(), "viewer").get("/work").data.decode()
    assert "Your roles have no work lists" in viewer and 'class="card work-section"' not in viewer


def _failed_run(world):
    conn = Connection(code="LOC", name="Local", kind="local", root_path="/tmp")
    db.session.add(conn)
    db.session.flush()
    bad = IntegrationProfile(code="BAD", name="Failing", connection_id=conn.id, financial_system="SAP")
    good = IntegrationProfile(code="GOOD", name="Fine now", connection_id=conn.id, financial_system="SAP")
    db.session.add_all([bad, good])
    db.session.flush()
    old = utcnow() - timedelta(days=20)
    db.session.add_all([
        JobRun(job="invoice_export", profile_id=bad.id, profile_code="BAD", status="completed", started_at=old),
        JobRun(job="invoice_export", profile_id=bad.id, profile_code="BAD", status="failed", interrupted=True),
        JobRun(job="invoice_export", profile_id=good.id, profile_code="GOOD", status="failed", started_at=old),
        JobRun(job="invoice_export", profile_id=good.id, profile_code="GOOD", status="completed"),
    ])
    db.session.commit()
    return bad


def test_administrators_see_failed_runs_and_profiles(app, world):
    bad = _failed_run(world)
    sections = _my_work(app, "admin")
    count, items, link = sections["runs_failed"]
    assert count == 1 and "BAD" in items[0] and "interrupted" in items[0]   # GOOD's failure is 20 days old
    assert "days=7" in link and "status=failed" in link
    count, items, _ = sections["profiles_failed"]
    assert count == 1 and items[0].startswith("BAD")
    page = login(app.test_client(), "admin").get("/work").data.decode()
    assert f"/admin/erp/profiles/{bad.id}" in page
    client = login(app.test_client(), "admin")
    assert len(list_rows(client.get("/admin/erp/jobs?status=failed").data, "/admin/erp/jobs")) == 2


# -- the home page -------------------------------------------------------------------------------

@pytest.mark.parametrize("username, home", [("invoicer", "/work"), ("buyer", "/work"), ("admin", "/work"),
                                            ("viewer", "/funds/"), ("fundmgr", "/funds/")])
def test_login_lands_on_the_users_home(app, world, username, home):
    client = app.test_client()
    resp = client.post("/login", data={"username": username, "password": PASSWORD})
    assert resp.headers["Location"] == "/"
    assert client.get("/").headers["Location"] == home
    resp = app.test_client().post("/login?next=/orders/lines/", data={"username": username, "password": PASSWORD})
    assert resp.headers["Location"] == "/orders/lines/"   # a page asked for still wins


def test_a_user_chooses_the_fund_dashboard(app, world):
    client = login(app.test_client(), "invoicer")
    assert client.get("/").headers["Location"] == "/work"
    assert _checked(client.get("/me").data) == ["work"]
    resp = client.post("/me/home", data={"home": "funds"})
    assert resp.status_code == 302
    assert client.get("/").headers["Location"] == "/funds/"
    assert world.user("invoicer").home == "funds"
    # HTMX: the setting's own fragment comes back
    resp = client.post("/me/home", data={"home": "work"}, headers={"HX-Request": "true"})
    assert resp.status_code == 200 and resp.data.decode().lstrip().startswith('<section class="card" id="home-setting"')
    assert client.get("/").headers["Location"] == "/work"
    resp = client.post("/me/home", data={"home": "elsewhere"})
    assert resp.status_code == 422 and _checked(client.get("/me").data) == ["work"]
    db.session.expire_all()
    assert world.user("invoicer").home == "work"


def _checked(page: bytes) -> list[str]:
    return html.fromstring(page).xpath('//section[@id="home-setting"]//input[@name="home"][@checked]/@value')


def test_header_links_my_work_only_for_roles_with_work(app, world):
    assert b'href="/work"' in login(app.test_client(), "buyer").get("/me").data
    assert b'href="/work"' not in login(app.test_client(), "viewer").get("/me").data
