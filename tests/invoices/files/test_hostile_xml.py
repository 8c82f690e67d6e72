"""Hostile XML inside an uploaded Excel invoice file (entity expansion, external entities, any DTD,
an oversized part) is refused with a clear message, cheaply, and nothing is written."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.errors import InvalidInput
from app.extensions import db
from app.invoices import file_loading as fl
from app.invoices.models import Invoice
from app.spreadsheets import MAX_PART_BYTES
from tests.hostile_workbooks import hostile, oversized_part, peak_memory
from tests.invoices.files.helpers import LABELS

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
ROWS = [[LABELS["number"], LABELS["invoice_date"], LABELS["total_amount"], LABELS["unit_price"]],
        ["X-1", "2026-03-02", 10, 10]]
MB = 1024 * 1024


@pytest.mark.parametrize("kind", ["billion_laughs", "quadratic", "external_entity", "dtd_only", "utf16"])
def test_H12_03_excel_invoice_file_with_a_dtd_is_refused(app, world, vendors, kind):
    def check():
        with pytest.raises(InvalidInput) as refused:
            fl.check_file(world.user("invoicer"), vendors.plain, hostile(ROWS, kind), "march.xlsx")
        return refused.value
    refused, peak = peak_memory(check)
    assert refused.field == "file" and "DTD" in refused.message, refused.message
    assert "/etc/passwd" not in refused.message and "root:" not in refused.message
    assert peak < 8 * MB, f"peak {peak / MB:.1f} MB"


def test_H12_03_excel_invoice_file_with_an_oversized_part_is_refused(app, world, vendors):
    data = oversized_part(ROWS, MAX_PART_BYTES + 4 * MB)
    with pytest.raises(InvalidInput, match=f"at most {MAX_PART_BYTES // MB} MB"):
        fl.check_file(world.user("invoicer"), vendors.plain, data, "march.xlsx")


def test_H12_03_the_upload_page_refuses_billion_laughs_and_writes_nothing(app, world, vendors, login_as):
    client = login_as("invoicer")
    before = db.session.scalar(select(func.count()).select_from(Invoice))
    resp = client.post("/invoices/files/", data={"vendor": str(vendors.plain.id),
                                                 "file": (io.BytesIO(hostile(ROWS, "billion_laughs")), "m.xlsx")},
                       content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "DTD" in page and "lollol" not in page
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == before
