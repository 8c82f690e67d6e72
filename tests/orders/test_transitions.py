"""Every action × every status × both order types: allowed ones work, the rest refuse with a clear
message and change nothing.

The expected statuses below are written out from the training guide and domain.md, independently
of app.orders.models.TRANSITIONS, so a wrong entry in the table fails here.
"""
from __future__ import annotations

from datetime import date

import pytest

from app.errors import RuleViolation
from app.extensions import db
from app.inventory import services as inv
from app.orders import services as os_
from app.orders.models import POL_STATUSES
from tests.orders.helpers import line

ALL = set(POL_STATUSES)
OPEN = ALL - {"closed", "cancelled"}
RENEWAL = {"waiting_for_renewal", "waiting_for_manual_renewal"}

# action -> order type -> {status it is allowed in: status afterwards}
EXPECTED = {
    "approve": {"one_time": {"in_review": "ready", "deferred": "ready"},
                "continuous": {"in_review": "ready", "deferred": "ready"}},
    "defer": {t: {"in_review": "deferred"} for t in ("one_time", "continuous")},
    "resume": {t: {"deferred": "in_review"} for t in ("one_time", "continuous")},
    "send": {t: {"ready": "sent", "auto_packaging": "sent", "manual_packaging": "sent"}
             for t in ("one_time", "continuous")},
    "receive": {"one_time": {"sent": "waiting_for_invoice"},
                "continuous": {"sent": "sent", "waiting_for_renewal": "waiting_for_renewal",
                               "waiting_for_manual_renewal": "waiting_for_manual_renewal"}},
    "cancel": {t: {s: "cancelled" for s in OPEN} for t in ("one_time", "continuous")},
    "close": {"one_time": {"waiting_for_invoice": "closed"},
              "continuous": {"sent": "closed", "waiting_for_renewal": "closed",
                             "waiting_for_manual_renewal": "closed"}},
    "reopen": {t: {"closed": "in_review"} for t in ("one_time", "continuous")},
    "renew": {"one_time": {}, "continuous": {"waiting_for_renewal": "sent", "waiting_for_manual_renewal": "sent"}},
    "replace_vendor": {"one_time": {"sent": "sent", "waiting_for_invoice": "waiting_for_invoice"},
                       "continuous": {"sent": "sent", **{s: s for s in RENEWAL}}},
    "change_vendor": {"one_time": {"sent": "sent"}, "continuous": {"sent": "sent", **{s: s for s in RENEWAL}}},
    "relink": {"one_time": {s: s for s in ("sent", "waiting_for_invoice", "in_review", "deferred", "ready",
                                           "auto_packaging", "manual_packaging", "closed")},
               "continuous": {s: s for s in ("waiting_for_renewal", "waiting_for_manual_renewal", "in_review",
                                             "deferred", "ready", "auto_packaging", "manual_packaging")}},
    "change_reference": {t: {s: s for s in ALL - {"cancelled"}} for t in ("one_time", "continuous")},
}


def _prepare(world, orders, buyer, order_type: str, status: str):
    """A line put straight into ``status`` (test set-up only; the services never do this), with
    what that status implies: an open PO while packaging, a sent PO once sent."""
    kw = {"order_type": order_type}
    if order_type == "continuous":
        kw["renewal_date"] = date(2027, 1, 1)
    pol = line(world, buyer, orders.eur, price="10.00", **kw)
    if status in ("auto_packaging", "manual_packaging"):
        pol.po = os_.create_po(buyer, orders.eur, pol.owner_library)
    elif status not in ("in_review", "deferred", "ready"):
        pol.po = os_.create_po(buyer, orders.eur, pol.owner_library)
        pol.po.status = "sent" if status in OPEN else "closed"
    pol.status = status
    db.session.commit()
    return pol


def _run(action, pol, world, orders, buyer, other_record):
    calls = {
        "approve": lambda: os_.approve_po_line(buyer, pol),
        "defer": lambda: os_.defer_po_line(buyer, pol),
        "resume": lambda: os_.resume_po_line(buyer, pol),
        "send": lambda: os_.send_po_line(buyer, pol),
        "receive": lambda: os_.receive_po_line(buyer, pol),
        "cancel": lambda: os_.cancel_po_line(buyer, pol, "test"),
        "close": lambda: os_.close_po_line(buyer, pol),
        "reopen": lambda: os_.reopen_po_line(buyer, pol),
        "renew": lambda: os_.renew_po_line(buyer, pol),
        "replace_vendor": lambda: os_.replace_vendor(buyer, pol, orders.other),
        "change_vendor": lambda: os_.change_vendor(buyer, pol, orders.other),
        "relink": lambda: os_.relink_po_line(buyer, pol, other_record),
        "change_reference": lambda: os_.change_reference(buyer, pol, other_record),
    }
    return calls[action]()


def _state(pol):
    return (pol.status, len(pol.history), pol.vendor_id, pol.po_id, pol.bib_record_id, pol.title,
            [(i.id, i.status) for i in pol.items], world_balances())


def world_balances():
    from app.funds.models import Fund
    funds = db.session.scalars(db.select(Fund).order_by(Fund.id))
    return [(f.code, f.allocated, f.encumbered, f.expended) for f in funds]


@pytest.mark.parametrize("order_type", ["one_time", "continuous"])
@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_action_in_every_status(app, world, orders, action, order_type):
    buyer = world.user("buyer")
    other_record = inv.create_record(buyer, inv.RecordFields(title="The better record", author="Someone"))
    db.session.commit()
    expected = EXPECTED[action][order_type]
    for status in POL_STATUSES:
        pol = _prepare(world, orders, buyer, order_type, status)
        if status in expected:
            _run(action, pol, world, orders, buyer, other_record)
            db.session.commit()
            assert pol.status == expected[status], (action, order_type, status)
        else:
            before = _state(pol)
            with pytest.raises(RuleViolation) as refused:
                _run(action, pol, world, orders, buyer, other_record)
            message = str(refused.value)
            assert pol.number in message and POL_STATUSES[status] in message, message
            assert _state(pol) == before, (action, order_type, status)
            db.session.rollback()


def test_refusal_names_where_the_action_is_allowed(app, world, orders):
    buyer = world.user("buyer")
    pol = line(world, buyer, orders.eur)
    with pytest.raises(RuleViolation, match=r"is In Review: you cannot close it\. A one-time PO line allows this "
                                            r"only when Waiting for Invoice\."):
        os_.close_po_line(buyer, pol)
