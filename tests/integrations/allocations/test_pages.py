"""The ERP fiscal period numbers page: institution administrators only; numbers saved as a whole,
a number already standing for another period refused next to its field; works with plain form
posts and with HTMX."""
from __future__ import annotations

import re
from datetime import date

from app.extensions import db
from app.funds import services as funds
from app.integrations import services as integrations
from tests.helpers import login

URL = "/admin/erp/fiscal-periods"
HX = {"HX-Request": "true"}


def _numbers() -> dict[str, int]:
    db.session.expire_all()
    return {m.fiscal_period.code: m.erp_id for m in integrations.fiscal_period_mappings()}


def _second_period(world):
    fp = funds.create_fiscal_period(world.user("admin"), "FY2027", "Fiscal year 2027", date(2027, 1, 1),
                                 date(2027, 12, 31))
    db.session.commit()
    return fp


def _field_error(html: str, period_id: int) -> str:
    m = re.search(rf'<p class="error" id="erp_id-{period_id}-err">([^<]*)</p>', html)
    return m.group(1) if m else ""


def test_only_institution_administrators(app, world, admin_a):
    for username in ("admin-a", "fundmgr", "viewer", "buyer", "invmanager"):
        client = login(app.test_client(), username)
        assert client.get(URL).status_code == 403, username
        assert client.post(URL, data={f"erp_id-{world.period.id}": "23"}).status_code == 403, username
        assert client.post(URL, data={f"erp_id-{world.period.id}": "23"}, headers=HX).status_code == 403
    assert _numbers() == {}


def test_saving_numbers(app, world, login_as):
    client = login_as("admin")
    page = client.get(URL)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "FY2026" in html and f'name="erp_id-{world.period.id}"' in html and 'name="csrf_token"' in html
    form = re.search(r"<form\b[^>]*hx-post[^>]*>", html).group(0)
    assert f'method="post" action="{URL}"' in form and f'hx-post="{URL}"' in form
    resp = client.post(URL, data={f"erp_id-{world.period.id}": " 23 "})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(URL)
    assert _numbers() == {"FY2026": 23}
    assert 'value="23"' in client.get(URL).get_data(as_text=True)
    resp = client.post(URL, data={f"erp_id-{world.period.id}": "24"}, headers=HX)
    assert resp.status_code == 200 and "are saved" in resp.get_data(as_text=True)
    assert "<html" not in resp.get_data(as_text=True) and _numbers() == {"FY2026": 24}
    client.post(URL, data={f"erp_id-{world.period.id}": ""})
    assert _numbers() == {}


def test_duplicate_number_is_refused_next_to_its_field(app, world, login_as):
    fy27 = _second_period(world)
    integrations.set_fiscal_period_mapping(world.user("admin"), world.period, 23)
    db.session.commit()
    client = login_as("admin")
    # Both fields sent: FY2027 takes FY2026's number.
    resp = client.post(URL, data={f"erp_id-{world.period.id}": "23", f"erp_id-{fy27.id}": "23"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Nothing was saved" in html
    assert "23 already stands for FY2026" in _field_error(html, fy27.id)
    assert _field_error(html, world.period.id) == ""
    assert f'id="erp_id-{fy27.id}" name="erp_id-{fy27.id}" value="23"' in html    # what was typed stays
    # Only FY2027's field sent (FY2026 keeps its number): the service refuses it, shown at the field.
    resp = client.post(URL, data={f"erp_id-{fy27.id}": "23"}, headers=HX)
    assert resp.status_code == 422 and "23 already stands for FY2026" in _field_error(resp.get_data(as_text=True),
                                                                                      fy27.id)
    assert _numbers() == {"FY2026": 23}


def test_not_a_number_and_swapping(app, world, login_as):
    fy27 = _second_period(world)
    client = login_as("admin")
    resp = client.post(URL, data={f"erp_id-{world.period.id}": "twenty", f"erp_id-{fy27.id}": "24"})
    assert resp.status_code == 422 and "whole number" in _field_error(resp.get_data(as_text=True), world.period.id)
    assert _numbers() == {}
    for bad in ("-1", "1234567", "2.0", "２３"):
        resp = client.post(URL, data={f"erp_id-{world.period.id}": bad})
        assert resp.status_code == 422, bad
    assert client.post(URL, data={f"erp_id-{world.period.id}": "23", f"erp_id-{fy27.id}": "24"}).status_code == 302
    assert client.post(URL, data={f"erp_id-{world.period.id}": "24", f"erp_id-{fy27.id}": "23"}).status_code == 302
    assert _numbers() == {"FY2026": 24, "FY2027": 23}


def test_the_form_carries_its_csrf_token(make_app, backend):
    """With CSRF protection on: a post without the token changes nothing, the page's own token works."""
    from tests.helpers import PASSWORD
    app = make_app(backend, world=True, WTF_CSRF_ENABLED=True)
    with app.app_context():
        from testkit.world import load_world
        world = load_world()
        client = app.test_client()
        login_page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
        assert client.post("/login", data={"username": "admin", "password": PASSWORD,
                                           "csrf_token": token}).status_code == 302
        field = f"erp_id-{world.period.id}"
        assert client.post(URL, data={field: "23"}).status_code == 400
        assert _numbers() == {}
        html = client.get(URL).get_data(as_text=True)
        form = re.search(r"<form\b[^>]*hx-post.*?</form>", html, re.S).group(0)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        assert client.post(URL, data={field: "23", "csrf_token": token}).status_code == 302
        assert _numbers() == {"FY2026": 23}
