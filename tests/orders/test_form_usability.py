"""The PO line form: the vendor account select lists the chosen vendor's accounts (refreshed when the vendor
changes); the server still refuses an account of another vendor; a refused form starts with an error
summary linking to each field in error."""
from __future__ import annotations

import re

from app.extensions import db
from app.vendors import services as vs
from tests.helpers import login
from tests.orders.test_views import HX, _form


def _accounts(world, orders):
    admin = world.user("admin")
    eur = vs.add_account(admin, orders.eur, "EUR-MAIN", "Main account")
    oth = vs.add_account(admin, orders.other, "OTH-MAIN", "Other's account")
    db.session.commit()
    return eur, oth


def _ids(vendor) -> set[str]:
    db.session.expire_all()
    return {str(a.id) for a in vendor.accounts}


def _options(html: str) -> set[str]:
    field = html[html.index('id="vendor-account-field"'):]
    field = field[:field.index("</select>")]
    return set(re.findall(r'<option[^>]*value="(\d*)"', field))


def test_account_select_lists_the_chosen_vendors_accounts(app, world, orders):
    eur, oth = _accounts(world, orders)
    client = login(app.test_client(), "buyer")
    assert _options(client.get("/orders/lines/new").data.decode()) == {""}, "no vendor, no account"
    # the vendor select's HTMX request: the answer carries the account field to swap out of band
    html = client.get(f"/orders/lines/new?vendor={orders.eur.id}&currency=", headers=HX).data.decode()
    assert _options(html) == {""} | _ids(orders.eur) and str(eur.id) in _ids(orders.eur)
    html = client.get(f"/orders/lines/new?vendor={orders.other.id}&vendor_account={eur.id}", headers=HX).data.decode()
    assert _options(html) == {""} | _ids(orders.other), "the other vendor's account is dropped"
    assert re.search(r'hx-select-oob="#vendor-account-field"', client.get("/orders/lines/new").data.decode())


def test_an_account_of_another_vendor_is_still_refused(app, world, orders):
    eur, oth = _accounts(world, orders)
    client = login(app.test_client(), "buyer")
    resp = client.post("/orders/lines/new", data=_form(world, orders, vendor_account=str(oth.id)), headers=HX)
    html = resp.data.decode()
    assert resp.status_code == 422 and 'id="vendor_account-err"' in html
    assert _options(html) == {"", str(oth.id)} | _ids(orders.eur), "the refused choice stays shown next to its message"
