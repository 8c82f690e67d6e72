"""The allocation file format alone (no database): headers, rows, amounts and numbers as CSV text
and as workbook cells, and the files that must be refused as a whole."""
from decimal import Decimal

import pytest

from app.integrations.formats.allocations import parse_allocation_file, plain_amount, whole_number
from testkit.allocation_files import HEADER, allocation_file

FORMATS = ("csv", "xls", "xlsx")


def _rows(file_type, rows, header=HEADER):
    return parse_allocation_file(allocation_file(file_type, rows, header), file_type)


@pytest.mark.parametrize("file_type", FORMATS)
def test_valid_rows_in_every_format(file_type):
    lines, errors = _rows(file_type, [["EXT-1", "23", "13.36", "123456", "Online entry | a fund | 07/14/2026"],
                                      ["A-BKS", 23, 5.5, None, None],
                                      [None, None, None, None, None],
                                      ["12345", 23 if file_type == "csv" else 23.0, -20, 99, ""]])
    assert errors == []
    assert [(ln.row, ln.fund_ref, ln.period_number, ln.amount, ln.reference, ln.note) for ln in lines] == [
        (2, "EXT-1", 23, Decimal("13.36"), "123456", "Online entry | a fund | 07/14/2026"),
        (3, "A-BKS", 23, Decimal("5.50"), "", ""),
        (5, "12345", 23, Decimal("-20.00"), "99", ""),
    ]


@pytest.mark.parametrize("file_type", FORMATS)
def test_header_only_file_is_nothing_to_do(file_type):
    assert _rows(file_type, []) == ([], [])


def test_headers_in_any_order_and_case_with_trailing_empty_cells():
    header = ["  amount", "Transaction_Note", "fund_external_id ", "FISCAL_PERIOD_ID", "TRANSACTION_REFERENCE_NUMBER", ""]
    lines, errors = _rows("csv", [["1.00", "n", "F", "7", "r", ""]], header)
    assert errors == [] and (lines[0].fund_ref, lines[0].amount, lines[0].note) == ("F", Decimal("1.00"), "n")


@pytest.mark.parametrize("header, expected", [
    (["INCORRECT", "FISCAL_PERIOD_ID", "WRONG", "TRANSACTION_REFERENCE_NUMBER", "TRANSACTION_NOTE"],
     "lacks FUND_EXTERNAL_ID, AMOUNT"),
    (HEADER[:4], "lacks TRANSACTION_NOTE"),
    ([*HEADER, "EXTRA"], "does not know: EXTRA"),
    ([*HEADER, "FUND_EXTERNAL_ID"], "appears twice"),
])
def test_wrong_headers_refuse_the_file(header, expected):
    lines, errors = _rows("csv", [["F", "1", "1.00", "", ""]], header)
    assert lines == [] and len(errors) == 1 and errors[0].row is None and expected in errors[0].message


@pytest.mark.parametrize("data, expected", [
    (b"", "empty"), (b"\xff\xfe\x00bad", "not UTF-8"), (b"PK\x03\x04 not really", "not an .xlsx")])
def test_unreadable_files(data, expected):
    file_type = "xlsx" if data.startswith(b"PK") else "csv"
    lines, errors = parse_allocation_file(data, file_type)
    assert lines == [] and errors[0].row is None and expected in errors[0].message


@pytest.mark.parametrize("file_type", FORMATS)
def test_every_bad_row_is_reported_with_its_spreadsheet_row_number(file_type):
    lines, errors = _rows(file_type, [["OK", "1", "1.00", "", ""],
                                      ["", "1", "1.00", "", ""],          # 3: no fund
                                      ["F", "one", "1.00", "", ""],       # 4: period not a number
                                      ["F", "1", "12,50", "", ""],        # 5: thousands/decimal comma
                                      ["F", "1", "1.234", "", ""],        # 6: three decimals
                                      ["F", "1", "0", "", ""],            # 7: zero
                                      ["F", "1", "1.00", "x" * 101, ""],  # 8: reference too long
                                      ["F", 1.5, "1.00", "", ""]])        # 9: period with a fraction
    assert [ln.row for ln in lines] == [2]
    assert [e.row for e in errors] == [3, 4, 5, 6, 7, 8, 9]
    assert [e.record for e in errors][:1] == ["row 3"]
    assert "more than two decimals" in errors[3].message


@pytest.mark.parametrize("value, expected", [
    ("13.36", "13.36"), (" -5 ", "-5.00"), ("+7.1", "7.10"), ("1.230", "1.23"), (13.36, "13.36"),
    (1000000.1, "1000000.10"), (-0.01, "-0.01"), (12, "12.00"), (Decimal("3.5"), "3.50")])
def test_plain_amounts(value, expected):
    assert plain_amount(value) == (Decimal(expected), None)


@pytest.mark.parametrize("value", [
    "1.234", 1.234, 0.1 + 0.2, "1e3", 1e16, "NaN", float("nan"), float("inf"), "-inf", "Infinity", "1,000.00",
    "١٢٣", "0x10", "", None, True, "0.00", 0.0, "1000000000000", "12.", ".5", "1_000"])
def test_refused_amounts(value):
    amount, problem = plain_amount(value)
    assert amount is None and problem


@pytest.mark.parametrize("value, expected", [("22", 22), (22, 22), (22.0, 22), (" 7 ", 7), ("0", 0)])
def test_whole_numbers(value, expected):
    assert whole_number(value) == (expected, None)


@pytest.mark.parametrize("value", ["22.0", 22.5, "-1", -1, "２２", "", None, True, float("nan"), "1e2", "9999999999"])
def test_refused_whole_numbers(value):
    number, problem = whole_number(value)
    assert number is None and problem


def test_values_beyond_the_header_are_refused():
    data = b",".join(h.encode() for h in HEADER) + b"\r\nF,1,1.00,r,n,surprise\r\n"
    lines, errors = parse_allocation_file(data, "csv")
    assert lines == [] and errors[0].row == 2 and "beyond" in errors[0].message
