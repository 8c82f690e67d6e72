"""Predicted items of continuous physical orders: a publication pattern predicts the next issues,
receiving takes the next one, and relinking or changing the vendor keeps them."""
from __future__ import annotations

from datetime import date

import pytest

from app.errors import Forbidden, InvalidInput, RuleViolation
from app.extensions import db
from app.inventory import services as inv
from app.orders import services as os_
from tests.orders.helpers import line, sent_line

pytestmark = pytest.mark.postgres


def _serial(world, actor, vendor, **kw):
    return sent_line(world, actor, vendor, order_type="continuous", renewal_date=date(2027, 12, 31), **kw)


def _monthly(**kw):
    values = dict(frequency="monthly", first_date=date(2027, 1, 31), first_volume="5", first_issue="11",
                  issues_per_volume="12", chronology="month", predict_ahead="3")
    values.update(kw)
    return os_.PatternFields(**values)


def _predicted(pol):
    return [(i.enumeration, i.chronology, i.expected_date) for i in pol.items if i.is_predicted]


def test_a_pattern_predicts_the_next_issues(app, world, orders):
    buyer = world.user("buyer")
    pol = _serial(world, buyer, orders.eur)
    os_.save_pattern(buyer, pol, _monthly())
    db.session.commit()
    assert _predicted(pol) == [("v.5 no.11", "2027 Jan", date(2027, 1, 31)), ("v.5 no.12", "2027 Feb", date(2027, 2, 28)),
                               ("v.6 no.1", "2027 Mar", date(2027, 3, 31))]
    assert all(i.status == "not_in_place" and i.holding_id == pol.holdings[0].id for i in pol.items)
    assert pol.pattern.next_sequence == 3
    assert any(e.action == "pattern" for e in pol.history)


def test_receiving_takes_the_next_predicted_issue_and_predicts_one_more(app, world, orders):
    buyer = world.user("buyer")
    pol = _serial(world, buyer, orders.eur)
    os_.save_pattern(buyer, pol, _monthly())
    first = os_.next_predicted(pol)
    got = os_.receive_next_issue(buyer, pol, day=date(2026, 12, 1))
    db.session.commit()
    assert got.id == first.id and got.received_date == date(2026, 12, 1) and got.status == "in_place"
    assert (got.enumeration, got.chronology) == ("v.5 no.11", "2027 Jan")
    assert _predicted(pol) == [("v.5 no.12", "2027 Feb", date(2027, 2, 28)), ("v.6 no.1", "2027 Mar", date(2027, 3, 31)),
                               ("v.6 no.2", "2027 Apr", date(2027, 4, 30))]
    assert pol.status == "sent"
    # The receive form with nothing ticked does the same.
    os_.receive_po_line(buyer, pol, [], day=date(2026, 12, 1))
    assert [i.enumeration for i in pol.items if i.is_received] == ["v.5 no.11", "v.5 no.12"]
    assert len(_predicted(pol)) == 3


def test_what_was_typed_on_receipt_replaces_the_prediction(app, world, orders):
    buyer = world.user("buyer")
    pol = _serial(world, buyer, orders.eur)
    os_.save_pattern(buyer, pol, _monthly())
    got = os_.receive_next_issue(buyer, pol, day=date(2026, 12, 1), enumeration="v.5 no.11-12",
                                 chronology="2027 Jan/Feb")
    assert (got.enumeration, got.chronology) == ("v.5 no.11-12", "2027 Jan/Feb")
    assert any(e.field == "enumeration" and e.old_value == "v.5 no.11" for e in pol.history)


def test_without_a_pattern_receiving_adds_the_issue_typed(app, world, orders):
    buyer = world.user("buyer")
    pol = _serial(world, buyer, orders.eur)
    got = os_.receive_next_issue(buyer, pol, enumeration="no.7")
    assert got.enumeration == "no.7" and not got.predicted and got.is_received


def test_changing_the_pattern_predicts_again_and_keeps_received_issues(app, world, orders):
    buyer = world.user("buyer")
    pol = _serial(world, buyer, orders.eur)
    os_.save_pattern(buyer, pol, _monthly())
    received = os_.receive_next_issue(buyer, pol)
    os_.save_pattern(buyer, pol, _monthly(frequency="quarterly", first_date=date(2027, 4, 1), first_volume="",
                                          first_issue="40", predict_ahead="2"))
    db.session.commit()
    assert received.is_received and received.enumeration == "v.5 no.11"
    assert _predicted(pol) == [("no.40", "2027 Apr", date(2027, 4, 1)), ("no.41", "2027 Jul", date(2027, 7, 1))]


def test_relink_and_change_vendor_keep_the_predicted_issues(app, world, orders):
    buyer = world.user("buyer")
    pol = _serial(world, buyer, orders.eur)
    os_.save_pattern(buyer, pol, _monthly())
    os_.receive_next_issue(buyer, pol)
    ids = [i.id for i in pol.items]
    before = _predicted(pol)
    os_.change_vendor(buyer, pol, orders.other)
    db.session.commit()
    assert [i.id for i in pol.items] == ids and _predicted(pol) == before and pol.pattern is not None
    os_.process_renewals(buyer, date(2027, 12, 20))     # relink needs a continuous line waiting for renewal
    assert pol.status == "waiting_for_renewal"
    target = inv.create_record(buyer, inv.RecordFields(title="The serial, properly catalogued"))
    os_.relink_po_line(buyer, pol, target)
    db.session.commit()
    assert [i.id for i in pol.items] == ids and _predicted(pol) == before
    assert {i.holding.bib_record_id for i in pol.items} == {target.id}
    # and receiving goes on from where it was
    assert os_.receive_next_issue(buyer, pol).enumeration == "v.5 no.12"


def test_closing_keeps_the_predicted_issues_cancelling_the_only_line_deletes_them(app, world, orders):
    buyer = world.user("buyer")
    kept = _serial(world, buyer, orders.eur)
    os_.save_pattern(buyer, kept, _monthly())
    os_.close_po_line(buyer, kept, "ceased")
    assert len(_predicted(kept)) == 3
    gone = _serial(world, buyer, orders.eur)
    os_.save_pattern(buyer, gone, _monthly())
    os_.receive_next_issue(buyer, gone)
    os_.cancel_po_line(buyer, gone, "not wanted")
    db.session.commit()
    db.session.expire(gone, ["items"])
    assert _predicted(gone) == [] and [i.enumeration for i in gone.items] == ["v.5 no.11"]


def test_only_an_open_continuous_physical_line_takes_a_pattern(app, world, orders):
    buyer = world.user("buyer")
    one_time = sent_line(world, buyer, orders.eur)
    with pytest.raises(RuleViolation, match="only a continuous physical order"):
        os_.save_pattern(buyer, one_time, _monthly())
    electronic = _serial(world, buyer, orders.eur, material_form="electronic")
    with pytest.raises(RuleViolation, match="only a continuous physical order"):
        os_.save_pattern(buyer, electronic, _monthly())
    with pytest.raises(RuleViolation, match="one-time order"):
        os_.receive_next_issue(buyer, one_time)


@pytest.mark.parametrize("change,field", [
    (dict(first_date=None), "first_date"),
    (dict(issues_per_volume=""), "issues_per_volume"),
    (dict(first_issue="13"), "first_issue"),
    (dict(predict_ahead="30"), "predict_ahead"),
    (dict(frequency="daily"), "frequency"),
])
def test_a_faulty_pattern_is_refused_naming_the_field(app, world, orders, change, field):
    buyer = world.user("buyer")
    pol = _serial(world, buyer, orders.eur)
    with pytest.raises(InvalidInput) as caught:
        os_.save_pattern(buyer, pol, _monthly(**change))
    assert caught.value.field == field


def test_a_pattern_needs_a_purchasing_role_in_the_lines_library(app, world, orders):
    pol = _serial(world, world.user("buyer"), orders.eur)
    with pytest.raises(Forbidden):
        os_.save_pattern(world.user("invoicer"), pol, _monthly())


def test_a_line_made_one_time_again_loses_its_pattern(app, world, orders):
    buyer = world.user("buyer")
    pol = line(world, buyer, orders.eur, order_type="continuous", renewal_date=date(2027, 12, 31))
    os_.save_pattern(buyer, pol, _monthly())
    os_.update_po_line(buyer, pol, os_.POLineFields(
        vendor=orders.eur, title="A book", list_price="100.00", owner_library=world.lib_a,
        distribution=[os_.Share(world.fund_a, "100")]))
    db.session.commit()
    assert pol.pattern is None and _predicted(pol) == [] and len(pol.items) == 1   # the one copy
