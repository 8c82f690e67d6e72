"""Free text (notes, reasons, descriptions, messages) is at most MAX_TEXT_LENGTH characters, on every
form and in every API body, with a clear 400 that names the field; nothing is stored. Invoice notes
that come from files (Excel, EDI) are held to the same limit by the invoice service."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.errors import InvalidInput
from app.extensions import db
from app.invoices import services as ivs
from app.invoices.models import Invoice
from app.limits import MAX_TEXT_LENGTH
from app.vendors.models import Vendor
from tests.api.helpers import error_of  # noqa: F401  (api: a fixture)
from tests.helpers import login
from tests.invoices.helpers import lines, make_vendors

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
HX = {"HX-Request": "true"}
LONG = "x" * (MAX_TEXT_LENGTH + 1)


def _vendor_form(notes: str, code: str) -> dict:
    return {"code": code, "name": "New", "currency": "EUR", "status": "active", "governmental_vendor": "",
            "notes": notes}


def _vendors(code: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Vendor).where(Vendor.code == code))


def test_H12_11_a_note_of_10001_characters_is_refused_on_a_form(app, world):
    assert MAX_TEXT_LENGTH == 10_000
    buyer = login(app.test_client(), "buyer")
    for headers in (HX, {}):
        resp = buyer.post("/vendors/new", data=_vendor_form(LONG, "LONG"), headers=headers)
        text = resp.get_data(as_text=True)
        assert resp.status_code == 400 and "10,000 characters" in text and "notes" in text.lower(), text[:300]
        assert LONG not in text
    assert _vendors("LONG") == 0
    ok = buyer.post("/vendors/new", data=_vendor_form("x" * MAX_TEXT_LENGTH, "FULL"), headers=HX)
    assert ok.status_code == 204 and _vendors("FULL") == 1


def test_H12_11_the_form_field_carries_the_limit_for_the_browser(app, world):
    page = login(app.test_client(), "buyer").get("/vendors/new").get_data(as_text=True)
    assert f'maxlength="{MAX_TEXT_LENGTH}"' in page


def test_H12_11_a_note_of_10001_characters_is_refused_by_the_api(app, world, api):
    vendors = make_vendors(world)
    buyer = api("buyer")
    error = error_of(buyer.post("/vendors", json={"code": "LONG", "name": "L", "currency": "EUR", "notes": LONG}),
                     400, "invalid")
    assert "10,000 characters" in error["message"] and error.get("field") == "notes", error
    assert _vendors("LONG") == 0
    before = db.session.scalar(select(func.count()).select_from(Invoice))
    body = {"number": "LONG-1", "vendor": vendors.plain.code, "invoice_date": "2026-03-01", "total_amount": "100.00",
            "owner_library": "LIBA", "notes": "ok",
            "lines": [{"price": "100.00", "note": LONG, "funds": [{"fund": "A-BKS", "percent": "100"}]}]}
    error = error_of(api("invoicer").post("/invoices", json=body), 400, "invalid")
    assert "10,000 characters" in error["message"] and error.get("field") == "lines[0].note", error
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == before


def test_H12_11_invoice_notes_from_any_channel_are_limited_by_the_service(app, world):
    vendors = make_vendors(world)
    fields = ivs.InvoiceFields(number="F-1", vendor=vendors.plain, invoice_date=date(2026, 3, 1),
                               total_amount="100.00", owner_library=world.lib_a, notes=LONG,
                               lines=lines("100.00", fund=world.fund_a))
    with pytest.raises(InvalidInput, match="10,000 characters") as refused:
        ivs.create_invoice(world.user("invoicer"), fields)
    assert refused.value.field == "notes"
    fields.notes = "ok"
    fields.lines[0].note = LONG
    with pytest.raises(InvalidInput, match="10,000 characters"):
        ivs.create_invoice(world.user("invoicer"), fields)
