"""Export files of known invoices, built by the real writer (and checked against our XSD)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.integrations.formats import payment_data as pd
from app.integrations.formats.xml import parse, schema_errors

AUDIT = pd.Audit(created_by="invoicer", creation_date=date(2026, 3, 1), customer_id="1", institution_id="1",
                 modified_by="manager")
VAT = pd.VatInfo(expended_from_fund=True, inclusive=True, amount=Decimal("0.00"), percentage=Decimal("0"),
                 vat_type="INCLUSIVE", line_level=False)


def fund(external_id: str, amount: str, currency: str = "EUR") -> pd.FundInfo:
    return pd.FundInfo(amount=pd.Amount(currency, Decimal(amount)), local_amount=pd.Amount(currency, Decimal(amount)),
                       code=external_id.lower(), name=f"Fund {external_id}", fiscal_period="2026",
                       external_id=external_id, type="ALLOCATED", fund_type="", fund_type_desc="", ledger_code="MAIN",
                       ledger_name="Main ledger")


def invoice(number: str, uid: str, day: date, currency: str, lines: list[list[tuple[str, str]]], *,
            vendor: str = "ACME", erp_vendor: str = "", due: date | None = None) -> pd.InvoiceData:
    data = []
    for n, funds in enumerate(lines, start=1):
        total = sum((Decimal(a) for _, a in funds), Decimal("0.00"))
        data.append(pd.InvoiceLineData(line_number=n, line_type="REGULAR", quantity=1, reporting_code="",
                                       total_price=total, price=total,
                                       funds=tuple(fund(f, a, currency) for f, a in funds)))
    amount = sum((x.total_price for x in data), Decimal("0.00"))
    return pd.InvoiceData(number=number, owner="Main library", approved_by="Manager", amount=pd.Amount(currency, amount),
                          vendor_code=vendor, vendor_name=f"Vendor {vendor}", vendor_additional_code="",
                          vendor_financial_sys_code=erp_vendor, vendor_liable_for_vat=False, vendor_national_tax_id="",
                          unique_identifier=uid, invoice_date=day, due_date=due, payment_method="ACCOUNTINGDEPARTMENT",
                          audit=AUDIT, vat=VAT, lines=tuple(data))


def export(invoices: list[pd.InvoiceData]) -> bytes:
    content = pd.build_payment_data(invoices)
    assert schema_errors(parse(content), "payment_data.xsd") == []
    return content


def several() -> bytes:
    """Three invoices: two lines on two funds, a vendor with an ERP code and a due date, a credit
    note, and text that CSV must quote."""
    return export([
        invoice("INV-1", "1000000000000001", date(2026, 3, 2), "EUR", [[("F-BOOKS", "100.00")],
                                                                       [("F-BOOKS", "20.50"), ("F-SERIALS", "9.45")]]),
        invoice('A "big", one', "1000000000000002", date(2026, 12, 31), "USD", [[("F-SERIALS", "1234.56")]],
                vendor="EBSCO", erp_vendor="V000123", due=date(2027, 1, 30)),
        invoice("CN-7", "1000000000000003", date(2026, 4, 5), "EUR", [[("F-BOOKS", "-15.00")]]),
    ])


def many(count: int) -> bytes:
    """``count`` invoices of one line on two funds each."""
    return export([invoice(f"B-{n}", f"{2000000000000000 + n}", date(2026, 1 + n % 12, 1 + n % 28), "EUR",
                           [[("F-BOOKS", f"{n}.25"), ("F-SERIALS", "0.10")]]) for n in range(1, count + 1)])
