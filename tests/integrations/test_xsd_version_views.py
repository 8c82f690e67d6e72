"""The invoice export section's XSD version: offered as a select, saved, shown on the profile,
refused when unknown, and the same choices the writer knows."""
import pytest

from app.extensions import db
from app.integrations import services
from app.integrations.formats import payment_data
from app.integrations.models import IntegrationProfile
from tests.helpers import login
from tests.integrations.test_views import _connection, _sections, _wizard

@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_xsd_version_select_saves_and_refuses_unknown(app, world, tmp_path):
    client = login(app.test_client(), "admin")
    profile = _wizard(client, _connection(client, tmp_path))
    url = f"/admin/erp/profiles/{profile.id}/sections"
    page = client.get(url).get_data(as_text=True)
    assert '<select id="export_invoices-xsd_version" name="export_invoices-xsd_version"' in page
    assert '<option value="current" selected>' in page   # the default
    resp = client.post(url, data=_sections(**{"export_invoices-xsd_version": "v2"}))
    assert resp.status_code == 400 and "Choose the XSD version" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(IntegrationProfile, profile.id).section("export_invoices").xsd_version == "current"
    resp = client.post(url, data=_sections(**{"export_invoices-xsd_version": "v1"}))
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(IntegrationProfile, profile.id).section("export_invoices").xsd_version == "v1"
    assert '<option value="v1" selected>' in client.get(url).get_data(as_text=True)
    assert "XSD version 1" in client.get(f"/admin/erp/profiles/{profile.id}").get_data(as_text=True)
    resp = client.post(url, data=_sections())   # a form without the field: back to the default
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(IntegrationProfile, profile.id).section("export_invoices").xsd_version == "current"


def test_the_select_offers_what_the_writer_knows():
    assert set(services.XSD_VERSIONS) == set(payment_data.VERSIONS)
