"""Allocation files written for the tests, in the three formats, from rows of cell values."""
from __future__ import annotations

import csv
import io

HEADER = ["FUND_EXTERNAL_ID", "FISCAL_PERIOD_ID", "AMOUNT", "TRANSACTION_REFERENCE_NUMBER", "TRANSACTION_NOTE"]


def csv_bytes(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if c is None else c for c in row])
    return out.getvalue().encode("utf-8")


def xlsx_bytes(rows, header=HEADER) -> bytes:
    from openpyxl import Workbook
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Allocations")
    ws.append(header)
    for row in rows:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def xls_bytes(rows, header=HEADER) -> bytes:
    import xlwt
    wb = xlwt.Workbook()
    ws = wb.add_sheet("Allocations")
    for r, row in enumerate([header, *rows]):
        for c, value in enumerate(row):
            if value is not None:
                ws.write(r, c, value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


WRITERS = {"csv": csv_bytes, "xlsx": xlsx_bytes, "xls": xls_bytes}


def allocation_file(file_type: str, rows, header=HEADER) -> bytes:
    return WRITERS[file_type](rows, header)
