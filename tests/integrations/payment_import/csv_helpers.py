"""CSV payment files as an ERP would write them: our own header names, any column order, any
separator and date format, optionally with a BOM."""
from __future__ import annotations

import csv
import io
import random

from app.integrations.formats.payment_csv import CsvMapping

HEADERS = {"unique_identifier": "ERP Ref", "invoice_number": "Invoice No", "vendor_code": "Supplier",
           "erp_vendor_code": "Supplier ERP", "payment_status": "Status", "voucher_number": "Cheque",
           "voucher_date": "Paid on", "amount": "Amount", "currency": "Cur", "payment_note": "Remark"}


def mapping(separator=",", date_format="%Y%m%d", decimal=".", fields=tuple(HEADERS), **kw) -> CsvMapping:
    return CsvMapping(columns={k: HEADERS[k] for k in fields}, separator=separator, date_format=date_format,
                      decimal=decimal, **kw).check()


def csv_file(rows: list[dict], m: CsvMapping, *, seed: int | None = None, bom: bool = False,
             extra_column: bool = True) -> bytes:
    """``rows``: field -> text. Columns in the mapping's order, shuffled by ``seed``; an unmapped
    column too (the ERP's own, ignored by the reader)."""
    keys = list(m.columns)
    if seed is not None:
        random.Random(seed).shuffle(keys)
    header = [m.columns[k] for k in keys] + (["Cost centre"] if extra_column else [])
    out = io.StringIO()
    writer = csv.writer(out, delimiter=m.separator, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(k, "") for k in keys] + (["CC-1"] if extra_column else []))
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def paid_row(inv, voucher="V-1", on="20260410", amount=None, currency=None, **extra) -> dict:
    row = {"unique_identifier": inv.erp_identifier, "payment_status": "PAID", "voucher_number": voucher,
           "voucher_date": on, "amount": amount if amount is not None else f"{inv.total_amount}",
           "currency": currency or inv.currency}
    row.update(extra)
    return row


def rejected_row(inv, note="Bank details wrong", **extra) -> dict:
    row = {"unique_identifier": inv.erp_identifier, "payment_status": "REJECTED", "payment_note": note}
    row.update(extra)
    return row
