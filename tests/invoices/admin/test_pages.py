"""Invoicing administration pages: institution administrators only; settings, review rules, approval
rules (their order decides) and charge types, each change persisted and shown, with and without HTMX."""
from __future__ import annotations

import re
from decimal import Decimal

from markupsafe import escape

from app.extensions import db
from app.invoices import rules
from app.invoices import settings
from app.invoices.models import ApprovalRule, ChargeType, ReviewRule
from tests.helpers import login
from tests.invoices.helpers import invoice

HX = {"HX-Request": "true"}
PAGES = ("/admin/invoicing", "/admin/invoicing/review-rules", "/admin/invoicing/approval-rules",
         "/admin/invoicing/approval-rules/new", "/admin/invoicing/charge-types")


def _rule(kind: str) -> ReviewRule:
    return db.session.scalar(db.select(ReviewRule).filter_by(kind=kind))


def _rules() -> list[tuple[int, str]]:
    db.session.expire_all()
    return [(r.position, r.name) for r in rules.approval_rules()]


def _forms_work_without_javascript(html: str) -> None:
    """Every hx-post sits in a real form posting to the same URL, with a CSRF token."""
    for form in re.findall(r"<form\b[^>]*>.*?</form>", html, re.S):
        head = form[:form.index(">")]
        target = re.search(r'hx-post="([^"]+)"', head)
        if target:
            assert 'method="post"' in head and f'action="{target.group(1)}"' in head, head
            assert 'name="csrf_token"' in form, head
    assert html.count("hx-post=") == len(re.findall(r"<form\b[^>]*hx-post=", html))


# -- who may -----------------------------------------------------------------------------------

def test_only_institution_administrators(app, world, admin_a):
    rule = _rule("possible_duplicate")
    for username in ("viewer", "fundmgr", "buyer", "invoicer", "invoicer-ext", "invmanager", "admin-a"):
        client = login(app.test_client(), username)
        for url in PAGES:
            assert client.get(url).status_code == 403, (username, url)
            assert client.get(url, headers=HX).status_code == 403, (username, url)
        assert client.post("/admin/invoicing/settings", data={"key": "invoice_skip_erp", "value": "true"}
                           ).status_code == 403
        assert client.post(f"/admin/invoicing/review-rules/{rule.id}", data={"active": "false"}).status_code == 403
        assert client.post("/admin/invoicing/approval-rules/new", data={"name": "Sneaky"}).status_code == 403
        assert client.post("/admin/invoicing/charge-types", data={"code": "x", "name": "X"}).status_code == 403
    db.session.expire_all()
    assert settings.get("invoice_skip_erp") is False and _rule("possible_duplicate").active
    assert _rules() == [] and db.session.scalar(db.select(db.func.count()).select_from(ChargeType)) == 0
    admin = login(app.test_client(), "admin")
    for url in PAGES:
        resp = admin.get(url)
        assert resp.status_code == 200, url
        _forms_work_without_javascript(resp.get_data(as_text=True))
    assert 'href="/admin/invoicing"' in admin.get("/admin/users").get_data(as_text=True)


# -- settings ----------------------------------------------------------------------------------

def _switch(html: str, key: str) -> str:
    item = re.search(rf'<li id="setting-{key}">(.*?)</li>', html, re.S).group(1)
    return re.search(r'aria-checked="(true|false)"', item).group(1)


def test_settings_switches_persist_with_and_without_htmx(app, world):
    client = login(app.test_client(), "admin")
    page = client.get("/admin/invoicing").get_data(as_text=True)
    for key, label in settings.LABELS.items():
        assert label in page
        assert _switch(page, key) == ("true" if settings.DEFAULTS[key] else "false")
    # without JavaScript: a plain form post, redirected back with a message
    resp = client.post("/admin/invoicing/settings", data={"key": "invoice_skip_erp", "value": "true"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/invoicing")
    page = client.get("/admin/invoicing").get_data(as_text=True)
    assert _switch(page, "invoice_skip_erp") == "true" and "now on" in page
    # with HTMX: the section comes back, switched
    resp = client.post("/admin/invoicing/settings", data={"key": "handle_invoice_payment", "value": "false"},
                       headers=HX)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and html.lstrip().startswith('<section class="card" id="invoice-settings">')
    assert _switch(html, "handle_invoice_payment") == "false" and "<html" not in html
    db.session.expire_all()
    assert settings.all_settings() == {"invoice_skip_erp": True, "handle_invoice_payment": False,
                                       "invoice_use_pro_rata": True, "accrual_accounting": False}
    for data, text in (({"key": "colour", "value": "true"}, "Unknown setting"),
                       ({"key": "accrual_accounting", "value": "maybe"}, "on or off")):
        resp = client.post("/admin/invoicing/settings", data=data, headers=HX)
        assert resp.status_code == 400 and text in resp.get_data(as_text=True)
    db.session.expire_all()
    assert settings.get("accrual_accounting") is False


# -- review rules ------------------------------------------------------------------------------

def test_review_rules_toggle_and_threshold(app, world, vendors):
    client = login(app.test_client(), "admin")
    page = client.get("/admin/invoicing/review-rules").get_data(as_text=True)
    for text in ReviewRule.KINDS.values():
        assert str(escape(text)) in page
    duplicate, price = _rule("possible_duplicate"), _rule("price_differs")
    resp = client.post(f"/admin/invoicing/review-rules/{duplicate.id}", data={"active": "false"}, headers=HX)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="review-rules"' in html
    row = re.search(r'<tr id="review-rule-possible_duplicate">(.*?)</tr>', html, re.S).group(1)
    assert 'aria-checked="false"' in row
    resp = client.post(f"/admin/invoicing/review-rules/{price.id}", data={"threshold_percent": "25.5"})
    assert resp.status_code == 302
    assert 'value="25.50"' in client.get("/admin/invoicing/review-rules").get_data(as_text=True)
    for value in ("abc", "150", ""):
        resp = client.post(f"/admin/invoicing/review-rules/{price.id}", data={"threshold_percent": value}, headers=HX)
        assert resp.status_code == 400, value
    resp = client.post(f"/admin/invoicing/review-rules/{duplicate.id}", data={"threshold_percent": "5"}, headers=HX)
    assert resp.status_code == 400 and "Only the price rule" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert (_rule("possible_duplicate").active, _rule("price_differs").threshold_percent) == (False, Decimal("25.50"))
    assert _rule("possible_duplicate").threshold_percent is None
    # the switched-off rule no longer keeps a same-total, same-day invoice in review
    op = world.user("invoicer")
    invoice(world, op, vendors.plain, number="D-1")
    second = invoice(world, op, vendors.plain, number="D-2", process=True)
    assert second.status == "in_approval" and second.review_problems == []


# -- approval rules ----------------------------------------------------------------------------

def _rule_form(**overrides) -> dict:
    data = {"name": "Rule", "min_total": "", "max_total": "", "vendor": "", "fund": "", "owner_library": "",
            "channel": "", "decision": "manual"}
    data.update(overrides)
    return data


def test_approval_rules_add_edit_move_delete_and_first_match_wins(app, world, vendors):
    client = login(app.test_client(), "admin")
    page = client.get("/admin/invoicing/approval-rules").get_data(as_text=True)
    assert "First match wins; no match: manual approval." in page
    resp = client.post("/admin/invoicing/approval-rules/new", data=_rule_form(
        name="Small ones go through", max_total="500.00", vendor=str(vendors.plain.id), decision="automatic"))
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/invoicing/approval-rules")
    resp = client.post("/admin/invoicing/approval-rules/new", data=_rule_form(
        name="Everything by hand", approver_not_creator="y"))
    assert resp.status_code == 302
    assert _rules() == [(1, "Small ones go through"), (2, "Everything by hand")]
    page = client.get("/admin/invoicing/approval-rules").get_data(as_text=True)
    assert page.index("Small ones go through") < page.index("Everything by hand")
    assert "Total at most 500.00" in page and "Vendor PLAIN" in page and "Automatic approval" in page
    assert "the approver must not be the creator" in page

    op = world.user("invoicer")
    first = invoice(world, op, vendors.plain, number="R-1", amounts=("100.00",), process=True)
    assert first.status == "ready_to_be_paid"     # rule 1 matched: approved automatically
    assert "Small ones go through" in first.history[-1].note

    small, by_hand = (db.session.scalar(db.select(ApprovalRule).filter_by(name=n))
                      for n in ("Small ones go through", "Everything by hand"))
    resp = client.post(f"/admin/invoicing/approval-rules/{by_hand.id}/move", data={"direction": "up"}, headers=HX)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and html.lstrip().startswith('<section id="approval-rules">')
    assert html.index("Everything by hand") < html.index("Small ones go through")
    assert _rules() == [(1, "Everything by hand"), (2, "Small ones go through")]
    second = invoice(world, op, vendors.plain, number="R-2", amounts=("101.00",), process=True)
    assert second.status == "in_approval"          # now the manual rule comes first
    # ...and it wants another approver than the creator
    assert client.post(f"/admin/invoicing/approval-rules/{by_hand.id}/move", data={"direction": "up"}
                       ).status_code == 302    # at the top already: nothing moves
    assert _rules() == [(1, "Everything by hand"), (2, "Small ones go through")]

    # edit: the small rule now only covers LIBB's invoices; moved back up it matches nothing of A's
    resp = client.get(f"/admin/invoicing/approval-rules/{small.id}")
    assert resp.status_code == 200 and 'value="500.00"' in resp.get_data(as_text=True)
    resp = client.post(f"/admin/invoicing/approval-rules/{small.id}", data=_rule_form(
        name="Small ones of B", max_total="500.00", owner_library=str(world.lib_b.id), decision="automatic"))
    assert resp.status_code == 302
    client.post(f"/admin/invoicing/approval-rules/{small.id}/move", data={"direction": "up"})
    assert _rules() == [(1, "Small ones of B"), (2, "Everything by hand")]
    third = invoice(world, op, vendors.plain, number="R-3", amounts=("102.00",), process=True)
    assert third.status == "in_approval"
    fourth = invoice(world, op, vendors.plain, number="R-4", amounts=("103.00",), library="b", process=True)
    assert fourth.status == "ready_to_be_paid"

    resp = client.post(f"/admin/invoicing/approval-rules/{by_hand.id}/delete", headers=HX)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "rule “Everything by hand” deleted" in html and "Everything by hand</a>" not in html
    assert _rules() == [(1, "Small ones of B")]
    client.post(f"/admin/invoicing/approval-rules/{small.id}/delete")
    assert _rules() == []
    assert "No approval rules yet" in client.get("/admin/invoicing/approval-rules").get_data(as_text=True)
    fifth = invoice(world, op, vendors.plain, number="R-5", amounts=("104.00",), library="b", process=True)
    assert fifth.status == "in_approval"           # no match: manual approval


def test_approval_rule_form_refusals(app, world, vendors):
    client = login(app.test_client(), "admin")
    for data, text in ((_rule_form(name=""), "Give the rule a name"),
                       (_rule_form(min_total="100.00", max_total="50.00"), "minimum total is above"),
                       (_rule_form(min_total="1,000"), "minimum total"),
                       (_rule_form(decision="automatic", approver_not_creator="y"), "An automatic approval has no "
                                                                                    "approver"),
                       (_rule_form(fund=str(world.books.id)), "Not a valid choice")):  # summary funds are not offered
        resp = client.post("/admin/invoicing/approval-rules/new", data=data)
        assert resp.status_code == 422 and text in resp.get_data(as_text=True), (data, resp.status_code)
    assert _rules() == []
    assert client.get("/admin/invoicing/approval-rules/999999").status_code == 404


# -- charge types ------------------------------------------------------------------------------

def _own() -> list[tuple[str, bool]]:
    db.session.expire_all()
    return [(c.code, c.active) for c in rules.own_charge_types()]


def test_charge_types_built_in_read_only_and_at_most_five_of_the_librarys_own(app, world):
    client = login(app.test_client(), "admin")
    page = client.get("/admin/invoicing/charge-types").get_data(as_text=True)
    for name in ("Shipment", "Insurance", "Overhead", "Discount"):
        assert name in page
    resp = client.post("/admin/invoicing/charge-types", data={"code": "Binding", "name": "Binding costs"})
    assert resp.status_code == 302
    assert "Binding costs" in client.get("/admin/invoicing/charge-types").get_data(as_text=True)
    assert rules.charge_types()["binding"] == "Binding costs"
    for code, name in (("postage", "Postage"), ("handling", "Handling"), ("customs", "Customs")):
        assert client.post("/admin/invoicing/charge-types", data={"code": code, "name": name},
                           headers=HX).status_code == 200
    for data, status, text in (({"code": "shipment", "name": "Mine"}, 400, "built-in"),
                               ({"code": "vat", "name": "Mine"}, 400, "built-in"),
                               ({"code": "two words", "name": "Mine"}, 400, "no spaces"),
                               ({"code": "binding", "name": "Again"}, 409, "already a charge type binding"),
                               ({"code": "nameless", "name": ""}, 400, "Give the charge type a name")):
        resp = client.post("/admin/invoicing/charge-types", data=data, headers=HX)
        assert resp.status_code == status and text in resp.get_data(as_text=True), (data, resp.status_code)
    assert client.post("/admin/invoicing/charge-types", data={"code": "fifth", "name": "Fifth"}).status_code == 302
    resp = client.post("/admin/invoicing/charge-types", data={"code": "sixth", "name": "Sixth"}, headers=HX)
    assert resp.status_code == 422 and "5 charge types of its own" in resp.get_data(as_text=True)
    assert len(_own()) == 5

    binding = db.session.scalar(db.select(ChargeType).filter_by(code="binding"))
    resp = client.post(f"/admin/invoicing/charge-types/{binding.id}/active", data={"active": "false"}, headers=HX)
    assert resp.status_code == 200 and "deactivated" in resp.get_data(as_text=True)
    assert ("binding", False) in _own() and "binding" not in rules.charge_types()
    assert client.post("/admin/invoicing/charge-types", data={"code": "sixth", "name": "Sixth"}).status_code == 302
    resp = client.post(f"/admin/invoicing/charge-types/{binding.id}/active", data={"active": "true"}, headers=HX)
    assert resp.status_code == 422 and "deactivate one first" in resp.get_data(as_text=True)
    assert ("binding", False) in _own() and sum(active for _, active in _own()) == 5
