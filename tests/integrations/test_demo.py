"""The demo sets up the whole ERP exchange on one machine: a local-folder connection, profile
DEMO-ERP with its five sections and their folders, and the fiscal period numbers."""
import pytest

from app.extensions import db
from app.integrations.models import FiscalPeriodMapping, IntegrationProfile

pytestmark = [pytest.mark.parametrize("backend", ["sqlite"], indirect=True), pytest.mark.committing]


def test_demo_creates_the_erp_profile_in_the_given_folder(app, tmp_path):
    runner = app.test_cli_runner()
    for _ in range(2):   # idempotent
        db.session.commit()   # like a separate process: no transaction of the test holds the write lock
        result = runner.invoke(args=["demo", "--erp-dir", str(tmp_path / "erp")])
        assert result.exit_code == 0, result.output
    assert f"files in {tmp_path / 'erp'}" in result.output
    profile = db.session.scalar(db.select(IntegrationProfile).filter_by(code="DEMO-ERP"))
    assert profile.connection.kind == "local" and profile.connection.root_path == str(tmp_path / "erp")
    assert {s.job for s in profile.sections if s.active and s.path} == {
        "import_payments", "export_invoices", "load_allocations", "export_orders", "export_po_lines"}
    for section in profile.sections:
        assert (tmp_path / "erp" / section.path).is_dir()
    assert profile.section("export_orders").schedule == "none"
    assert {m.fiscal_period.code: m.erp_id for m in db.session.scalars(db.select(FiscalPeriodMapping))} == \
        {"FY2025": 25, "FY2026": 26}
    assert (tmp_path / "erp" / "samples" / "allocations.csv").read_text().startswith("FUND_EXTERNAL_ID,")
