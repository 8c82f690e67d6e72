"""H12-09: the possible-duplicate review check says only what the reader may see.

A Law invoice and a Medical one of the same vendor, total and date: the Medical invoice is kept In
Review as a possible duplicate. A Medical-only reader learns that a possible duplicate exists in
another library, never its number (page, HTMX fragments, task list, list, invoice form, API, history);
a reader who may see the Law invoice gets its number and a link. SQLite only: nothing here depends on
the database.
"""
from __future__ import annotations

import pytest

from app.auth.models import Role, User
from app.auth.services import create_user, issue_api_token
from app.extensions import db
from app.invoices import services as invoices
from app.invoices.models import Invoice, InvoiceEvent
from tests.helpers import PASSWORD, login
from tests.invoices.helpers import invoice

HX = {"HX-Request": "true"}
LAW_NUMBER = "LAW-7731"


@pytest.fixture
def pair(world, vendors):
    """(the Law invoice of library B, the Medical invoice of library A processed by an institution operator)."""
    operator = world.user("invoicer")
    law = invoice(world, operator, vendors.plain, number=LAW_NUMBER, library="b")
    med = invoice(world, operator, vendors.plain, number="MED-1", library="a", process=True)
    create_user(None, "invoicer-a", PASSWORD, roles=[(Role.INVOICE_OPERATOR, world.lib_a)])
    db.session.commit()
    assert med.status == "in_review" and med.review_problems
    return law, med


def _api_get(app, username, path):
    token = issue_api_token(None, db.session.scalar(db.select(User).filter_by(username=username)))
    db.session.commit()
    resp = app.test_client().get("/api/v1" + path, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return resp.get_data(as_text=True)


def _medical_pages(client, med: Invoice) -> dict[str, str]:
    url = f"/invoices/{med.id}"
    return {
        "page": client.get(url).get_data(as_text=True),
        "fragment": client.get(url + "?tab=history", headers=HX).get_data(as_text=True),
        "history": client.get(url + "?tab=history").get_data(as_text=True),
        "list": client.get("/invoices/").get_data(as_text=True),
        "list fragment": client.get("/invoices/?q=MED", headers=HX).get_data(as_text=True),
    }


def test_H12_09_a_medical_reader_is_not_told_the_law_invoice_number(app, world, pair):
    law, med = pair
    stored = " ".join(med.review_problems) + " ".join(
        e.note or "" for e in db.session.scalars(db.select(InvoiceEvent).filter_by(invoice_id=med.id)))
    assert LAW_NUMBER not in stored, "nothing stored with the invoice names the other library's invoice"

    for username in ("viewer-a", "invoicer-a"):
        client = login(app.test_client(), username)
        seen = _medical_pages(client, med)
        if username == "invoicer-a":
            seen["tasks"] = client.get("/invoices/tasks/review").get_data(as_text=True)
            seen["tasks fragment"] = client.get("/invoices/tasks/review", headers=HX).get_data(as_text=True)
            seen["form"] = client.get(f"/invoices/{med.id}/edit").get_data(as_text=True)
        seen["api one"] = _api_get(app, username, f"/invoices/{med.id}")
        seen["api list"] = _api_get(app, username, "/invoices")
        for where, html in seen.items():
            assert LAW_NUMBER not in html, (username, where)
            assert f"/invoices/{law.id}\"" not in html, (username, where)
        assert "possible duplicate exists in another library" in seen["page"].lower(), username
        assert "possible duplicate exists in another library" in seen["api one"].lower(), username

    # processing it again as the Medical operator: the flash message keeps to the same rule
    client = login(app.test_client(), "invoicer-a")
    resp = client.post(f"/invoices/{med.id}/process", follow_redirects=True)
    assert LAW_NUMBER not in resp.get_data(as_text=True)
    assert LAW_NUMBER not in " ".join(db.session.get(Invoice, med.id).review_problems)


def test_H12_09_a_reader_who_may_see_the_duplicate_gets_its_number_and_link(app, world, pair):
    law, med = pair
    client = login(app.test_client(), "viewer")
    page = client.get(f"/invoices/{med.id}").get_data(as_text=True)
    assert "Possible duplicate of invoice" in page and LAW_NUMBER in page
    assert f'href="/invoices/{law.id}"' in page
    assert LAW_NUMBER in client.get(f"/invoices/{med.id}?tab=lines", headers=HX).get_data(as_text=True)
    assert LAW_NUMBER in _api_get(app, "viewer", f"/invoices/{med.id}")
    # for a Law reader (who may not open the Medical invoice) the duplicate would be named: it is theirs
    problems = invoices.review_problems_for(world.user("viewer-b"), med)
    assert any(LAW_NUMBER in p.text for p in problems)


def test_H12_09_an_invoice_stored_with_the_old_wording_is_reworded_for_the_reader(app, world, pair):
    law, med = pair
    med.review_problems = [f"Possible duplicate of invoice {LAW_NUMBER}: same vendor, total and date."]
    db.session.commit()
    page = login(app.test_client(), "viewer-a").get(f"/invoices/{med.id}").get_data(as_text=True)
    assert LAW_NUMBER not in page and "possible duplicate exists in another library" in page.lower()
    assert LAW_NUMBER in login(app.test_client(), "viewer").get(f"/invoices/{med.id}").get_data(as_text=True)


def test_H12_09_loading_a_file_names_no_duplicate_of_another_library(app, world, vendors, pair):
    from datetime import date

    from app.invoices import file_loading as fl
    from tests.invoices.files.helpers import table, xlsx
    invoice(world, world.user("invoicer"), vendors.plain, number="LAW-2", library="b", amounts=("77.00",))
    rows = [{"number": "MED-FILE", "invoice_date": date(2026, 3, 1), "total_amount": 77, "owner_library": "LIBA",
             "unit_price": 77, "funds": "A-BKS"}]
    operator = db.session.scalar(db.select(User).filter_by(username="invoicer-a"))
    for run in (fl.check_file, fl.load_file):
        check = run(operator, vendors.plain, xlsx(table(rows)), "med.xlsx")
        warnings = " ".join(check.invoices[0].warnings)
        assert "LAW-2" not in warnings and "possible duplicate exists in another library" in warnings.lower(), \
            (run.__name__, warnings, check.invoices[0].problems)
        db.session.rollback()
