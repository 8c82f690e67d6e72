""""Package and send" with more ready lines than PACKAGE_IN_REQUEST_MAX_LINES: a background run
(job package_orders; in the request here, PACKAGE_RUNS_IN_FOREGROUND) that packages one PO per
vendor, sends each with its letter, and reports on Monitor Jobs; a vendor it cannot package is
reported and the others still go."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.integrations.models import JobEvent, JobRun
from app.orders import services as os_
from app.orders.models import POLine, PurchaseOrder
from app.outgoing.models import VendorMessage
from tests.helpers import login
from tests.orders.helpers import confirmed, line, make_vendors


@pytest.fixture
def ready(world):
    orders = make_vendors(world)
    admin = world.user("admin")
    lines = [line(world, admin, vendor, title=f"Book {n}") for n, vendor in
             enumerate((orders.eur, orders.eur, orders.other))]
    for pol in lines:
        os_.approve_po_line(admin, pol)
    db.session.commit()
    return orders, lines


def test_many_ready_lines_are_packaged_by_a_run_and_the_page_answers_at_once(app, world, ready):
    app.config["PACKAGE_IN_REQUEST_MAX_LINES"] = 2
    orders, lines = ready
    client = login(app.test_client(), "buyer")
    resp = client.post("/orders/pos/package", data={"ready": confirmed(client)}, follow_redirects=True)
    page = resp.data.decode()
    db.session.expire_all()
    run = db.session.scalar(select(JobRun).where(JobRun.job == "package_orders"))
    assert "Packaging 3 ready lines in the background" in page and f"run #{run.id}" in page
    assert (run.status, run.records, run.records_failed, run.trigger) == ("completed", 2, 0, "manual")
    assert run.message == "2 purchase order(s) packaged and sent."
    pos = db.session.scalars(select(PurchaseOrder).order_by(PurchaseOrder.id)).all()
    assert [(po.vendor.code, po.status, len(po.lines)) for po in pos] == [("EURV", "sent", 2), ("OTHV", "sent", 1)]
    assert all(db.session.get(POLine, p.id).status == "sent" for p in lines)
    assert db.session.scalar(select(db.func.count()).select_from(VendorMessage)) == 2, "one letter per PO"
    events = [e.message for e in db.session.scalars(select(JobEvent).where(JobEvent.run_id == run.id))]
    assert events[0] == "3 ready line(s) for 2 order(s)." and any(f"{pos[0].number} sent to EURV" in e for e in events)


def test_a_vendor_that_cannot_be_packaged_is_reported_and_the_others_go(app, world, ready):
    app.config["PACKAGE_IN_REQUEST_MAX_LINES"] = 0
    orders, lines = ready
    from app.orders import package_run
    original = os_.send_po

    def refuse_other(actor, po):
        if po.vendor.code == "OTHV":
            from app.errors import RuleViolation
            raise RuleViolation("OTHV cannot take orders today.")
        return original(actor, po)

    os_.send_po = refuse_other
    try:
        admin_id = world.user("admin").id
        run_id, started = package_run.start(world.user("admin"))
        package_run.in_background(app, run_id, admin_id)
    finally:
        os_.send_po = original
    db.session.expire_all()
    run = db.session.get(JobRun, run_id)
    assert started and (run.status, run.records, run.records_failed) == ("completed", 2, 1)
    assert run.message == "1 purchase order(s) packaged and sent; 1 vendor(s) refused."
    errors = [e.message for e in db.session.scalars(select(JobEvent).where(JobEvent.run_id == run.id,
                                                                           JobEvent.level == "error"))]
    assert errors == ["OTHV: not packaged: OTHV cannot take orders today."]
    assert db.session.get(POLine, lines[2].id).status == "ready", "the refused vendor's line is left as it was"
    assert db.session.scalar(select(db.func.count()).select_from(PurchaseOrder)) == 1, "no half-made PO is left"


def test_few_ready_lines_are_packaged_in_the_request(app, world, ready):
    client = login(app.test_client(), "buyer")
    page = client.post("/orders/pos/package", data={"ready": confirmed(client)}, follow_redirects=True).data.decode()
    assert "2 purchase order(s) packaged and sent" in page
    assert db.session.scalar(select(JobRun).where(JobRun.job == "package_orders")) is None


def test_the_count_is_what_would_be_packaged(app, world, ready, buyer_a):
    orders, lines = ready
    for user in ("admin", "buyer", "buyer-a", "viewer"):
        actor = world.user(user)
        assert os_.ready_for_packaging_count(actor) == len(os_.ready_for_packaging(actor)), user
    assert os_.ready_for_packaging_count(world.user("buyer-a")) == 3
