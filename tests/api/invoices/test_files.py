"""Excel invoice files through the API: the template, the preview (rows and problems, nothing
written), the load as a background run followed by its id, and the refusals."""
from __future__ import annotations

import io
import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.invoices.models import Invoice
from tests.api.helpers import conforms, error_of
from tests.invoices.files.helpers import table, xlsx

ROWS = [
    {"number": "AF-1", "invoice_date": date(2026, 3, 2), "total_amount": 10, "unit_price": 10, "funds": "SHARED"},
    {"number": "AF-2", "invoice_date": date(2026, 3, 2), "total_amount": 10, "unit_price": 10, "funds": "NOFUND"},
]


def send(client, path, vendor="PLAIN", data=None, name="march.xlsx", **kw):
    form = {} if vendor is None else {"vendor": vendor}
    if data is not None:
        form["file"] = (io.BytesIO(data), name)
    return client.post(path, data=form, content_type="multipart/form-data", **kw)


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Invoice))


def test_template_preview_and_refusals(world, vendors, api):
    client = api("invoicer")
    resp = client.get("/invoice-files/template")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet") and resp.data[:2] == b"PK"
    error_of(api("viewer").get("/invoice-files/template"), 403, "forbidden")

    before = count()
    resp = send(client, "/invoice-files/actions/preview", data=xlsx(table(ROWS)))
    assert resp.status_code == 200, resp.get_json()
    preview = conforms(resp.get_json(), "InvoiceFilePreview")
    assert (preview["vendor"], preview["invoices"], preview["valid"], preview["invalid"], preview["problems"]) == (
        "PLAIN", 2, 1, 1, 1)
    first, second = preview["items"]
    assert (first["number"], first["state"], first["rows"], first["problems"]) == ("AF-1", "valid", [2], [])
    assert first["lines"][0]["funds"] == "SHARED" and first["outcome"]
    assert second["state"] == "invalid" and second["outcome"] is None
    assert second["problems"][0].startswith("Row 3: Funds: there is no fund NOFUND")
    assert second["lines"][0]["problems"]
    assert count() == before

    for kwargs, field in (({"vendor": None, "data": b"x"}, "vendor"), ({"vendor": "NOPE", "data": b"x"}, "vendor"),
                          ({}, "file"), ({"data": b"not a workbook"}, "file"),
                          ({"data": xlsx(table(ROWS)), "name": "march.csv"}, "file")):
        for path in ("/invoice-files/actions/preview", "/invoice-files/loads"):
            error = error_of(send(client, path, **kwargs), 400, "invalid")
            assert error["field"] == field, (path, kwargs, error)
    error_of(send(api("viewer"), "/invoice-files/actions/preview", data=xlsx(table(ROWS))), 403, "forbidden")
    error_of(client.get("/invoice-files/runs/999999"), 404, "not_found")
    error_of(client.get("/invoice-files/runs/99999999999999999999"), 404, "not_found")
    assert count() == before


@pytest.mark.committing
def test_load_runs_in_the_background_and_is_followed_by_its_id(app, world, vendors, scoped_users, api):
    client = api("invoicer")
    before = count()
    resp = send(client, "/invoice-files/loads", data=xlsx(table(ROWS)))
    assert resp.status_code == 201, resp.get_json()
    run = conforms(resp.get_json(), "InvoiceFileRun")
    assert resp.headers["Location"] == f"/api/v1/invoice-files/runs/{run['id']}"
    for thread in threading.enumerate():   # the run's thread: wait for it to end (no polling)
        if thread.name == f"run-{run['id']}":
            thread.join(60)
    resp = client.get(f"/invoice-files/runs/{run['id']}")
    assert resp.status_code == 200
    done = conforms(resp.get_json(), "InvoiceFileRun")
    assert (done["ended"], done["status"], done["started_by"], done["file_name"]) == (
        True, "completed", "invoicer", "march.xlsx")
    assert done["message"] == "1 invoice created for vendor PLAIN; 1 skipped."
    [created] = done["created"]
    db.session.expire_all()
    invoice = db.session.get(Invoice, created["invoice"])
    assert (created["number"], created["row"], invoice.channel) == ("AF-1", 2, "file")
    assert [s["number"] for s in done["skipped"]] == ["AF-2"] and "NOFUND" in done["skipped"][0]["reason"]
    assert count() == before + 1
    # another's run: for the institution's invoice staff only
    error_of(api("viewer").get(f"/invoice-files/runs/{run['id']}"), 403, "forbidden")
    error_of(api("invoicer-a").get(f"/invoice-files/runs/{run['id']}"), 404, "not_found")
    assert api("invoicer-ext").get(f"/invoice-files/runs/{run['id']}").status_code == 200
