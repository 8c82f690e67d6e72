"""The daily jobs' pages: their times on the Institution page (checked, "" = not scheduled) and
their rows in Monitor Jobs' Scheduled table with the next time; the profile page's job-end
recipients (administrators only, active users only)."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.org.models import Institution
from tests.helpers import login
from testkit.erp import erp_profile, local_connection

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def test_institution_times_and_monitor_rows(app, world):
    client = login(app.test_client(), "admin")
    page = client.get("/admin/institution").data.decode()
    assert 'name="renewals_at"' in page and 'name="digest_at"' in page
    resp = client.post("/admin/institution", data={"renewals_at": "5:30", "packaging_at": "", "digest_at": "07:45"})
    assert resp.status_code == 302
    inst = Institution.current()
    assert (inst.renewals_at, inst.packaging_at, inst.digest_at) == ("05:30", "", "07:45")
    resp = client.post("/admin/institution", data={"renewals_at": "25:00", "packaging_at": "", "digest_at": "07:45"})
    assert resp.status_code == 422 and "Process renewals: give a time of day as HH:MM" in resp.data.decode()
    assert Institution.current().renewals_at == "05:30"
    monitor = client.get("/admin/erp/jobs").data.decode()
    assert "Process renewals" in monitor and "Daily at 05:30" in monitor
    assert "Daily digest of notifications" in monitor and "Daily at 07:45" in monitor
    assert "Package and send orders" not in monitor.split("<h2>Scheduled</h2>")[1].split("</table>")[0]


def test_profile_recipients(app, world, tmp_path):
    admin = world.user("admin")
    conn, root = local_connection(admin, tmp_path / "erp")
    prof = erp_profile(admin, conn, code="DEMO-ERP", folder_root=root)
    db.session.commit()
    client = login(app.test_client(), "admin")
    url = f"/admin/erp/profiles/{prof.id}"
    assert 'name="notify_when"' in client.get(url).data.decode()
    fm = world.users["fundmgr"]
    resp = client.post(f"{url}/notifications", data={"notify_when": "failure", "recipients": [str(fm)]})
    assert resp.status_code == 302
    db.session.expire_all()
    assert prof.notify_when == "failure" and [u.id for u in prof.recipients] == [fm]
    buyer = world.user("buyer")
    buyer.active = False
    db.session.commit()
    resp = client.post(f"{url}/notifications", data={"notify_when": "always", "recipients": [str(buyer.id)]})
    assert resp.status_code == 400 and "Recipients are active users" in resp.data.decode()
    db.session.expire_all()
    assert prof.notify_when == "failure"
    other = login(app.test_client(), "fundmgr")
    assert other.post(f"{url}/notifications", data={"notify_when": "off"}).status_code == 403
