"""The EDI pages through the test client: upload → result, the inbox and a message, the vendor
settings form, who may see them."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.auth.services import create_user
from app.extensions import db
from app.integrations.edi.models import EdiMessage, VendorEdiSetting
from app.invoices.models import Invoice
from tests.helpers import PASSWORD
from testkit.erp import local_connection, wait_for_run
from tests.integrations.edi.helpers import interchange, invoic, pol

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _upload(client, vendor, data: bytes, name: str = "inv.edi"):
    """Upload, wait for the background run to end, and answer its page."""
    resp = client.post("/invoices/edi/upload", data={"vendor": str(vendor.id) if vendor else "",
                                                     "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")
    assert resp.status_code == 303, resp.get_data(as_text=True)[:300]
    wait_for_run(int(resp.headers["Location"].rsplit("/", 1)[1]))
    return client.get(resp.headers["Location"])


@pytest.mark.committing
@SQLITE
def test_upload_creates_invoices_and_lists_the_failures(app, world, orders, login_as):
    p = pol(world, orders.eur)
    client = login_as("invoicer")
    page = client.get("/invoices/edi/upload").get_data(as_text=True)
    assert "Upload an EDIFACT invoice file" in page and "EURV" in page
    data = interchange(invoic("U-1", [(p.number, 2, "20.00", "40.00", None, None)], ref="1", total="40.00"),
                       invoic("U-2", [("POL-999999", 1, "5.00", "5.00", None, None)], ref="2", total="5.00"))
    resp = _upload(client, orders.eur, data, "march.edi")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<strong>1</strong> invoice(s) created; <strong>1</strong> message(s) kept in the inbox" in page
    assert "order line POL-999999 unknown" in page
    inv = db.session.scalar(select(Invoice).filter_by(number="U-1"))
    assert inv is not None and inv.channel == "edi"
    # the same file again
    page = _upload(client, orders.eur, data, "again.edi").get_data(as_text=True)
    assert "The same file was received already: march.edi" in page
    # the inbox lists all three rows; the filter narrows
    page = client.get("/invoices/edi/").get_data(as_text=True)
    assert page.count('class="edi-') == 3 and "Failed (1)" in page and "Duplicate file (1)" in page
    page = client.get("/invoices/edi/?status=invoice_created").get_data(as_text=True)
    assert "U-1" in page and "U-2" not in page
    failed = db.session.scalar(select(EdiMessage).filter_by(status="failed"))
    page = client.get(f"/invoices/edi/{failed.id}").get_data(as_text=True)
    assert "Retry" in page and "RFF+LI:POL-999999" in page and "order line POL-999999 unknown" in page


@pytest.mark.committing
@SQLITE
def test_upload_refusals(app, world, orders, login_as):
    client = login_as("invoicer")
    resp = client.post("/invoices/edi/upload", data={"vendor": str(orders.eur.id)}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "Choose an EDIFACT file" in resp.get_data(as_text=True)
    page = _upload(client, None, b"NOT EDI AT ALL").get_data(as_text=True)
    assert "must start with UNA or UNB" in page


@SQLITE
def test_who_sees_the_pages(app, world, orders, login_as):
    create_user(None, "invoicer-a", PASSWORD, roles=[(Role.INVOICE_OPERATOR, world.lib_a)])
    db.session.commit()
    assert login_as("invoicer-a").get("/invoices/edi/").status_code == 403
    assert login_as("viewer").get("/invoices/edi/").status_code == 403
    assert login_as("invmanager").get("/invoices/edi/upload").status_code == 200
    assert login_as("invoicer").get("/invoices/edi/settings").status_code == 403
    assert login_as("admin").get("/invoices/edi/settings").status_code == 200


@pytest.mark.committing
@SQLITE
def test_settings_form(app, world, orders, login_as, tmp_path):
    conn, _root = local_connection(world.user("admin"), tmp_path)
    db.session.commit()
    client = login_as("admin")
    url = f"/invoices/edi/settings/{orders.eur.id}"
    assert "EDI settings of Euro Books (EURV)" in client.get(url).get_data(as_text=True)
    resp = client.post(url, data={"connection": str(conn.id), "folder": "../up", "schedule": "none"})
    assert resp.status_code == 422 and "may not contain" in resp.get_data(as_text=True)
    resp = client.post(url, data={"connection": str(conn.id), "folder": "edi/eurv", "active": "y",
                                  "schedule": "weekly", "schedule_time": "07:15", "schedule_day": "2"})
    assert resp.status_code == 302
    setting = db.session.scalar(select(VendorEdiSetting).filter_by(vendor_id=orders.eur.id))
    assert (setting.connection_id, setting.folder, setting.active, setting.schedule, setting.schedule_time,
            setting.schedule_day, setting.version) == (conn.id, "edi/eurv", True, "weekly", "07:15", 2, 1)
    page = client.get("/invoices/edi/settings").get_data(as_text=True)
    assert "Weekly on Wednesday at 07:15" in page
    # the form shows the saved values; "Fetch now" runs the job (the folder is empty)
    assert 'value="edi/eurv"' in client.get(url).get_data(as_text=True)
    (tmp_path / "edi" / "eurv").mkdir(parents=True)
    resp = client.post(f"/invoices/edi/settings/{orders.eur.id}/fetch")   # a background run: its page
    assert resp.status_code == 302 and "/jobs/runs/" in resp.headers["Location"]
    run = wait_for_run(int(resp.headers["Location"].rsplit("/", 1)[1]))
    assert (run.status, run.job, run.trigger, run.profile_code) == ("completed", "fetch_edi", "manual", "EDI-EURV")
    assert "Fetch EDI invoices" in client.get(resp.headers["Location"]).get_data(as_text=True)
