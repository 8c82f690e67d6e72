"""The confirmation reader alone: namespace styles, element order, empty elements, strict values,
record-level problems kept on the record, whole-file refusals."""
from datetime import date
from decimal import Decimal

import pytest

from app.integrations.formats.payment_confirmation import parse_confirmations
from app.integrations.formats.xml import XMLRefused
from tests.integrations.payment_import.helpers import NS, confirmation

REC = {"invoice_number": "INV-7", "unique_identifier": "1234567890123456", "vendor_code": "PLAIN",
       "invoice_date": "20260301", "payment_status": "paid", "payment_note": "ok",
       "payment_voucher_date": "20260410", "payment_voucher_number": "V-9", "voucher_amount": ("eur", "70.6")}


@pytest.mark.parametrize("style", ["default", "prefix", "none"])
@pytest.mark.parametrize("seed", [None, 1, 2])
def test_reads_every_namespace_style_in_any_order(style, seed):
    records = parse_confirmations(confirmation([REC, {"unique_identifier": "2", "payment_status": "REJECTED"}],
                                               style, seed))
    assert len(records) == 2
    r = records[0]
    assert (r.invoice_number, r.unique_identifier, r.vendor_code) == ("INV-7", "1234567890123456", "PLAIN")
    assert (r.payment_status, r.payment_note, r.voucher_number) == ("PAID", "ok", "V-9")
    assert (r.invoice_date, r.voucher_date) == (date(2026, 3, 1), date(2026, 4, 10))
    assert (r.amount, r.currency) == (Decimal("70.6"), "EUR")
    assert r.errors == [] and r.position == 1 and r.line > 2
    assert records[1].payment_status == "REJECTED" and records[1].amount is None
    assert bool(records.warnings) is (style == "none")


def test_empty_elements_count_as_absent():
    (r,) = parse_confirmations(confirmation([{"vendor_code": "PLAIN", "invoice_number": "INV-1",
                                              "unique_identifier": "", "payment_status": "PAID",
                                              "payment_note": "", "payment_voucher_number": ""}]))
    assert r.unique_identifier is None and r.payment_note is None and r.voucher_number is None
    assert r.errors == [] and r.label == "INV-1 (PLAIN)"


@pytest.mark.parametrize("field,value,problem", [
    ("payment_status", "PENDING", "neither PAID nor REJECTED"),
    ("payment_status", "", "payment_status is missing"),
    ("payment_voucher_date", "2026-04-10", "YYYYMMDD"),
    ("payment_voucher_date", "20260231", "not a real date"),
    ("voucher_amount", ("EUR", "1,319.05"), "not a plain decimal"),
    ("voucher_amount", ("EUR", "1e3"), "not a plain decimal"),
    ("voucher_amount", ("EURO", "10"), "three-letter"),
])
def test_bad_values_are_record_errors(field, value, problem):
    good = {"unique_identifier": "1", "payment_status": "PAID"}
    records = parse_confirmations(confirmation([{**good, field: value}, good]))
    assert any(problem in e for e in records[0].errors), records[0].errors
    assert records[1].errors == []


def test_bad_invoice_date_is_only_a_warning_and_no_key_is_an_error():
    a, b = parse_confirmations(confirmation([{"unique_identifier": "1", "payment_status": "PAID",
                                              "invoice_date": "1/2/2026"}, {"payment_status": "PAID"}]))
    assert a.errors == [] and "YYYYMMDD" in a.warnings[0] and a.invoice_date is None
    assert "neither unique_identifier nor invoice_number" in b.errors[0] and b.label == "record 2"


def test_duplicate_element_is_a_record_error():
    data = confirmation([{"unique_identifier": "1", "payment_status": "PAID"}]).replace(
        b"<payment_status>PAID</payment_status>",
        b"<payment_status>PAID</payment_status><payment_status>REJECTED</payment_status>")
    (r,) = parse_confirmations(data)
    assert "more than once" in r.errors[0]


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<payment_confirmation_data xmlns="%s"><invoice_list><invoice><unique_identifier>&lol3;</unique_identifier>
<payment_status>PAID</payment_status></invoice></invoice_list></payment_confirmation_data>""" % NS.encode()
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<payment_confirmation_data xmlns="%s"><invoice_list><invoice><unique_identifier>1</unique_identifier>
<payment_status>PAID</payment_status><payment_note>&secret;</payment_note></invoice></invoice_list>
</payment_confirmation_data>""" % NS.encode()


@pytest.mark.parametrize("data,reason", [
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"<payment_confirmation_data><invoice_list>", "Not well-formed"),
    (confirmation([]) + b"<trailing/>", "Not well-formed"),
    (b'<payment_data xmlns="http://com/exlibris/repository/acq/invoice/xmlbeans"/>', "not <payment_confirmation"),
    (b'<payment_confirmation_data xmlns="urn:other"><invoice_list/></payment_confirmation_data>', "namespace"),
    (b'<payment_confirmation_data xmlns="%s"/>' % NS.encode(), "no <invoice_list>"),
    (BOMB, "DTD"),
    (XXE, "DTD"),
    (confirmation([]).split(b"\n", 1)[1].decode().encode("utf-16-le"), "Not well-formed"),   # no BOM, no declaration
])
def test_whole_file_refusals(data, reason):
    with pytest.raises(XMLRefused, match=reason):
        parse_confirmations(data)


def test_over_size_is_refused():
    data = confirmation([{"unique_identifier": str(n), "payment_status": "PAID"} for n in range(50)])
    with pytest.raises(XMLRefused, match="at most 1,000"):
        parse_confirmations(data, max_bytes=1000)


def test_no_invoices_is_an_empty_list():
    assert parse_confirmations(confirmation([])) == []
