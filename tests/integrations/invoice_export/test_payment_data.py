"""The pure writer of payment_data files: deterministic bytes, plain decimals, US dates, every
charge written, and valid against our XSD (no database needed)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.integrations.formats import payment_data as pd
from app.integrations.formats.xml import parse, schema_errors

NS = {"p": pd.NAMESPACE}


def _invoice(**over) -> pd.InvoiceData:
    audit = pd.Audit("jdoe", date(2026, 3, 2), "7", "7", "msmith")
    fund = pd.FundInfo(pd.Amount("USD", Decimal("1319.05")), pd.Amount("EUR", Decimal("1213.53")), "BKS", "Books",
                       "FY2026", "4711|BKS", "ALLOCATED", "GEN", "General", "GEN", "General ledger")
    refund = pd.FundInfo(pd.Amount("USD", Decimal("-285.00")), pd.Amount("EUR", Decimal("-262.20")), "BKS", "Books",
                         "FY2026", "4711|BKS", "ALLOCATED", "", "", "GEN", "General ledger")
    lines = (pd.InvoiceLineData(1, "REGULAR", 2, "1234", Decimal("1319.05"), Decimal("659.525"), (fund,),
                                pd.POLineInfo(True, "Main library", "POL-12", Decimal("1300.00"), "Prélude & fugue",
                                              identifier="9780000000002", identifier_type="ISBN")),
             pd.InvoiceLineData(2, "DISCOUNT", 0, "", Decimal("-285.00"), Decimal("-285.00"), (refund,)))
    values = dict(number="V-1", owner="Main library", approved_by="Smith Sally",
                  amount=pd.Amount("USD", Decimal("1034.05")), vendor_code="ACME", vendor_name="Acme Books",
                  vendor_additional_code="", vendor_financial_sys_code="S-1", vendor_liable_for_vat=False,
                  vendor_national_tax_id="", unique_identifier="1234567890123456", invoice_date=date(2026, 3, 1),
                  payment_method="ACCOUNTINGDEPARTMENT", audit=audit,
                  vat=pd.VatInfo(True, True, Decimal("0.00"), Decimal("0"), "INCLUSIVE", False), lines=lines,
                  payment_addresses=(pd.PaymentAddress(True, ("PO Box 1",), "Town", "12345", "NJ", ("Payment",)),),
                  notes=(pd.Note("call\x01 first", audit),), charges={"shipment_amount": Decimal("12.50")},
                  exchange_rates=(pd.ExchangeRateInfo(Decimal("0.92"), "EUR", False),))
    values.update(over)
    return pd.InvoiceData(**values)


def test_same_data_same_bytes_and_valid():
    data = pd.build_payment_data([_invoice(), _invoice(number="V-2", unique_identifier="1234567890123457")])
    assert data == pd.build_payment_data([_invoice(), _invoice(number="V-2", unique_identifier="1234567890123457")])
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    root = parse(data)
    assert schema_errors(root, "payment_data.xsd") == []
    assert len(root.findall("p:invoice_list/p:invoice", NS)) == 2
    inv = root.find("p:invoice_list/p:invoice", NS)
    assert inv.findtext("p:invoice_date", namespaces=NS) == "03/01/2026"
    assert inv.findtext("p:invoice_ownered_entity/p:creationDate", namespaces=NS) == "03/02/2026"
    sums = [e.text for e in inv.iterfind(".//p:fund_info/p:amount/p:sum", NS)]
    assert sums == ["1319.05", "-285.00"]
    assert inv.findtext("p:additional_charges/p:shipment_amount", namespaces=NS) == "12.50"
    assert inv.findtext("p:additional_charges/p:insurance_amount", namespaces=NS) == "0.00"
    assert inv.findtext("p:noteList/p:note/p:content", namespaces=NS) == "call first"   # control char dropped
    assert inv.find("p:vendor_payment_address_list/p:payment_address", NS).get("preferred") == "true"
    assert "Prélude & fugue".encode() in data.replace(b"&amp;", b"&")


def test_money_is_plain_decimal():
    assert [pd.money(Decimal(x)) for x in ("1E+3", "-0.00", "1234567.891", "0.92")] == \
        ["1000", "0.00", "1234567.891", "0.92"]


def test_schema_catches_what_we_must_never_write():
    for bad in (dict(unique_identifier="12345"), dict(vendor_code=""),
                dict(amount=pd.Amount("usd", Decimal("1")))):
        root = parse(pd.build_payment_data([_invoice(**bad)]))
        assert schema_errors(root, "payment_data.xsd"), bad


def test_refuses_empty_file_and_unknown_charge():
    with pytest.raises(ValueError):
        pd.build_payment_data([])
    with pytest.raises(ValueError, match="Unknown additional charge"):
        pd.build_payment_data([_invoice(charges={"tips_amount": Decimal("1")})])
