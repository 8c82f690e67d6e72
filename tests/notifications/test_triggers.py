"""Who is told what: each trigger tells exactly the users whose roles act on the object in its scope
(a library-scoped user never hears of another library's objects), never the one who did it; the
approval routing reaches a real SMTP server, one e-mail per approver the rules allow."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.auth.models import Role, User
from app.auth.services import create_user
from app.extensions import db
from app.integrations.edi import services as edi
from app.invoices import rules
from app.invoices import services as invoices
from app.notifications import services as notes
from app.notifications import triggers
from app.notifications.models import Notification
from app.orders import services as os_
from app.outgoing import delivery
from tests.helpers import PASSWORD
from tests.integrations.edi.helpers import interchange, invoic
from tests.invoices.helpers import invoice
from tests.orders.helpers import sent_line

SCOPED = [("admin-a", Role.ADMIN, "a"), ("invmanager-a", Role.INVOICE_MANAGER, "a"),
          ("invmanager-b", Role.INVOICE_MANAGER, "b"), ("invoicer-a", Role.INVOICE_OPERATOR, "a"),
          ("invoicer-b", Role.INVOICE_OPERATOR, "b"), ("buyer-a", Role.PURCHASING_OPERATOR, "a"),
          ("buyer-b", Role.PURCHASING_OPERATOR, "b")]


@pytest.fixture
def people(world):
    """Library-scoped users beside the world's institution-wide ones; everybody has an address."""
    libs = {"a": world.lib_a, "b": world.lib_b}
    for name, role, lib in SCOPED:
        world.users[name] = create_user(None, name, PASSWORD, full_name=name.title(), roles=[(role, libs[lib])]).id
    for user in db.session.scalars(select(User)):
        user.email = f"{user.username}@lib.example"
    db.session.commit()
    return world


def told(kind: str) -> list[str]:
    """The usernames told of ``kind``, sorted (one entry per notification)."""
    return sorted(db.session.scalars(select(User.username).join(Notification, Notification.user_id == User.id)
                                     .where(Notification.kind == kind)))


# -- approval waiting ------------------------------------------------------------------------------

@pytest.mark.parametrize("library, expected", [
    ("a", ["admin", "admin-a", "invmanager", "invmanager-a"]),
    ("b", ["admin", "invmanager", "invmanager-b"]),
    (None, ["admin", "invmanager"]),
])
def test_approval_waiting_tells_the_approvers_in_scope(app, people, vendors, library, expected):
    inv = invoice(people, people.user("invoicer"), vendors.plain, library=library, process=True)
    assert inv.status == "in_approval"
    assert told("approval_waiting") == expected
    n = db.session.scalar(select(Notification).where(Notification.kind == "approval_waiting"))
    assert (n.url, n.object_type, n.object_id, n.library_id) == (f"/invoices/{inv.id}", "invoice", inv.id,
                                                                 inv.owner_library_id)
    assert n.title == "Invoice INV-1 of PLAIN waits for your approval"
    assert "Plain books (PLAIN), 100.00 EUR" in n.body and "manual approval" in n.body


def test_nobody_is_told_what_they_did_nor_of_an_automatic_approval(app, people, vendors):
    invoice(people, people.user("invmanager-a"), vendors.plain, number="BY-MANAGER", process=True)
    assert told("approval_waiting") == ["admin", "admin-a", "invmanager"], "not the manager who processed it"
    rules.create_approval_rule(people.user("admin"), rules.ApprovalRuleFields(name="Small", max_total="50",
                                                                              automatic=True))
    small = invoice(people, people.user("invoicer"), vendors.plain, number="SMALL", amounts=("10.00",), process=True)
    assert small.status == "ready_to_be_paid"
    assert told("approval_waiting") == ["admin", "admin-a", "invmanager"], "approved automatically: nobody waits"


def test_a_rule_wanting_another_approver_leaves_the_creator_out(app, people, vendors):
    rules.create_approval_rule(people.user("admin"), rules.ApprovalRuleFields(name="Four eyes",
                                                                              approver_not_creator=True))
    inv = invoice(people, people.user("invmanager-a"), vendors.plain)
    invoices.process_invoice(people.user("invoicer"), inv)
    assert told("approval_waiting") == ["admin", "admin-a", "invmanager"]


def test_a_late_invoice_waits_for_administrators_only(app, people, vendors):
    inv = invoice(people, people.user("invoicer"), vendors.plain)
    assert [u.username for u in invoices.approvers_of(inv, late=True)] == ["admin", "admin-a"]
    assert [u.username for u in invoices.approvers_of(inv)] == ["admin", "invmanager", "admin-a", "invmanager-a"]


def test_approval_routing_mails_exactly_the_approvers_once(app, people, vendors, smtp):
    rules.create_approval_rule(people.user("admin"), rules.ApprovalRuleFields(name="Four eyes",
                                                                              approver_not_creator=True))
    notes.set_preferences(people.user("admin"), {"approval_waiting": "off"})   # the bell only
    inv = invoice(people, people.user("invmanager-a"), vendors.plain, number="INV-77")
    invoices.process_invoice(people.user("invoicer"), inv)
    db.session.commit()
    assert delivery.deliver_due().sent == 2
    assert sorted(m["To"] for m in smtp.messages) == ["admin-a@lib.example", "invmanager@lib.example"]
    assert {m["Subject"] for m in smtp.messages} == {"Invoice INV-77 of PLAIN waits for your approval"}
    assert f"/invoices/{inv.id}" in smtp.messages[0].get_body(("plain",)).get_content()
    assert told("approval_waiting") == ["admin", "admin-a", "invmanager"], "preference off: still on the bell"
    assert delivery.deliver_due().sent == 0 and len(smtp.messages) == 2, "never twice"


# -- returned, ERP rejected -----------------------------------------------------------------------

def test_a_rejected_invoice_tells_its_creator_and_who_sent_it(app, people, vendors):
    inv = invoice(people, people.user("invoicer-a"), vendors.plain)
    invoices.process_invoice(people.user("invoicer-ext"), inv)
    invoices.reject_invoice(people.user("invmanager-a"), inv, "Wrong fund")
    assert told("invoice_returned") == ["invoicer-a", "invoicer-ext"]
    n = db.session.scalar(select(Notification).where(Notification.kind == "invoice_returned"))
    assert n.title == "Invoice INV-1 of PLAIN was rejected by Invmanager-A" and "Reason: Wrong fund" in n.body


def test_sent_back_tells_the_creator_not_the_sender(app, people, vendors):
    inv = invoice(people, people.user("invoicer-a"), vendors.plain, process=True)
    invoices.approve_invoice(people.user("invmanager"), inv)
    invoices.send_back_to_review(people.user("invoicer-a"), inv, "Price was wrong")
    assert told("invoice_returned") == [], "the creator sent it back (and for approval) themselves"
    invoices.process_invoice(people.user("invoicer-a"), inv)
    invoices.approve_invoice(people.user("invmanager"), inv)
    invoices.send_back_to_review(people.user("invoicer"), inv, "Price still wrong")
    assert told("invoice_returned") == ["invoicer-a"]


@pytest.mark.parametrize("library, creator, expected", [
    ("a", "invoicer-a", ["invmanager", "invmanager-a", "invoicer-a"]),
    ("b", "invoicer", ["invmanager", "invmanager-b", "invoicer"]),
    (None, "invoicer", ["invmanager", "invoicer"]),
])
def test_erp_rejection_tells_the_creator_and_the_managers_in_scope(app, people, vendors, library, creator, expected):
    inv = invoice(people, people.user(creator), vendors.plain, library=library, process=True)
    invoices.approve_invoice(people.user("admin"), inv)
    invoices.send_back_to_review(people.user("admin"), inv, "Unknown bank account", erp=True)
    assert told("erp_rejected") == expected
    n = db.session.scalar(select(Notification).where(Notification.kind == "erp_rejected"))
    assert n.title == "The ERP rejected invoice INV-1 of PLAIN" and "Unknown bank account" in n.body
    assert told("invoice_returned") == []


# -- EDI ----------------------------------------------------------------------------------------------

def test_an_unmatched_edi_message_tells_the_institution_wide_invoice_people(app, people, orders):
    data = interchange(invoic("EDI-9", [("POL-NONE", 1, "20.00", "20.00", None, None)], supplier="NOBODY"))
    result = edi.receive_edi_file(people.user("invoicer"), None, "in.edi", data)
    [row] = result.messages
    assert row.status == "failed"
    assert told("edi_unmatched") == ["invmanager", "invoicer-ext"], "not the receiver, no library-scoped one"
    n = db.session.scalar(select(Notification).where(Notification.kind == "edi_unmatched"))
    assert n.url == f"/invoices/edi/{row.id}" and "invoice EDI-9" in n.title and "NOBODY" in n.body
    edi.retry_edi_message(people.user("invmanager"), row)
    assert row.status == "failed" and told("edi_unmatched") == ["invmanager", "invoicer-ext"], "not told twice"


# -- claims and renewals due ----------------------------------------------------------------------

def test_reminders_tell_the_purchasing_operators_in_scope_once(app, people, orders):
    buyer, today = people.user("buyer"), clock.today()
    late_a = sent_line(people, buyer, orders.eur, title="Late A", expected_receipt_date=today - timedelta(days=2))
    late_b = sent_line(people, buyer, orders.eur, title="Late B", library="b",
                       expected_receipt_date=today - timedelta(days=2))
    sent_line(people, buyer, orders.eur, title="Not yet", expected_receipt_date=today + timedelta(days=2))
    renew = sent_line(people, buyer, orders.eur, title="Journal", order_type="continuous", manual_renewal=True,
                      renewal_date=today + timedelta(days=10), expected_receipt_date=today + timedelta(days=30))
    os_.process_renewals(buyer, today)
    assert renew.status == "waiting_for_manual_renewal"
    assert triggers.reminders(today) == {"claim_due": 2, "renewal_due": 1}
    assert told("claim_due") == ["buyer", "buyer", "buyer-a", "buyer-b"]
    assert told("renewal_due") == ["buyer", "buyer-a"]
    by_line = {n.object_id: n for n in db.session.scalars(select(Notification).where(Notification.user_id == buyer.id))}
    assert by_line[late_a.id].title == f"Claim due: {late_a.number} of EURV, expected {late_a.expected_receipt_date}"
    assert by_line[late_b.id].library_id == people.lib_b.id
    assert "waits for you to renew it" in by_line[renew.id].body
    assert triggers.reminders(today) == {"claim_due": 0, "renewal_due": 0}, "the same day: nobody twice"
    assert triggers.reminders(today + timedelta(days=1)) == {"claim_due": 0, "renewal_due": 0}, "nor the next"
    late_a.expected_receipt_date = today - timedelta(days=1)
    assert triggers.reminders(today + timedelta(days=1)) == {"claim_due": 1, "renewal_due": 0}
    assert told("claim_due").count("buyer-a") == 2 and told("claim_due").count("buyer-b") == 1


def test_preference_off_sends_no_mail_only_the_bell(app, people, orders, smtp):
    buyer_a = people.user("buyer-a")
    notes.set_preferences(buyer_a, {"claim_due": "off"})
    notes.set_preferences(people.user("buyer"), {"claim_due": "digest"})
    sent_line(people, people.user("buyer"), orders.eur, expected_receipt_date=clock.today() - timedelta(days=3))
    triggers.reminders(clock.today())
    db.session.commit()
    assert delivery.deliver_due().sent == 0 and smtp.messages == []
    assert notes.unread_count(buyer_a) == 1 and notes.unread_count(people.user("buyer")) == 1
