"""An invoice's dated notes: added with author and date by those who may edit the invoice, in any
status; edited or deleted only by the author or an administrator; every change in the history;
escaped on the page; library scope."""
from __future__ import annotations

from app.auth.models import Role
from app.auth.services import create_user
from app.extensions import db
from app.invoices.models import InvoiceEvent, InvoiceNote
from tests.helpers import PASSWORD, login
from tests.invoices.helpers import invoice

HX = {"HX-Request": "true"}


def _notes(invoice_id) -> list[InvoiceNote]:
    db.session.expire_all()
    return db.session.scalars(db.select(InvoiceNote).filter_by(invoice_id=invoice_id).order_by(InvoiceNote.id)).all()


def _events(invoice_id, action) -> list[InvoiceEvent]:
    return db.session.scalars(db.select(InvoiceEvent).filter_by(invoice_id=invoice_id, action=action)).all()


def test_add_several_dated_notes_with_their_author(app, world, vendors):
    inv = invoice(world, world.user("invoicer"), vendors.plain, number="NOTE-1", library=None, process=True)
    inv_id = inv.id
    client = login(app.test_client(), "invoicer")
    resp = client.post(f"/invoices/{inv_id}/notes", data={"text": "Payment terms: 30 days"}, headers=HX)
    assert resp.status_code == 200 and "Note added." in resp.get_data(as_text=True)
    login(app.test_client(), "invmanager").post(f"/invoices/{inv_id}/notes", data={"text": "<b>{{ 7*7 }}</b>"})
    first, second = _notes(inv_id)
    assert (first.text, first.author_id) == ("Payment terms: 30 days", world.users["invoicer"])
    assert second.author_id == world.users["invmanager"] and first.created_at <= second.created_at
    page = login(app.test_client(), "viewer").get(f"/invoices/{inv_id}/notes").get_data(as_text=True)
    assert "Payment terms: 30 days" in page and "&lt;b&gt;{{ 7*7 }}&lt;/b&gt;" in page and "<b>" not in page
    assert "Invoicer" in page and "New note" not in page   # a viewer reads, does not write
    assert [e.new_value for e in _events(inv_id, "add_note")] == ["Payment terms: 30 days", "<b>{{ 7*7 }}</b>"]
    empty = client.post(f"/invoices/{inv_id}/notes", data={"text": "  "}, headers=HX)
    assert empty.status_code == 400 and "Write the note first." in empty.get_data(as_text=True)
    assert len(_notes(inv_id)) == 2


def test_only_the_author_or_an_admin_edits_or_deletes(app, world, vendors):
    inv = invoice(world, world.user("invoicer"), vendors.plain, number="NOTE-2", library=None)
    inv_id = inv.id
    author = login(app.test_client(), "invoicer")
    author.post(f"/invoices/{inv_id}/notes", data={"text": "First text"})
    [note] = _notes(inv_id)
    note_id = note.id
    other = login(app.test_client(), "invoicer-ext")
    refused = other.post(f"/invoices/{inv_id}/notes/{note_id}", data={"text": "Hijacked"}, headers=HX)
    assert refused.status_code == 403 and "or an administrator may edit it" in refused.get_data(as_text=True)
    assert other.post(f"/invoices/{inv_id}/notes/{note_id}/delete", headers=HX).status_code == 403
    assert _notes(inv_id)[0].text == "First text"

    assert author.post(f"/invoices/{inv_id}/notes/{note_id}", data={"text": "Second text"}, headers=HX).status_code == 200
    [note] = _notes(inv_id)
    assert note.text == "Second text" and note.edited_by_id == world.users["invoicer"] and note.edited_at
    [edit] = _events(inv_id, "edit_note")
    assert (edit.old_value, edit.new_value) == ("First text", "Second text")

    admin = login(app.test_client(), "admin")
    assert admin.post(f"/invoices/{inv_id}/notes/{note_id}/delete", headers=HX).status_code == 200
    assert _notes(inv_id) == []
    [deleted] = _events(inv_id, "delete_note")
    assert deleted.old_value == "Second text" and deleted.actor_id == world.users["admin"]


def test_library_scope(app, world, vendors):
    inv_b = invoice(world, world.user("invoicer"), vendors.plain, number="NOTE-B", library="b")
    inv_id = inv_b.id
    create_user(None, "invoicer-a", PASSWORD, roles=[(Role.INVOICE_OPERATOR, world.lib_a)])
    db.session.commit()
    op_a = login(app.test_client(), "invoicer-a")
    assert op_a.get(f"/invoices/{inv_id}/notes").status_code == 404
    assert op_a.post(f"/invoices/{inv_id}/notes", data={"text": "x"}).status_code == 404
    assert _notes(inv_id) == []


def test_tabs_link_from_the_invoice_page(app, world, vendors):
    inv = invoice(world, world.user("invoicer"), vendors.plain, number="NOTE-3", library=None)
    page = login(app.test_client(), "viewer").get(f"/invoices/{inv.id}").get_data(as_text=True)
    assert f'href="/invoices/{inv.id}/notes"' in page and f'href="/invoices/{inv.id}/attachments"' in page
    frag = login(app.test_client(), "viewer").get(f"/invoices/{inv.id}/notes", headers=HX).get_data(as_text=True)
    assert 'id="invoice-page"' in frag and "<html" not in frag and 'aria-current="page">Notes' in frag
