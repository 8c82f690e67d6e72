"""Every workflow action × status, and the path after approval for every settings combination."""
from __future__ import annotations

import itertools
from datetime import date

import pytest

from app.errors import RuleViolation
from app.extensions import db
from app.invoices import services as invoices
from app.invoices import settings
from app.invoices.models import STATUSES
from tests.invoices.helpers import invoice

# action -> statuses it is allowed in (written from domain.md §6, not from the table in the code)
ALLOWED = {
    "process": {"in_review"},
    "approve": {"in_approval"},
    "reject": {"in_approval"},
    "mark_exported": {"ready_to_be_paid"},
    "paid": {"ready_to_be_paid", "waiting_for_payment"},
    "send_back": {"ready_to_be_paid", "waiting_for_payment", "closed"},
    "erp_rejected": {"ready_to_be_paid", "waiting_for_payment"},
}


def _run(action, inv, world):
    manager = world.user("invmanager")
    return {
        "process": lambda: invoices.process_invoice(world.user("invoicer"), inv),
        "approve": lambda: invoices.approve_invoice(manager, inv),
        "reject": lambda: invoices.reject_invoice(manager, inv, "no"),
        "mark_exported": lambda: invoices.mark_exported(None, inv),
        "paid": lambda: invoices.record_payment(manager, inv, "V1", date(2026, 3, 5), inv.total_amount),
        "send_back": lambda: invoices.send_back_to_review(manager, inv, "check again"),
        "erp_rejected": lambda: invoices.send_back_to_review(None, inv, "ERP says no", erp=True),
    }[action]()


def _to(inv, world, status):
    """Bring an invoice to ``status`` through the real services."""
    steps = {"in_review": [], "in_approval": ["process"], "ready_to_be_paid": ["process", "approve"],
             "waiting_for_payment": ["process", "approve", "mark_exported"],
             "closed": ["process", "approve", "mark_exported", "paid"]}[status]
    for step in steps:
        _run(step, inv, world)
    db.session.commit()
    assert inv.status == status


@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_action_in_every_status(app, world, vendors, action):
    for n, status in enumerate(STATUSES):
        inv = invoice(world, world.user("invoicer"), vendors.plain, number=f"W-{n}", amounts=(f"{10 + n}.00",))
        _to(inv, world, status)
        history = len(inv.history)
        if status in ALLOWED[action]:
            _run(action, inv, world)
            db.session.commit()
            assert inv.status != status or action == "process"
        else:
            with pytest.raises(RuleViolation) as refused:
                _run(action, inv, world)
            assert inv.number in str(refused.value) and STATUSES[status] in str(refused.value)
            assert (inv.status, len(inv.history)) == (status, history)
            db.session.rollback()


KINDS = {"normal": {}, "internal_copy": {"internal_copy": True}, "prepaid": {"prepaid": True},
         "prepaid_exported": {"prepaid": True, "export_prepaid": True}}


@pytest.mark.parametrize("skip_erp,handle_payment,kind",
                         list(itertools.product([False, True], [False, True], sorted(KINDS))))
def test_path_after_approval(app, world, vendors, skip_erp, handle_payment, kind):
    settings.update(world.user("admin"), {"invoice_skip_erp": skip_erp, "handle_invoice_payment": handle_payment})
    inv = invoice(world, world.user("invoicer"), vendors.plain, process=True, **KINDS[kind])
    invoices.approve_invoice(world.user("invmanager"), inv)
    skips = skip_erp or kind in ("internal_copy", "prepaid")
    if skips:
        assert inv.status == ("waiting_for_payment" if handle_payment else "closed")
    else:
        assert inv.status == "ready_to_be_paid"
        invoices.mark_exported(None, inv)
        assert inv.status == ("waiting_for_payment" if handle_payment else "closed")
    if inv.status == "waiting_for_payment":
        invoices.record_payment(world.user("invmanager"), inv, "V9", date(2026, 3, 9), "100.00")
    assert inv.status == "closed"
