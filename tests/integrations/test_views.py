"""The ERP integration pages: connections (secrets never shown back), the two-page profile wizard
with its path checks, the active switch, "Run now", Monitor Jobs and the CSV error report."""
import pytest

from app.extensions import db
from app.integrations.models import Connection, IntegrationProfile
from tests.helpers import login
from testkit.erp import wait_for_run

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _connection(client, tmp_path, code="LOC"):
    (tmp_path / "erp").mkdir(exist_ok=True)
    resp = client.post("/admin/erp/connections/new", data={"code": code, "name": "Local", "kind": "local",
                                                           "root_path": str(tmp_path / "erp")})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return db.session.scalar(db.select(Connection).filter_by(code=code))


def _wizard(client, conn, code="FIN"):
    resp = client.post("/admin/erp/profiles/new", data={"code": code, "name": "Finance", "connection_id": conn.id,
                                                        "financial_system": "SAP"})
    assert resp.status_code == 302
    profile = db.session.scalar(db.select(IntegrationProfile).filter_by(code=code))
    assert resp.headers["Location"].endswith(f"/admin/erp/profiles/{profile.id}/sections")
    assert not any(s.active for s in profile.sections)   # every section starts non-active
    return profile


def _sections(**override):
    data = {"import_payments-path": "pay/in", "export_invoices-path": "inv/out", "load_allocations-path": "alloc/in",
            "load_allocations-file_type": "xlsx", "export_orders-path": "po/out", "export_po_lines-path": "pol/out",
            "export_po_lines-batch_size": "1000", "export_invoices-schedule": "daily",
            "export_invoices-schedule_time": "02:30"}
    data.update(override)
    return {k: v for k, v in data.items() if v is not None}


def test_wizard_creates_a_profile_and_refuses_bad_paths(app, world, tmp_path):
    client = login(app.test_client(), "admin")
    conn = _connection(client, tmp_path)
    profile = _wizard(client, conn)
    url = f"/admin/erp/profiles/{profile.id}/sections"
    for bad in ("../../etc", "/abs", "a/../../b", "a\\..\\b", "%2e%2e/x", "a\x00b", "\uff0e\uff0e/x", "x" * 300):
        resp = client.post(url, data=_sections(**{"import_payments-path": bad}))
        assert resp.status_code == 400, bad
        assert 'id="import_payments-path-err"' in resp.get_data(as_text=True), bad
    resp = client.post(url, data=_sections(**{"load_allocations-path": "pay/in"}))
    assert resp.status_code == 400 and "input folder may not" in resp.get_data(as_text=True)
    resp = client.post(url, data=_sections(**{"export_orders-schedule": "daily", "export_orders-schedule_time": "01:00"}))
    assert resp.status_code == 400 and "cannot be scheduled" in resp.get_data(as_text=True)
    resp = client.post(url, data=_sections(**{"export_invoices-schedule_time": "25:00"}))
    assert resp.status_code == 400 and "HH:MM" in resp.get_data(as_text=True)
    resp = client.post(url, data=_sections())
    assert resp.status_code == 302
    db.session.expire_all()
    profile = db.session.get(IntegrationProfile, profile.id)
    assert profile.section("load_allocations").file_type == "xlsx"
    assert profile.section("export_invoices").schedule_text == "Daily at 02:30"
    assert profile.section("import_payments").path == "pay/in"


def test_connection_secrets_are_never_shown_back(app, world, sshd):
    client = login(app.test_client(), "admin")
    resp = client.post("/admin/erp/connections/new", data={
        "code": "S1", "name": "ERP server", "kind": "sftp", "host": "127.0.0.1", "port": str(sshd.port),
        "username": sshd.user, "password": "very-secret-pw", "private_key": sshd.client_key,
        "host_key": sshd.host_key})
    assert resp.status_code == 302
    conn = db.session.scalar(db.select(Connection).filter_by(code="S1"))
    page = client.get(f"/admin/erp/connections/{conn.id}").get_data(as_text=True)
    assert "very-secret-pw" not in page and "PRIVATE KEY-----\n" not in page
    assert "A password is stored" in page and "A key is stored" in page
    assert "very-secret-pw" not in conn.password_secret
    # Saving without retyping keeps the secrets.
    resp = client.post(f"/admin/erp/connections/{conn.id}", data={
        "name": "ERP server 2", "kind": "sftp", "host": "127.0.0.1", "port": str(sshd.port),
        "username": sshd.user, "host_key": sshd.host_key})
    assert resp.status_code == 302
    db.session.refresh(conn)
    assert conn.name == "ERP server 2" and conn.has_password and conn.has_private_key
    resp = client.post(f"/admin/erp/connections/{conn.id}/test", headers={"HX-Request": "true"})
    assert "Connected to" in resp.get_data(as_text=True)
    # An SFTP connection without a pinned key is refused on save.
    resp = client.post("/admin/erp/connections/new", data={
        "code": "S2", "name": "x", "kind": "sftp", "host": "127.0.0.1", "username": "u", "password": "p"})
    assert resp.status_code == 400 and "host key" in resp.get_data(as_text=True)


@pytest.mark.committing
def test_switch_run_now_monitor_and_error_report(app, world, tmp_path, monkeypatch):
    import jobs.export_invoices as export

    def body(ctx):
        ctx.log.count(files=1, records=3, failed=1)
        ctx.log.info("2 invoices exported", file="x.xml")
        ctx.log.error("=cmd|' /C calc'!A0 vendor unknown", file="x.xml", record="INV-9")
    monkeypatch.setattr(export, "export_invoices", body)
    client = login(app.test_client(), "admin")
    profile = _wizard(client, _connection(client, tmp_path))
    client.post(f"/admin/erp/profiles/{profile.id}/sections", data=_sections())
    resp = client.post(f"/admin/erp/profiles/{profile.id}/sections/export_invoices/active", data={"active": "true"},
                       headers={"HX-Request": "true"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'id="sections"' in html and "Export invoices for payment: active" in html
    monitor = client.get("/admin/erp/jobs").get_data(as_text=True)
    assert "Daily at 02:30" in monitor and "No scheduler is running" in monitor
    resp = client.post(f"/admin/erp/profiles/{profile.id}/sections/export_invoices/run")
    assert resp.status_code == 302 and "/admin/erp/jobs/runs/" in resp.headers["Location"]
    run_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    run = wait_for_run(run_id)
    assert run.status == "completed" and run.records_failed == 1 and run.status_label == "Completed with exceptions"
    page = client.get(f"/admin/erp/jobs/runs/{run_id}").get_data(as_text=True)
    assert "2 invoices exported" in page and "INV-9" in page
    history = client.get("/admin/erp/jobs?job=export_invoices", headers={"HX-Request": "true", "HX-Target": "history"})
    assert f"#{run_id}" in history.get_data(as_text=True)
    report = client.get(f"/admin/erp/jobs/runs/{run_id}/report.csv")
    text = report.get_data(as_text=True)
    assert report.mimetype == "text/csv" and "INV-9" in text and "2 invoices exported" not in text
    assert ",'=cmd" in text   # a formula is neutralised for spreadsheets


def test_library_scoped_admin_is_refused(app, world):
    from app.auth.models import Role
    from app.auth.services import create_user
    from tests.helpers import PASSWORD
    create_user(None, "admin-a", PASSWORD, roles=[(Role.ADMIN, world.lib_a)])
    db.session.commit()
    client = login(app.test_client(), "admin-a")
    assert client.get("/admin/erp").status_code == 403
    assert client.get("/admin/erp/jobs").status_code == 403


def test_a_test_instance_says_which_connections_it_may_use(app, world, tmp_path):
    client = login(app.test_client(), "admin")
    _connection(client, tmp_path, code="PROD-ERP")
    app.config.update(INSTANCE_ENVIRONMENT="test", ERP_CONNECTION_ALLOWLIST=["SANDBOX-ERP"])
    page = client.get("/admin/erp").get_data(as_text=True)
    assert "This is a test instance" in page and "SANDBOX-ERP" in page
    conn = db.session.scalar(db.select(Connection).filter_by(code="PROD-ERP"))
    resp = client.post(f"/admin/erp/connections/{conn.id}/test", headers={"HX-Request": "true"})
    assert "not on its allow-list" in resp.get_data(as_text=True)
