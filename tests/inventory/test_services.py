"""Inventory services: records, search, holdings and items, receiving, moving holdings."""
from __future__ import annotations

from datetime import date

import pytest

from app import clock
from app.errors import Duplicate, Forbidden, InvalidInput, NotFound, RuleViolation
from app.extensions import db
from app.inventory import services as inv
from app.inventory.models import BibRecord, Item, normalize_standard_number
from tests.inventory.helpers import record


def _titles(q, page=1, per_page=20):
    return [r.title for r in inv.search_records(q, page, per_page).items]


@pytest.fixture
def shelf(world):
    admin = world.user("admin")
    record(admin, "The Hobbit", author="Tolkien, J. R. R.", isbn="978-0-261-10221-7")
    record(admin, "The Lord of the Rings", author="Tolkien, J. R. R.", isbn="0 261 10320 2")
    record(admin, "A history of Middle-earth rings", author="Christopher Tolkien")
    record(admin, "Nature", issn="0028-0836", publisher="Springer")
    record(admin, "Journal of things", issn="1234-567x")
    record(admin, "100% pure_data", author="Doe, Jane")
    db.session.commit()


def test_normalising_standard_numbers():
    assert normalize_standard_number(" 978-0-261 10221-7 ") == "9780261102217"
    assert normalize_standard_number("1234-567x") == "1234567X"
    assert normalize_standard_number(None) == ""


def test_search_by_title_words_case_insensitive_every_word(app, shelf):
    assert _titles("hobbit") == ["The Hobbit"]
    assert _titles("RINGS the") == ["The Lord of the Rings"]  # both words, any order
    assert _titles("rings") == ["A history of Middle-earth rings", "The Lord of the Rings"]  # by title
    assert _titles("rings hobbit") == []
    assert _titles("100%") == ["100% pure_data"] and _titles("%") == ["100% pure_data"]
    assert _titles("_") == ["100% pure_data"]  # wildcards are literal


def test_search_by_author(app, shelf):
    assert _titles("tolkien j") == ["The Hobbit", "The Lord of the Rings"]
    assert _titles("Christopher") == ["A history of Middle-earth rings"]


def test_search_by_isbn_and_issn_with_or_without_hyphens(app, shelf):
    for q in ("9780261102217", "978-0-261-10221-7", "978 0 261 10221 7"):
        assert _titles(q) == ["The Hobbit"], q
    assert _titles("0-261-10320-2") == ["The Lord of the Rings"]
    assert _titles("00280836") == _titles("0028-0836") == ["Nature"]
    assert _titles("1234-567X") == _titles("1234567x") == ["Journal of things"]
    assert _titles("978026110221") == []  # exact match only


def test_search_paging_and_empty_query(app, shelf):
    page = inv.search_records("", 1, 4)
    assert page.total == 6 and page.pages == 2
    everything = _titles("", 1, 4) + _titles("", 2, 4)
    assert everything == sorted(everything) and len(everything) == 6
    assert _titles("", 3, 4) == []
    assert _titles("", 0, 4) == _titles("", 1, 4)


def test_create_and_update_record_validate(app, world):
    admin = world.user("admin")
    with pytest.raises(InvalidInput) as exc:
        record(admin, "   ")
    assert exc.value.field == "title"
    with pytest.raises(InvalidInput) as exc:
        record(admin, "Bad", isbn="12-34")
    assert exc.value.field == "isbn"
    with pytest.raises(InvalidInput) as exc:
        record(admin, "Bad", issn="12345")
    assert exc.value.field == "issn"
    with pytest.raises(Forbidden):
        record(world.user("viewer"), "Not mine")
    rec = record(world.user("buyer"), "  Spaced   title ", isbn="0-306-40615-2")
    assert rec.title == "Spaced title" and rec.isbn_key == "0306406152"
    inv.update_record(admin, rec, inv.RecordFields(title="Better", issn="0317-8471"))
    db.session.commit()
    rec = db.session.get(BibRecord, rec.id)
    assert (rec.title, rec.isbn, rec.isbn_key, rec.issn_key) == ("Better", "", "", "03178471")
    with pytest.raises(NotFound):
        inv.get_record(999999)
    with pytest.raises(NotFound):
        inv.get_record("x")


def test_holdings_and_items_follow_library_scope(app, world, stock, buyer_a):
    viewer_a = world.user("viewer-a")
    assert [h.id for h in inv.visible_holdings(viewer_a, stock.record)] == [stock.holding.id]
    assert len(inv.visible_holdings(world.user("viewer"), stock.record)) == 2
    with pytest.raises(NotFound):
        inv.get_holding(viewer_a, stock.holding_b.id)
    with pytest.raises(NotFound):
        inv.get_item(viewer_a, stock.item_b.id)
    assert inv.get_item(viewer_a, stock.item.id) == stock.item
    with pytest.raises(Forbidden) as exc:
        inv.add_holding(buyer_a, stock.record, world.lib_b, "X")
    assert exc.value.field == "library"
    with pytest.raises(Forbidden):
        inv.add_item(buyer_a, stock.holding_b)
    holding = inv.add_holding(buyer_a, stock.record, world.lib_a, "  REF ", call_number="R 1")
    assert holding.location_code == "REF" and holding.library_id == world.lib_a.id
    with pytest.raises(Forbidden):
        inv.add_holding(world.user("fundmgr"), stock.record, world.lib_a, "X")


def test_add_item_barcode_and_fields(app, world, stock):
    admin = world.user("admin")
    with pytest.raises(Duplicate) as exc:
        inv.add_item(admin, stock.holding, "A0001")
    assert exc.value.field == "barcode"
    with pytest.raises(InvalidInput):
        inv.add_item(admin, stock.holding, "A 2")
    with pytest.raises(InvalidInput) as exc:
        inv.add_item(admin, stock.holding, None, enumeration="v" * 101)
    assert exc.value.field == "enumeration"
    one, two = inv.add_item(admin, stock.holding, ""), inv.add_item(admin, stock.holding, "  ")
    db.session.commit()
    assert one.barcode is None and two.barcode is None  # many items without a barcode
    assert one.status == "not_in_place" and one.received_date is None


def test_receive_item_once(app, world, stock, buyer_a):
    item = inv.receive_item(buyer_a, stock.item, date(2026, 3, 2))
    db.session.commit()
    item = db.session.get(Item, stock.item.id)
    assert (item.status, item.received_date) == ("in_place", date(2026, 3, 2))
    with pytest.raises(RuleViolation, match="already received on 2026-03-02"):
        inv.receive_item(world.user("admin"), item, date(2026, 3, 3))
    with pytest.raises(Forbidden):
        inv.receive_item(buyer_a, stock.item_b)
    assert inv.receive_item(world.user("buyer"), stock.item_b).received_date == clock.today()


def test_move_holdings_with_their_items(app, world, stock):
    admin = world.user("admin")
    target = record(admin, "The Hobbit, or There and Back Again")
    moved = inv.move_holdings(admin, [stock.holding, stock.holding_b], target)
    db.session.commit()
    assert [h.bib_record_id for h in moved] == [target.id, target.id]
    assert db.session.get(Item, stock.item.id).holding.bib_record_id == target.id
    assert inv.visible_holdings(admin, db.session.get(BibRecord, stock.record.id)) == []
    assert len(inv.visible_holdings(admin, target)) == 2


def test_move_holdings_refusals(app, world, stock, buyer_a):
    admin = world.user("admin")
    with pytest.raises(RuleViolation) as exc:
        inv.move_holdings(admin, [stock.holding], stock.record)
    assert exc.value.field == "target"
    with pytest.raises(InvalidInput):
        inv.move_holdings(admin, [], stock.record)
    other = record(admin, "Other")
    with pytest.raises(Forbidden):
        inv.move_holdings(buyer_a, [stock.holding, stock.holding_b], other)
    db.session.rollback()
    assert {h.bib_record_id for h in inv.visible_holdings(admin, stock.record)} == {stock.record.id}
    assert len(inv.visible_holdings(admin, stock.record)) == 2
