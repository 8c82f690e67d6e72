"""The upload → preview → load pages: the template download, the preview's problems with nothing
written, the load of the valid invoices, the kept file tied to its user, refused files."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.invoices.models import Invoice
from tests.invoices.files.helpers import follow_load, table, xls, xlsx


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Invoice))


ROWS = [
    {"number": "PG-1", "invoice_date": date(2026, 3, 2), "total_amount": 10, "unit_price": 10, "funds": "SHARED"},
    {"number": "PG-2", "invoice_date": date(2026, 3, 2), "total_amount": 10, "unit_price": 10, "funds": "NOFUND"},
]


def _preview(client, vendor, data: bytes, name: str = "march.xlsx"):
    return client.post("/invoices/files/", data={"vendor": str(vendor.id), "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _token(page: str) -> str:
    return re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)


def test_upload_page_and_template(app, world, login_as):
    client = login_as("invoicer")
    page = client.get("/invoices/files/").get_data(as_text=True)
    assert "Load invoices from an Excel file" in page and "Download the template" in page and "PLAIN" not in page
    resp = client.get("/invoices/files/template.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    assert "invoice-template.xlsx" in resp.headers["Content-Disposition"]
    assert resp.data[:2] == b"PK"
    assert login_as("viewer").get("/invoices/files/").status_code == 403


@pytest.mark.committing
def test_preview_then_load_the_valid_invoices(app, world, vendors, login_as, tmp_path):
    app.config["INVOICE_FILE_FOLDER"] = str(tmp_path)
    client = login_as("invoicer")
    before = _count()
    resp = _preview(client, vendors.plain, xlsx(table(ROWS)))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Nothing has been saved yet" in page and "1 invoice cannot be loaded" in page
    assert "Row 3: Funds: there is no fund NOFUND" in page and "Load 1 valid invoice" in page
    assert _count() == before
    assert len(list(tmp_path.glob("*.upload"))) == 1
    token = _token(page)
    # another user cannot load this user's file
    other = login_as("invoicer-ext").post("/invoices/files/load", data={"token": token})
    assert other.status_code == 409 and _count() == before
    page = follow_load(client, client.post("/invoices/files/load", data={"token": token}))
    assert "1 invoice created for vendor PLAIN; 1 skipped" in page
    created = db.session.scalar(select(Invoice).filter_by(number="PG-1"))
    assert created.channel == "file" and f"/invoices/{created.id}" in page
    assert "PG-2" in page and "there is no fund NOFUND" in page
    assert _count() == before + 1 and list(tmp_path.glob("*.upload")) == []
    # loading twice is refused: the file is gone
    assert client.post("/invoices/files/load", data={"token": token}).status_code == 409
    assert _count() == before + 1


def test_xls_upload_previews(app, world, vendors, login_as):
    resp = _preview(login_as("invmanager"), vendors.plain, xls(table(ROWS)), "march.xls")
    assert resp.status_code == 200 and "Load 1 valid invoice" in resp.get_data(as_text=True)


@pytest.mark.parametrize("data, name, message", [
    (b"not excel", "notes.txt", "Choose an Excel file: .xlsx or .xls."),
    (b"PK\x03\x04broken", "broken.xlsx", "not an .xlsx workbook"),
    (b"", "", "Choose an Excel file (.xlsx or .xls)."),
])
def test_refused_files_come_back_to_the_form(app, world, vendors, login_as, data, name, message):
    client = login_as("invoicer")
    resp = client.post("/invoices/files/", data={"vendor": str(vendors.plain.id), "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")
    assert resp.status_code == 422 and message in resp.get_data(as_text=True)


def test_vendor_is_required(app, world, vendors, login_as):
    resp = login_as("invoicer").post("/invoices/files/", data={"vendor": "", "file": (io.BytesIO(b"x"), "a.xlsx")},
                                     content_type="multipart/form-data")
    assert resp.status_code == 422 and "Choose the vendor the invoices are from." in resp.get_data(as_text=True)


def test_a_forged_token_is_refused(app, world, vendors, login_as):
    client = login_as("invoicer")
    for token in ("../../secret_key", "0" * 32, ""):
        assert client.post("/invoices/files/load", data={"token": token}).status_code == 409


@pytest.mark.committing
def test_scoped_operator_page_loads_only_own_library(app, world, vendors, invoicer_a):
    from tests.helpers import login
    client = login(app.test_client(), "invoicer-a")
    rows = [dict(ROWS[0], number="SA-1", funds="A-BKS", owner_library="LIBA"),
            dict(ROWS[0], number="SB-1", funds="SHARED", owner_library="LIBB")]
    page = _preview(client, vendors.plain, xlsx(table(rows))).get_data(as_text=True)
    assert "You may only create invoices for your own library" in page
    page = follow_load(client, client.post("/invoices/files/load", data={"token": _token(page)}))
    assert "1 invoice created" in page
    assert db.session.scalars(select(Invoice.number).where(Invoice.channel == "file")).all() == ["SA-1"]
