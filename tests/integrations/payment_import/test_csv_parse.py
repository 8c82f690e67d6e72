"""The CSV payment reader alone: the mapping's checks, columns in any order, separators, date
formats, decimal marks, a BOM; a bad row keeps its errors while the others read; whole-file refusals."""
from datetime import date
from decimal import Decimal

import pytest

from app.integrations.formats.payment_csv import (CSVRefused, CsvMapping, MappingError, check_date_format,
                                                  parse_csv_confirmations)
from app.integrations.formats.xml import XMLRefused
from tests.integrations.payment_import.csv_helpers import HEADERS, csv_file, mapping

ROW = {"unique_identifier": "1234567890123456", "invoice_number": "INV-7", "vendor_code": "PLAIN",
       "erp_vendor_code": "SAP-PLAIN", "payment_status": "paid", "voucher_number": "V-9",
       "voucher_date": "20260410", "amount": "70.6", "currency": "eur", "payment_note": "ok; thanks, \"Ann\""}


def _read(data, m):
    return parse_csv_confirmations(data, m)


@pytest.mark.parametrize("separator", [",", ";", "\t"])
@pytest.mark.parametrize("seed", [None, 1, 2])
def test_reads_any_column_order_and_separator(separator, seed):
    m = mapping(separator)
    records = _read(csv_file([ROW, {"invoice_number": "INV-8", "payment_status": "REJECTED"}], m, seed=seed), m)
    assert len(records) == 2
    r = records[0]
    assert (r.unique_identifier, r.invoice_number, r.vendor_code, r.erp_vendor_code) == \
        ("1234567890123456", "INV-7", "PLAIN", "SAP-PLAIN")
    assert (r.payment_status, r.voucher_number, r.voucher_date) == ("PAID", "V-9", date(2026, 4, 10))
    assert (r.amount, r.currency, r.payment_note) == (Decimal("70.6"), "EUR", 'ok; thanks, "Ann"')
    assert r.errors == [] and (r.position, r.line) == (1, 2)
    second = records[1]
    assert second.payment_status == "REJECTED" and second.unique_identifier is None and second.amount is None
    assert second.errors == [] and second.label == "INV-8"


def test_another_date_format_a_bom_and_a_decimal_comma():
    m = mapping(";", "%d.%m.%Y", decimal=",")
    data = csv_file([dict(ROW, voucher_date="23.11.2026", amount="1234,50")], m, seed=3, bom=True)
    assert data.startswith(b"\xef\xbb\xbf")
    (r,) = _read(data, m)
    assert r.errors == [] and r.voucher_date == date(2026, 11, 23) and r.amount == Decimal("1234.50")
    assert r.unique_identifier == "1234567890123456"   # the first header is read without the BOM


def test_headers_match_without_case_or_spaces_and_unmapped_columns_are_ignored():
    m = CsvMapping(columns={"invoice_number": "invoice no", "payment_status": "STATUS"}).check()
    (r,) = _read(b" Invoice No ,Status,Other\nINV-1,Rejected,x\n", m)
    assert (r.invoice_number, r.payment_status, r.errors) == ("INV-1", "REJECTED", [])


def test_status_words_of_the_erp():
    m = mapping(fields=("invoice_number", "payment_status"), paid_values=["P", "Cleared"], rejected_values="R")
    records = _read(csv_file([{"invoice_number": "A", "payment_status": "cleared"},
                              {"invoice_number": "B", "payment_status": "r"},
                              {"invoice_number": "C", "payment_status": "PAID"}], m), m)
    assert [r.payment_status for r in records] == ["PAID", "REJECTED", None]
    assert "none of the mapped words (CLEARED, P, R)" in records[2].errors[0]


def test_a_bad_row_keeps_its_errors_and_the_others_read():
    m = mapping(";", "%d.%m.%Y")
    good = dict(ROW, voucher_date="10.04.2026")
    data = csv_file([good, dict(ROW, voucher_date="2026-04-10", amount="12.3.4", currency="EURO",
                                payment_status="maybe"), good], m)
    data += b"only;three;fields\r\n\r\n;;;;;;;;;;\r\n"   # a short row; blank rows are skipped
    records = _read(data, m)
    assert [r.errors == [] for r in records] == [True, False, True, False]
    bad = records[1]
    assert bad.line == 3 and bad.where == "record 2, line 3"
    text = " | ".join(bad.errors)
    assert "the voucher date '2026-04-10' is not a date written %d.%m.%Y (e.g. 23.11.2026)" in text
    assert "the amount '12.3.4' is not a plain decimal" in text
    assert "the currency 'EURO' is not a three-letter code" in text
    assert "the status 'maybe' is none of the mapped words" in text
    assert records[3].errors == ["the row has 3 field(s), the header 11: check the separator and the quoting"]
    assert records[3].line == 5


def test_a_row_without_identifier_or_number_is_refused():
    m = mapping()
    (r,) = _read(csv_file([{"payment_status": "PAID", "vendor_code": "PLAIN"}], m), m)
    assert r.errors == ["neither the unique identifier nor the invoice number is given"]


@pytest.mark.parametrize("data, says", [
    (b"", "no header row"),
    (b"\xff\xfeI\x00n\x00", "not UTF-8"),
    (b"ERP Ref,Status\n1,PAID\n", "lacks the mapped column(s) 'Invoice No' (Invoice number)"),
    ("ERP Ref;Invoice No;Supplier;Supplier ERP;Status;Cheque;Paid on;Amount;Cur;Remark\n".encode(),
     "lacks the mapped column(s)"),   # the wrong separator: one long header
    (b'"ERP Ref,Status\n', "cannot be read as CSV"),
    (b"ERP Ref,ERP Ref,Invoice No,Supplier,Supplier ERP,Status,Cheque,Paid on,Amount,Cur,Remark\n", "2 times"),
])
def test_whole_file_refusals(data, says):
    with pytest.raises(CSVRefused) as exc:
        _read(data, mapping())
    assert says in str(exc.value)
    assert isinstance(exc.value, XMLRefused)   # the job refuses and keeps it as it does a broken XML file


def test_size_limit():
    with pytest.raises(CSVRefused, match="more than the 10 allowed"):
        parse_csv_confirmations(b"x" * 11, mapping(), max_bytes=10)


@pytest.mark.parametrize("columns, extra, field, says", [
    ({"invoice_number": "No"}, {}, "payment_status", "status"),
    ({"payment_status": "S", "vendor_code": "V"}, {}, "invoice_number", "unique identifier column or of the invoice"),
    ({"payment_status": "S", "invoice_number": "s"}, {}, "invoice_number", "both name the column"),
    ({"payment_status": "S", "invoice_number": "N"}, {"separator": "|"}, "separator", "comma, a semicolon or a tab"),
    ({"payment_status": "S", "invoice_number": "N"}, {"separator": ",", "decimal": ","}, "decimal", "separator too"),
    ({"payment_status": "S", "invoice_number": "N"}, {"date_format": "%d/%m"}, "date_format", "a year"),
    ({"payment_status": "S", "invoice_number": "N"}, {"date_format": "%H:%M %d%m%Y"}, "date_format", "may use only"),
    ({"payment_status": "S", "invoice_number": "N"}, {"paid_values": ["PAID"], "rejected_values": ["paid"]},
     "rejected_values", "both paid and rejected"),
    ({"payment_status": "S", "invoice_number": "N"}, {"rejected_values": []}, "rejected_values", "at least one"),
])
def test_mapping_checks_name_the_field(columns, extra, field, says):
    with pytest.raises(MappingError) as exc:
        CsvMapping(columns=columns, **extra).check()
    assert exc.value.field == field and says in exc.value.message


def test_date_formats():
    for fmt in ("%Y%m%d", "%d.%m.%Y", "%Y-%m-%d", "%m/%d/%Y", "%d %b %Y"):
        check_date_format(fmt)
    for fmt in ("%d%m%y%Y", "%d.%m.%Y %d", "%Y-%m"):
        with pytest.raises(MappingError, match="each once"):
            check_date_format(fmt)


def test_the_stored_json_round_trips_and_a_broken_one_is_refused():
    m = mapping(";", "%d.%m.%Y", paid_values=["P"])
    assert CsvMapping.from_json(m.to_json()) == m
    assert set(HEADERS) == set(CsvMapping.from_json(m.to_json()).columns)
    for text, says in (("", "No CSV column mapping"), ("{", "not valid JSON"), ("[]", "not an object"),
                       ('{"columns": {"invoice_number": "N"}}', "status")):
        with pytest.raises(MappingError, match=says):
            CsvMapping.from_json(text)


def test_the_readmes_example_reads_as_it_says():
    """README, "Payment confirmations as CSV": the file and the mapping shown there."""
    import re
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    header, row = re.search(r"\n {7}(Voucher;Paid on;[^\n]+)\n {7}([^\n]+)\n", readme).groups()
    example = CsvMapping(columns={"voucher_number": "Voucher", "voucher_date": "Paid on", "invoice_number": "Invoice",
                                  "vendor_code": "Supplier", "payment_status": "Status", "amount": "Amount",
                                  "currency": "Cur"},
                         separator=";", date_format="%d.%m.%Y", decimal=",", paid_values="PAID").check()
    [rec] = parse_csv_confirmations(f"{header}\n{row}\n".encode(), example)
    assert (rec.voucher_number, rec.voucher_date, rec.invoice_number, rec.vendor_code, rec.amount, rec.currency) == (
        "V-2026-0042", date(2026, 12, 5), "EB-2026-0351", "EBSCO", Decimal("1480.00"), "USD")
    assert rec.errors == []
