"""The payment confirmation section's format page: XML or CSV with its column mapping, checked on
save with a message at the field to fix; institution administrators only; CSRF."""
import re

import pytest

from app.extensions import db
from app.integrations.formats.payment_csv import CsvMapping
from app.integrations.models import ProfileSection
from tests.helpers import login
from testkit.erp import erp_profile, local_connection

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
GOOD = {"confirmation_format": "csv", "amount_mismatch": "refuse", "separator": ";", "date_format": "%d.%m.%Y",
        "decimal": ",", "paid_values": "Paid, P", "rejected_values": "Rejected",
        "col_invoice_number": "Invoice", "col_erp_vendor_code": "Supplier", "col_payment_status": "State",
        "col_amount": "Sum", "col_voucher_date": "Paid on"}


@pytest.fixture
def profile(app, world, tmp_path):
    admin = world.user("admin")
    conn, _root = local_connection(admin, tmp_path / "erp")
    prof = erp_profile(admin, conn, folder_root=tmp_path / "erp")
    db.session.commit()
    return prof


def _section(profile) -> ProfileSection:
    db.session.expire_all()
    return db.session.scalar(db.select(ProfileSection).filter_by(profile_id=profile.id, job="import_payments"))


@SQLITE
def test_save_a_csv_mapping_and_see_it_again(app, world, profile):
    client = login(app.test_client(), "admin")
    url = f"/admin/erp/profiles/{profile.id}/payment-format"
    page = client.get(url).get_data(as_text=True)
    assert 'name="csrf_token"' in page and '<option value="xml" selected' in page
    resp = client.post(url, data=GOOD)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    s = _section(profile)
    assert (s.confirmation_format, s.amount_mismatch) == ("csv", "refuse")
    m = CsvMapping.from_json(s.csv_mapping)
    assert m.columns == {"invoice_number": "Invoice", "erp_vendor_code": "Supplier", "payment_status": "State",
                         "amount": "Sum", "voucher_date": "Paid on"}
    assert (m.separator, m.date_format, m.decimal, m.paid_values) == (";", "%d.%m.%Y", ",", ["Paid", "P"])
    page = client.get(url).get_data(as_text=True)
    assert 'value="State"' in page and 'value="Paid, P"' in page and '<option value=";" selected' in page
    profile_page = client.get(f"/admin/erp/profiles/{profile.id}").get_data(as_text=True)
    assert "CSV, refuses differing amounts" in profile_page
    tab = client.post(url, data=dict(GOOD, separator="tab"))
    assert tab.status_code == 302 and CsvMapping.from_json(_section(profile).csv_mapping).separator == "\t"


@SQLITE
@pytest.mark.parametrize("change, field, says", [
    ({"col_payment_status": ""}, "col_payment_status", "the status (paid or rejected): it is required"),
    ({"col_invoice_number": ""}, "col_invoice_number", "unique identifier column or of the invoice number"),
    ({"date_format": "%d/%m"}, "date_format", "needs a day (%d), a month (%m) and a year (%Y)"),
    ({"separator": ","}, "decimal", "cannot be the separator too"),
    ({"amount_mismatch": "ignore"}, "amount_mismatch", "warn or refuse"),
])
def test_a_bad_mapping_is_not_saved_and_the_field_says_why(app, world, profile, change, field, says):
    client = login(app.test_client(), "admin")
    resp = client.post(f"/admin/erp/profiles/{profile.id}/payment-format", data=dict(GOOD, **change))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert re.search(rf'<p class="error" id="{field}-err">[^<]*{re.escape(says)}', html.replace("&#39;", "'")), html
    assert 'value="Sum"' in html   # what was typed stays
    s = _section(profile)
    assert (s.confirmation_format, s.csv_mapping) == ("xml", "")


@SQLITE
def test_xml_with_an_empty_mapping_saves(app, world, profile):
    client = login(app.test_client(), "admin")
    resp = client.post(f"/admin/erp/profiles/{profile.id}/payment-format",
                       data={"confirmation_format": "xml", "amount_mismatch": "warn", "separator": ",",
                             "decimal": ".", "date_format": "", "paid_values": "PAID", "rejected_values": "REJECTED"})
    assert resp.status_code == 302
    s = _section(profile)
    assert (s.confirmation_format, s.amount_mismatch, s.csv_mapping) == ("xml", "warn", "")


@SQLITE
@pytest.mark.parametrize("user", ["fundmgr", "invmanager", "viewer"])
def test_only_institution_administrators(app, world, profile, user):
    """(A library-scoped administrator: the role matrix's scope pass, tests/route_matrix.py.)"""
    client = login(app.test_client(), user)
    url = f"/admin/erp/profiles/{profile.id}/payment-format"
    assert client.get(url).status_code == 403
    assert client.post(url, data=GOOD).status_code == 403
    assert _section(profile).confirmation_format == "xml"


def test_the_form_carries_its_csrf_token(make_app, backend, tmp_path):
    from tests.helpers import PASSWORD
    app = make_app(backend, world=True, WTF_CSRF_ENABLED=True)
    with app.app_context():
        from testkit.world import load_world
        world = load_world()
        admin = world.user("admin")
        conn, _ = local_connection(admin, tmp_path / "erp")
        prof = erp_profile(admin, conn, folder_root=tmp_path / "erp")
        db.session.commit()
        client = app.test_client()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          client.get("/login").get_data(as_text=True)).group(1)
        assert client.post("/login", data={"username": "admin", "password": PASSWORD,
                                           "csrf_token": token}).status_code == 302
        url = f"/admin/erp/profiles/{prof.id}/payment-format"
        assert client.post(url, data=GOOD).status_code == 400
        assert _section(prof).confirmation_format == "xml"
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)
        assert client.post(url, data=dict(GOOD, csrf_token=token)).status_code == 302
        assert _section(prof).confirmation_format == "csv"
