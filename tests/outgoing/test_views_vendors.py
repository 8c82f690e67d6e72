"""Where letters go, on the vendor's pages: the order channel of a vendor and of an account, what
each contact receives (checkboxes), and the EDI settings' orders folder and syntax."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.integrations.edi.models import VendorEdiSetting
from app.vendors.models import Vendor, VendorAccount, VendorContact
from tests.helpers import login

HX = {"HX-Request": "true"}


def _vendor(code):
    return db.session.scalar(select(Vendor).filter_by(code=code))


def _vendor_form(**changed):
    data = {"name": "Euro Books", "status": "active", "currency": "EUR", "governmental_vendor": "",
            "order_channel": "email"}
    data.update(changed)
    return data


def test_vendor_form_saves_the_order_channel(app, world, orders):
    client = login(app.test_client(), "buyer")
    url = f"/vendors/{orders.eur.id}/edit"
    assert 'name="order_channel"' in client.get(url).data.decode()
    assert client.post(url, data=_vendor_form()).status_code == 302
    assert _vendor("EURV").order_channel == "email"
    page = client.get(f"/vendors/{orders.eur.id}").data.decode()
    assert '<dd class="order-channel">E-mail (to the order contact)</dd>' in page
    resp = client.post(url, data=_vendor_form(order_channel="edi"))
    assert resp.status_code == 422 and "EDI orders need the vendor&#39;s EDI ID" in resp.data.decode()
    assert _vendor("EURV").order_channel == "email"
    assert client.post(url, data=_vendor_form(order_channel="fax")).status_code == 422
    assert client.post(url, data=_vendor_form(order_channel="edi", edi_vendor_id="1234567",
                                              edi_id_qualifier="31B")).status_code == 302
    assert _vendor("EURV").order_channel == "edi"


def test_new_vendor_defaults_to_no_channel(app, world):
    client = login(app.test_client(), "admin")
    resp = client.post("/vendors/new", data=_vendor_form(code="NEWV", order_channel="print"))
    assert resp.status_code == 302 and _vendor("NEWV").order_channel == "print"
    from app.vendors import services as vs
    assert vs.create_vendor(world.user("admin"), "NOCH", vs.VendorFields(name="x", currency="EUR")).order_channel == "none"


def test_a_library_buyer_cannot_change_the_channel(app, world, orders, buyer_a):
    client = login(app.test_client(), "buyer-a")
    resp = client.post(f"/vendors/{orders.eur.id}/edit", data={"notes": "hello", "order_channel": "print"})
    assert resp.status_code == 403
    assert _vendor("EURV").order_channel == "none"


def test_account_order_channel_override(app, world, orders):
    client = login(app.test_client(), "admin")
    account = orders.eur.accounts[0]
    page = client.get(f"/vendors/{orders.eur.id}?tab=accounts").data.decode()
    assert f'name="a{account.id}-order_channel"' in page and "The vendor's (none (ordered by phone" in page
    resp = client.post(f"/vendors/{orders.eur.id}/accounts/{account.id}/channel",
                       data={f"a{account.id}-order_channel": "print"}, headers=HX)
    assert resp.status_code == 200 and "Order channel of account MAIN saved." in resp.data.decode()
    assert db.session.get(VendorAccount, account.id).order_channel == "print"
    client.post(f"/vendors/{orders.eur.id}/accounts/{account.id}/channel", data={f"a{account.id}-order_channel": ""})
    assert db.session.get(VendorAccount, account.id).order_channel is None, "back to the vendor's"
    resp = client.post(f"/vendors/{orders.eur.id}/accounts/{account.id}/channel",
                       data={f"a{account.id}-order_channel": "edi"}, headers=HX)
    assert resp.status_code == 422 and "EDI ID" in resp.data.decode()
    # a new account with its own channel
    resp = client.post(f"/vendors/{orders.eur.id}/accounts", data={"code": "SERIALS", "status": "active",
                                                                   "order_channel": "email"}, headers=HX)
    assert resp.status_code == 200
    assert db.session.scalar(select(VendorAccount).filter_by(code="SERIALS")).order_channel == "email"
    other = orders.usd
    resp = client.post(f"/vendors/{other.id}/accounts/{account.id}/channel",
                       data={f"a{account.id}-order_channel": "print"})
    assert resp.status_code == 422 and "No such account for vendor USDV" in resp.data.decode()
    assert db.session.get(VendorAccount, account.id).order_channel is None


def test_contact_roles_are_checkboxes(app, world, orders):
    client = login(app.test_client(), "buyer")
    resp = client.post(f"/vendors/{orders.eur.id}/contacts", headers=HX, data={
        "name": "Orders desk", "email": "orders@euro.example", "roles": ["order", "claim"]})
    assert resp.status_code == 200
    contact = db.session.scalar(select(VendorContact).filter_by(name="Orders desk"))
    assert contact.role_list == ["order", "claim"]
    page = client.get(f"/vendors/{orders.eur.id}").data.decode()
    assert f'name="c{contact.id}-roles" value="order" checked' in page
    assert f'name="c{contact.id}-roles" value="payment" >' in page
    resp = client.post(f"/vendors/{orders.eur.id}/contacts/{contact.id}/roles", headers=HX,
                       data={f"c{contact.id}-roles": ["payment"]})
    assert resp.status_code == 200 and "What Orders desk receives saved." in resp.data.decode()
    assert db.session.get(VendorContact, contact.id).roles == "payment"
    client.post(f"/vendors/{orders.eur.id}/contacts/{contact.id}/roles", data={})
    assert db.session.get(VendorContact, contact.id).roles == ""
    resp = client.post(f"/vendors/{orders.eur.id}/contacts/{contact.id}/roles", headers=HX,
                       data={f"c{contact.id}-roles": ["fax"]})
    assert resp.status_code == 422
    assert login(app.test_client(), "viewer").post(f"/vendors/{orders.eur.id}/contacts/{contact.id}/roles",
                                                   data={f"c{contact.id}-roles": ["order"]}).status_code == 403


@pytest.mark.committing
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_edi_settings_save_orders_folder_and_syntax(app, world, orders, login_as, tmp_path):
    from testkit.erp import local_connection
    conn, _root = local_connection(world.user("admin"), tmp_path)
    db.session.commit()
    client = login_as("admin")
    url = f"/invoices/edi/settings/{orders.eur.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'name="orders_folder"' in page and 'value="UNOW"' in page
    base = {"connection": str(conn.id), "folder": "edi/eurv", "schedule": "none"}
    resp = client.post(url, data=dict(base, orders_folder="../out", syntax="UNOW"))
    assert resp.status_code == 422
    assert client.post(url, data=dict(base, orders_folder="edi/eurv/in", syntax="UNOW")).status_code == 302
    setting = db.session.scalar(select(VendorEdiSetting).filter_by(vendor_id=orders.eur.id))
    assert (setting.orders_folder, setting.syntax) == ("edi/eurv/in", "UNOW")
    assert client.post(url, data=base).status_code == 302, "older forms without the fields keep working"
    db.session.expire_all()
    setting = db.session.scalar(select(VendorEdiSetting).filter_by(vendor_id=orders.eur.id))
    assert (setting.orders_folder, setting.syntax) == ("", "UNOC")
