"""Reading INVOIC interchanges (pure, no database): header, lines, charges, tax and totals exact;
credit notes negated; per-message errors; syntax errors refused with a clear message; encodings."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.integrations.edi import format as edi
from tests.integrations.edi.helpers import interchange, invoic

LINES = [("POL-000012", 2, "20.00", "40.00", "7", "2.80"),
         ("POL-000013", 1, "35.50", "35.50", "7", "2.49"),
         ("POL-000014", 3, "9.99", "29.97", "19", "5.69")]


def _one(data: bytes) -> edi.InvoiceMessage:
    parsed = edi.parse_file(edi.decode(data)[0])
    assert len(parsed.messages) == 1
    return parsed.messages[0]


def test_header_lines_charges_tax_and_totals_are_exact():
    charges = [("DL", "C", "4.50"), ("IN", "C", "1.25"), ("DI", "A", "3.00")]
    data = interchange(invoic("INV-100", LINES, charges=charges, total="123.39", tax="10.98"))
    msg = _one(data)
    assert msg.errors == []
    assert (msg.number, msg.document_type, msg.invoice_date) == ("INV-100", "380", date(2026, 3, 10))
    assert msg.currency == "EUR"
    assert (msg.supplier_id, msg.supplier_name, msg.buyer_id) == ("EURV", "Supplier's books", "OURLIB")
    assert [i.order_line for i in msg.items] == ["POL-000012", "POL-000013", "POL-000014"]
    assert [i.quantity for i in msg.items] == [2, 1, 3]
    assert [i.unit_price for i in msg.items] == [Decimal("20.00"), Decimal("35.50"), Decimal("9.99")]
    assert [i.amount for i in msg.items] == [Decimal("40.00"), Decimal("35.50"), Decimal("29.97")]
    assert [i.vat_percent for i in msg.items] == [Decimal("7"), Decimal("7"), Decimal("19")]
    assert [i.vat_amount for i in msg.items] == [Decimal("2.80"), Decimal("2.49"), Decimal("5.69")]
    assert [i.description for i in msg.items] == ["Title 1", "Title 2", "Title 3"]
    assert [(c.code, c.charge_type, c.amount) for c in msg.charges] == [
        ("DL", "shipment", Decimal("4.50")), ("IN", "insurance", Decimal("1.25")), ("DI", "discount", Decimal("-3.00"))]
    assert msg.total_amount == Decimal("123.39") and msg.tax_amount == Decimal("10.98")
    assert all(isinstance(v, Decimal) for v in (msg.total_amount, msg.tax_amount, msg.items[0].amount))


def test_credit_note_amounts_are_negative():
    msg = _one(interchange(invoic("CN-7", [("POL-000012", 1, "20.00", "20.00", None, None)], doc="381",
                                  charges=[("FC", "C", "2.00")], total="22.00")))
    assert msg.is_credit_note and msg.errors == []
    assert msg.total_amount == Decimal("-22.00")
    assert msg.items[0].amount == Decimal("-20.00") and msg.items[0].unit_price == Decimal("-20.00")
    assert msg.items[0].quantity == 1
    assert msg.charges[0].amount == Decimal("-2.00") and msg.charges[0].charge_type == "shipment"


def test_two_messages_each_raw_text_reads_again_alone():
    data = interchange(invoic("A-1", LINES[:1], ref="1", total="42.80"),
                       invoic("A-2", LINES[1:2], ref="2", total="37.99"))
    parsed = edi.parse_file(edi.decode(data)[0])
    assert [m.number for m in parsed.messages] == ["A-1", "A-2"]
    assert [m.reference for m in parsed.messages] == ["1", "2"]
    again = edi.parse_file(parsed.messages[1].raw)
    assert [m.number for m in again.messages] == ["A-2"]
    assert again.messages[0].items[0].amount == Decimal("35.50")
    assert "Supplier?'s books" in parsed.messages[0].raw   # the escape is kept in the raw text


@pytest.mark.parametrize("text, reason", [
    ("", "empty"),
    ("HELLO WORLD", "must start with UNA or UNB"),
    ("UNA:+.? 'UNB+UNOC:3+S:14+R:14+260310:0900+1'UNZ+0+1'", "no message"),
])
def test_a_file_that_is_not_edifact_at_all_is_refused_whole(text, reason):
    with pytest.raises(edi.EdiParseError) as caught:
        edi.parse_file(text)
    assert reason in str(caught.value)


@pytest.mark.parametrize("text, reason", [
    ("UNA:+.? 'UNB+UNOC:3+S:14+R:14+260310:0900+1'UNH+1+INVOIC:D:96A:UN'BGM+380+X+9'UNZ+1+1'",
     "The message has no UNT"),
    ("UNA:+.? 'UNB+UNOC:3+S:14+R:14+260310:0900+1'UNH+1+INVOIC:D:96A:UN'BGM+380+X+9'UNT+3+1'UNZ+1+1",
     "last segment is cut off"),
    ("UNA:+.? 'UNB+UNOC:3+S:14+R:14+260310:0900+1'UNH+1+INVOIC:D:96A:UN'LIN:1+380'UNT+3+1'UNZ+1+1'",
     "a segment name is broken"),
    ("UNA:+.? 'UNB+UNOC:3+S:14+R:14+260310:0900+1'UNH+1+INVOIC:D:96A:UN'BGM+380+X+9'", "has no UNZ"),
    ("UNA:+.? 'UNB+UNOC:3+S:14+R:14+260310:0900+1'XXH+1+INVOIC'BGM+380+X+9'UNT+3+1'UNZ+1+1'",
     "outside any message"),
])
def test_syntax_errors_refuse_the_part_with_a_clear_reason(text, reason):
    [part] = edi.parse_file(text).messages
    assert reason in part.refused and part.problems == [part.refused]
    assert part.raw


@pytest.mark.parametrize("change, problem", [
    (lambda s: [x.replace("BGM+380+INV-9+9", "BGM+380++9") for x in s], "BGM: the invoice number is missing"),
    (lambda s: [x.replace("DTM+137:20260310:102", "DTM+137:2026031:102") for x in s], "is not a date in format 102"),
    (lambda s: [x.replace("DTM+137:20260310:102", "DTM+137:20261310:102") for x in s], "is not a date in format 102"),
    (lambda s: [x for x in s if not x.startswith("DTM")], "the invoice date is missing"),
    (lambda s: [x.replace("CUX+2:EUR:4", "CUX+2:EURO:4") for x in s], "is not a currency code"),
    (lambda s: [x.replace("BGM+380", "BGM+220") for x in s], "document type 220 is not an invoice"),
    (lambda s: [x.replace("QTY+47:2", "QTY+47:1.5") for x in s], "is not a whole number"),
    (lambda s: [x.replace("MOA+203:40.00", "MOA+203:forty") for x in s], "'forty' is not a number"),
    (lambda s: [x for x in s if not x.startswith("RFF")], "no order line reference"),
    (lambda s: [x for x in s if not x.startswith(("LIN", "QTY", "MOA+203", "PRI", "RFF", "IMD"))], "has no lines"),
])
def test_message_errors(change, problem):
    segments = change(invoic("INV-9", LINES[:1], total="40.00"))
    msg = _one(interchange(segments))
    assert any(problem in e for e in msg.errors), msg.errors


def test_one_bad_message_does_not_spoil_the_other():
    bad = [s.replace("RFF+LI:POL-000012", "RFF+ZZ:1") for s in invoic("B-1", LINES[:1], ref="1")]
    parsed = edi.parse_file(edi.decode(interchange(bad, invoic("B-2", LINES[:1], ref="2")))[0])
    assert parsed.messages[0].errors and parsed.messages[1].errors == []


def test_decimal_comma_price_basis_and_order_number_reference():
    segments = invoic("D-1", [("POL-000012", 2, "20.00", "40.00", None, None)], total="40,00")
    segments = [s.replace("PRI+AAA:20.00", "PRI+AAA:200,00:CA::10:PCE")
                .replace("RFF+LI:POL-000012", "RFF+ON:pol-000012") for s in segments]
    msg = _one(interchange(segments))
    assert msg.errors == []
    assert msg.items[0].unit_price == Decimal("20") and msg.total_amount == Decimal("40.00")
    assert msg.items[0].order_line == "POL-000012"


def test_declared_character_sets_are_used_leniently():
    latin = interchange(invoic("É-1", LINES[:1]), syntax="UNOC")
    assert edi.decode(latin) == (latin.decode("latin-1"), "latin-1")
    assert _one(latin).number == "É-1"
    utf8 = interchange(invoic("Ж-1", LINES[:1]), syntax="UNOW")
    assert _one(utf8).number == "Ж-1" and edi.decode(utf8)[1] == "utf-8"
    # declared ASCII but holding Latin-1 bytes: still read
    sloppy = interchange(invoic("É-2", LINES[:1]), syntax="UNOA")
    assert _one(sloppy).number == "É-2"
