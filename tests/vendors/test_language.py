"""A vendor's language of letters (``Vendor.language``): the vendor form's select, the service's check,
the vendor page, the list's column and export, and the API's ``language`` (null: the institution's default)."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from app import list_columns
from app.errors import Forbidden, InvalidInput
from app.extensions import db
from app.i18n import LANGUAGES
from app.vendors import services as vendors
from app.vendors.models import Vendor
from tests.api.helpers import conforms, error_of
from tests.helpers import login

HX = {"HX-Request": "true"}


def _vendor(world, code="ACME", **kw):
    v = vendors.create_vendor(world.user("admin"), code, vendors.VendorFields(name="Acme Books", currency="EUR", **kw))
    db.session.commit()
    return v


def test_service_keeps_a_known_language_or_none(app, world):
    v = _vendor(world, language="zh_Hans")
    assert v.language == "zh_Hans" and vendors.VendorFields.of(v).language == "zh_Hans"
    data = vendors.VendorFields.of(v)
    for unknown in ("fr", "zh", "ZH_HANS", "english"):
        data.language = unknown
        with pytest.raises(InvalidInput, match="language of letters") as refused:
            vendors.update_vendor(world.user("admin"), v, data)
        assert refused.value.field == "language"
        db.session.rollback()
    data.language = ""   # the form's "institution's default"
    vendors.update_vendor(world.user("admin"), v, data)
    db.session.commit()
    assert db.session.get(Vendor, v.id).language is None
    assert set(vendors.letter_languages()) == set(LANGUAGES)


def test_language_is_shared_institution_data(app, world, buyer_a):
    """Every library's letters to the vendor follow it: a library-scoped buyer may not change it."""
    v = _vendor(world)
    data = vendors.VendorFields.of(v)
    data.language = "zh_Hans"
    with pytest.raises(Forbidden, match="language of letters"):
        vendors.update_vendor(buyer_a, v, data)
    db.session.rollback()
    data = vendors.VendorFields.of(db.session.get(Vendor, v.id))
    data.notes = "only the notes"
    vendors.update_vendor(buyer_a, db.session.get(Vendor, v.id), data)   # the language stays as it is
    assert db.session.get(Vendor, v.id).language is None


def test_form_select_page_and_list(app, world):
    from app.vendors.forms import VendorForm
    v = _vendor(world)
    with app.test_request_context():
        choices = VendorForm().language.choices
    assert [c[0] for c in choices] == ["", *LANGUAGES] and choices[-1][1] == "简体中文"

    buyer = login(app.test_client(), "buyer")
    form = buyer.get(f"/vendors/{v.id}/edit").get_data(as_text=True)
    assert 'name="language"' in form and "Language of letters" in form and "简体中文" in form
    posted = {"name": "Acme Books", "currency": "EUR", "status": "active", "governmental_vendor": "",
              "order_channel": "none"}
    bad = buyer.post(f"/vendors/{v.id}/edit", data={**posted, "language": "fr"}, headers=HX)
    assert bad.status_code == 422 and db.session.get(Vendor, v.id).language is None
    ok = buyer.post(f"/vendors/{v.id}/edit", data={**posted, "language": "zh_Hans"}, headers=HX)
    assert ok.status_code == 204
    db.session.expire_all()
    assert db.session.get(Vendor, v.id).language == "zh_Hans"
    page = buyer.get(f"/vendors/{v.id}").get_data(as_text=True)
    assert "Language of letters" in page and '<dd class="vendor-language">简体中文</dd>' in page
    edit = buyer.get(f"/vendors/{v.id}/edit").get_data(as_text=True)
    assert '<option selected value="zh_Hans">' in edit or '<option value="zh_Hans" selected>' in edit

    # back to the institution's default
    assert buyer.post(f"/vendors/{v.id}/edit", data={**posted, "language": ""}, headers=HX).status_code == 204
    db.session.expire_all()
    assert db.session.get(Vendor, v.id).language is None
    assert "The institution&#39;s default" in buyer.get(f"/vendors/{v.id}").get_data(as_text=True)


def test_list_column_and_export(app, world):
    _vendor(world, language="zh_Hans")
    _vendor(world, "ZED")
    user = world.user("viewer")
    list_columns.save(user, list_columns.TABLES["vendors"], ["code", "language"])
    db.session.commit()
    client = login(app.test_client(), "viewer")
    page = client.get("/vendors/").get_data(as_text=True)
    assert "Language of letters" in page and "简体中文" in page
    sheet = load_workbook(io.BytesIO(client.get("/vendors/export.xlsx").data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Code", "Language of letters"]
    assert rows[1:] == [["ACME", "简体中文"], ["ZED", "The institution's default"]]


def test_api_language(app, world, api):
    buyer, viewer = api("buyer"), api("viewer")
    created = buyer.post("/vendors", json={"code": "ZH", "name": "Zhonghua", "currency": "CNY", "language": "zh_Hans"})
    assert created.status_code == 201, created.get_json()
    assert conforms(created.get_json(), "Vendor")["language"] == "zh_Hans"
    plain = buyer.post("/vendors", json={"code": "EN", "name": "English Books", "currency": "EUR"})
    assert conforms(plain.get_json(), "Vendor")["language"] is None
    error = error_of(buyer.post("/vendors", json={"code": "FR", "name": "Fr", "currency": "EUR", "language": "fr"}),
                     400, "invalid")
    assert error["field"] == "language"

    done = buyer.change("patch", "/vendors/EN", json={"language": "en"})
    assert done.status_code == 200 and conforms(done.get_json(), "Vendor")["language"] == "en"
    done = buyer.change("patch", "/vendors/EN", json={"language": None})
    assert done.status_code == 200 and done.get_json()["language"] is None
    error_of(buyer.change("patch", "/vendors/EN", json={"language": "de"}), 400, "invalid")
    # PUT replaces every field: without a language, the institution's default
    done = buyer.change("put", "/vendors/ZH", json={"name": "Zhonghua", "currency": "CNY"})
    assert done.status_code == 200 and done.get_json()["language"] is None
    done = buyer.change("put", "/vendors/ZH", json={"name": "Zhonghua", "currency": "CNY", "language": "zh_Hans"})
    assert done.get_json()["language"] == "zh_Hans"
    assert viewer.get("/vendors/ZH").get_json()["language"] == "zh_Hans"
    assert db.session.scalar(db.select(Vendor.language).where(Vendor.code == "ZH")) == "zh_Hans"


def test_openapi_documents_the_language(app):
    from app.api.base import SCHEMAS
    for name in ("Vendor", "VendorInput", "VendorUpdate", "VendorPatch"):
        schema = SCHEMAS[name]["properties"]["language"]
        assert schema["enum"] == [*LANGUAGES, None] and "null" in schema["type"], name
        assert "institution's default" in schema["description"]
