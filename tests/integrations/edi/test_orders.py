"""EDIFACT ORDERS (D.96A) for a PO (pure, no database): the exact segments of a small order, awkward
characters round-trip under UNOC and UNOW, random lines round-trip (Hypothesis), and the check
refuses a file that does not read back as its order."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.integrations.edi import orders as edi

BUYER = edi.Party("5030000000017", "14", "City Library")
SUPPLIER = edi.Party("1234567", "31B", "Books & Co")


def order(*lines: edi.OrderLine, **kw) -> edi.Order:
    values = dict(number="PO-000042", order_date=date(2026, 12, 5), currency="EUR", buyer=BUYER, supplier=SUPPLIER,
                  lines=tuple(lines), control_reference="00000000000017", prepared_at=datetime(2026, 12, 5, 9, 30))
    values.update(kw)
    return edi.Order(**values)


SMALL = order(
    edi.OrderLine(1, "POL-000101", 2, Decimal("20.00"), "The Old Man and the Sea", author="Hemingway, Ernest",
                  isbn="978-0-684-80122-3", net_amount=Decimal("36.00"), funds=("A-BKS",), library="MAIN"),
    edi.OrderLine(2, "POL-000102", 1, Decimal("45.50"), "Journal of Things", issn="0028-0836"),
    account="C-991")

SMALL_SEGMENTS = [
    "UNA:+.? '",
    "UNB+UNOC:3+5030000000017:14+1234567:31B+261205:0930+00000000000017++ORDERS'",
    "UNH+1+ORDERS:D:96A:UN:EAN008'",
    "BGM+220+PO-000042+9'",
    "DTM+137:20261205:102'",
    "NAD+BY+5030000000017::9++City Library'",
    "RFF+API:C-991'",
    "NAD+SU+1234567::31B++Books & Co'",
    "CUX+2:EUR:9'",
    "LIN+1++9780684801223:EN'",
    "PIA+5+9780684801223:IB'",
    "IMD+L+050+:::The Old Man and the Sea'",
    "IMD+L+009+:::Hemingway, Ernest'",
    "QTY+21:2'",
    "GIR+001+A-BKS:LFN+MAIN:LLO'",
    "PRI+AAB:20.00'",
    "MOA+203:36.00'",
    "RFF+LI:POL-000101'",
    "LIN+2'",
    "PIA+5+00280836:IS'",
    "IMD+L+050+:::Journal of Things'",
    "QTY+21:1'",
    "PRI+AAB:45.50'",
    "RFF+LI:POL-000102'",
    "UNS+S'",
    "CNT+2:2'",
    "UNT+25+1'",
    "UNZ+1+00000000000017'",
]


def test_a_small_po_makes_exactly_these_segments():
    built = edi.build_orders(SMALL)
    assert built.text == "".join(SMALL_SEGMENTS)   # no line breaks in the file
    assert built.data == built.text.encode("latin-1")
    assert built.segments == 25 == len(SMALL_SEGMENTS) - 3   # UNH … UNT: all but UNA, UNB, UNZ
    assert edi.build_orders(SMALL, break_lines=True).text == "\n".join(SMALL_SEGMENTS[:1] + SMALL_SEGMENTS[1:]) + "\n"
    read = edi.check_orders(built.data, SMALL)
    assert [(l.reference, l.quantity, l.list_price, l.net_amount) for l in read.lines] == [
        ("POL-000101", 2, Decimal("20.00"), Decimal("36.00")), ("POL-000102", 1, Decimal("45.50"), None)]
    assert edi.file_name(SMALL) == "ORDERS_PO-000042_00000000000017.edi"


def test_a_cancellation_says_so_in_bgm():
    built = edi.build_orders(replace(SMALL, function=edi.CANCELLATION))
    assert "BGM+220+PO-000042+1'" in built.text
    assert edi.check_orders(built.data, replace(SMALL, function=edi.CANCELLATION)).function == "1"


AWKWARD_TITLE = "Don't panic? 1+1: two ?' end ''' ++ :: ??"
AWKWARD = order(
    edi.OrderLine(1, "POL-0001?'+:", 3, Decimal("12.34"), AWKWARD_TITLE, author="Ørsted, Hans Christian; Dvořák",
                  funds=("F:1+2", "F?'3"), library="LIB'A"),
    edi.OrderLine(2, "POL-0002", 1, Decimal("0"), "Łódź – “Straße” … €5 ½ " + "x" * 80 + "\r\nnext\tline",
                  author="李白"),
    number="PO+1:2?3'4", account="A'cc:1", buyer=replace(BUYER, name="Bibliothèque d'État?"))


def test_awkward_characters_are_released_and_round_trip_under_unoc():
    built = edi.build_orders(AWKWARD)
    assert "BGM+220+PO?+1?:2??3?'4+9'" in built.text
    assert "RFF+LI:POL-0001???'?+?:'" in built.text
    assert "GIR+001+F?:1?+2:LFN+F???'3:LFN+LIB?'A:LLO'" in built.text
    # 35 characters a part, two parts a segment: the second part begins with the space kept
    assert "IMD+L+050+:::Don?'t panic?? 1?+1?: two ???' end ?'?'?' ?+?+: ?:?: ????'" in built.text
    assert "NAD+BY+5030000000017::9++Bibliothèque d?'État??'" in built.text
    built.data.decode("latin-1")
    read = edi.check_orders(built.data, AWKWARD)
    first, second = read.lines
    assert (read.number, read.account, read.buyer.name) == ("PO+1:2?3'4", "A'cc:1", "Bibliothèque d'État?")
    assert (first.reference, first.title, first.funds, first.library) == ("POL-0001?'+:", AWKWARD_TITLE,
                                                                           ["F:1+2", "F?'3"], "LIB'A")
    # UNOC (Latin-1): accents kept where Latin-1 has them, folded otherwise; the rest becomes "?".
    assert first.author == "Ørsted, Hans Christian; Dvorák"   # ř folded, á is Latin-1
    assert second.title == "Lódz - \"Straße\" ... EUR5 ½ " + "x" * 80 + " next line"
    assert second.author == "??"
    assert built.text.count("IMD+L+050") == 3   # 41 characters: 1 segment; 117: 4 parts, 2 segments


def test_unow_keeps_every_character_in_utf8():
    unow = replace(AWKWARD, syntax="UNOW")
    built = edi.build_orders(unow)
    assert built.text.startswith("UNA:+.? 'UNB+UNOW:3+")
    assert built.data == built.text.encode("utf-8")
    first, second = edi.check_orders(built.data, unow).lines
    assert first.author == "Ørsted, Hans Christian; Dvořák"
    assert second.title.startswith("Łódź – “Straße” … €5 ½ x")
    assert second.author == "李白"


def test_an_identifier_is_never_changed_only_refused():
    with pytest.raises(edi.OrdersError) as caught:
        edi.build_orders(replace(SMALL, number="PO-Ł1", control_reference="not allowed!", currency="eur",
                                 lines=(replace(SMALL.lines[0], quantity=0, list_price=Decimal("-1")),
                                        replace(SMALL.lines[1], position=1, isbn="123", reference="POL-000101"))))
    problems = " ".join(caught.value.problems)
    for expected in ("PO number 'PO-Ł1' cannot be written in UNOC", "control reference", "currency 'eur'",
                     "quantity 0", "list price Decimal('-1')", "same line number", "same order line reference",
                     "'123' is not an ISBN"):
        assert expected in problems
    negative_zero = replace(SMALL, lines=(replace(SMALL.lines[0], list_price=Decimal("-0.00")),))
    assert "PRI+AAB:0.00'" in edi.build_orders(negative_zero).text
    with pytest.raises(edi.OrdersError, match="no lines"):
        edi.build_orders(replace(SMALL, lines=()))


# -- the check refuses what does not read back ---------------------------------------------------

GOOD = edi.build_orders(SMALL).text


@pytest.mark.parametrize("corrupt, expected", [
    (lambda t: t.replace("QTY+21:2'", "QTY+21:3'"), "QTY+21 quantity: the file has 3, the order 2"),
    (lambda t: t.replace("PRI+AAB:45.50'", "PRI+AAB:45.05'"), "PRI+AAB list price"),
    (lambda t: t.replace("RFF+LI:POL-000102'", "RFF+LI:POL-000103'"), "RFF+LI reference"),
    (lambda t: t.replace("MOA+203:36.00'", ""), "UNT: the segment count is '25'; the message has 24"),
    (lambda t: t.replace("UNZ+1+", "UNZ+2+"), "UNZ: the message count is '2'"),
    (lambda t: t.replace("UNT+25+1'", "UNT+24+2'"), "UNT: the message reference '2'"),
    (lambda t: t.replace("CNT+2:2'", "CNT+2:1'"), "CNT+2: the line count"),
    (lambda t: t.replace("LIN+2'", "LIN+3'"), "LIN number: the file has 3"),
    (lambda t: t.replace("BGM+220+PO-000042", "BGM+220+PO-000043"), "BGM: the PO number"),
    (lambda t: t.replace("CUX+2:EUR", "CUX+2:USD"), "CUX: the currency"),
    (lambda t: t[:t.index("UNZ")], "one interchange (UNB … UNZ)"),
    (lambda t: t.replace("QTY+21:2'", "QTY+21:2.5'"), "is not a whole number"),
    (lambda t: t.replace("UNA:+.? '", "UNA:+,? '"), "service string advice"),
    (lambda t: t.replace("UNOC", "UNOA"), "not UNOC or UNOW"),
])
def test_the_check_refuses_a_corrupted_file(corrupt, expected):
    with pytest.raises(edi.OrdersCheckError) as caught:
        edi.check_orders(corrupt(GOOD).encode("latin-1"), SMALL)
    assert expected in str(caught.value), caught.value.problems


def test_the_check_refuses_bytes_that_are_not_the_declared_character_set():
    data = edi.build_orders(replace(AWKWARD, syntax="UNOW")).data.replace(b"UNOW", b"UNOC")
    with pytest.raises(edi.OrdersCheckError, match="character set"):
        edi.check_orders(data, replace(AWKWARD, syntax="UNOW"))
    with pytest.raises(edi.OrdersCheckError, match="not valid UNOW"):
        edi.check_orders(b"UNA:+.? 'UNB+UNOW:3+\xff'", SMALL)


def test_the_check_compares_with_the_order_not_only_the_syntax():
    other = replace(SMALL, lines=(SMALL.lines[0], replace(SMALL.lines[1], quantity=5)))
    with pytest.raises(edi.OrdersCheckError, match="Line 2 .POL-000102.: QTY"):
        edi.check_orders(edi.build_orders(SMALL).data, other)


# -- random lines round-trip -----------------------------------------------------------------------

_ident = st.text(st.characters(codec="latin-1", exclude_categories=("Cc", "Cf", "Zs", "Zl", "Zp")),
                 min_size=1, max_size=35)
_free = st.text(max_size=200)
_price = st.decimals(min_value=0, max_value=Decimal("9999999.99"), places=2, allow_nan=False, allow_infinity=False)


@st.composite
def _orders(draw):
    count = draw(st.integers(1, 8))
    references = draw(st.lists(_ident, min_size=count, max_size=count, unique=True))
    lines = tuple(edi.OrderLine(
        position=n, reference=references[n - 1], quantity=draw(st.integers(1, edi.MAX_QUANTITY)),
        list_price=draw(_price), net_amount=draw(st.none() | _price),
        title=draw(_free.filter(lambda t: edi.clean_text(t, "UNOW") and edi.clean_text(t, "UNOC"))),
        author=draw(_free), isbn=draw(st.sampled_from(["", "9780684801223", "0-684-80122-1", "979-10-90636-07-1"])),
        issn=draw(st.sampled_from(["", "0028-0836", "2049-363X"])),
        funds=tuple(draw(st.lists(_ident, max_size=3))), library=draw(st.sampled_from(["", "MAIN", "L:2"])))
        for n in range(1, count + 1))
    return order(*lines, syntax=draw(st.sampled_from(["UNOC", "UNOW"])), number=draw(_ident),
                 account=draw(st.sampled_from(["", "ACC?1", "x'y"])),
                 buyer=replace(BUYER, name=draw(_free)), supplier=replace(SUPPLIER, name=draw(_free)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_orders())
def test_random_lines_round_trip(made):
    built = edi.build_orders(made)
    read = edi.check_orders(built.data, made)   # raises on any difference
    assert [(l.position, l.reference, l.quantity, l.list_price, l.net_amount) for l in read.lines] == [
        (l.position, l.reference, l.quantity, l.list_price, l.net_amount) for l in made.lines]
    assert [l.title for l in read.lines] == [edi.clean_text(l.title, made.syntax) for l in made.lines]
    assert read.number == made.number
    assert "\n" not in built.text and built.text.count("UNH+") == 1
