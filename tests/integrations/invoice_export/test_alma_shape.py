"""Our payment_data files have the shape of Alma's own, element by element, in both element sets.

``SHAPE`` is our description of the real Alma invoice exports (the 2016/2017 and 2021 files in the
project's format notes; none is read here): for each element, its children in Alma's order and
when each one is written. A fully-filled invoice must give every child the version allows, in
that order; a minimal one only the children Alma always writes, plus the list containers Alma
keeps when empty, and no empty element at all otherwise (a loader reading the first child of an
element fails on an empty one).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from app.integrations.formats import payment_data as pd
from app.integrations.formats.xml import parse, schema_errors

ALWAYS = "always"          # in every Alma file
IF_SET = "if set"          # written only when it has a value (left out otherwise, never empty)
KEPT = "kept"              # a list container written even when empty (<tag/>)
CURRENT = "current"        # one of the 2021 additions: always, in the current set only
CURRENT_IF_SET = "current, if set"
V1 = "v1"                  # only in the 2016/2017 files: always, in version 1 only
OURS = "ours"              # not in the samples, written by us always (every charge, zeros included)

SHAPE = {
    "payment_data": [("invoice_list", ALWAYS)],
    "invoice_list": [("invoice", ALWAYS)],
    "invoice": [
        ("invoice_number", ALWAYS), ("invoice_ref_num", IF_SET), ("invoice_owner", ALWAYS),
        ("approved_by", IF_SET), ("invoice_amount", ALWAYS), ("vendor_code", ALWAYS), ("vendor_name", ALWAYS),
        ("vendor_additional_code", IF_SET), ("vendor_FinancialSys_Code", IF_SET), ("vendor_liable_for_vat", ALWAYS),
        ("vendor_national_tax_id", CURRENT_IF_SET), ("vendor_payment_address_list", KEPT),
        ("vendor_account_code", CURRENT_IF_SET), ("vendor_account_FinancialSys_Code", IF_SET),
        ("unique_identifier", ALWAYS), ("invoice_date", ALWAYS), ("invoice_due_date", IF_SET),
        ("payment_method", ALWAYS), ("prepaid_ind", V1), ("number_of_attachments", CURRENT), ("noteList", IF_SET),
        ("invoice_ownered_entity", ALWAYS), ("vat_info", ALWAYS), ("additional_charges", OURS),
        ("invoice_exchange_rate_list", IF_SET), ("invoice_line_list", KEPT)],
    "invoice_amount": [("currency", ALWAYS), ("sum", ALWAYS)],
    "vendor_payment_address_list": [("payment_address", ALWAYS)],
    "payment_address": [("line1", ALWAYS), ("line2", IF_SET), ("city", IF_SET), ("country", IF_SET),
                        ("note", IF_SET), ("postalCode", IF_SET), ("stateProvince", IF_SET), ("types", ALWAYS)],
    "types": [("type", ALWAYS)],
    "noteList": [("note", ALWAYS)],
    "note": [("content", ALWAYS), ("owneredEntity", ALWAYS)],
    "audit": [("createdBy", ALWAYS), ("creationDate", ALWAYS), ("customerId", ALWAYS), ("institutionId", ALWAYS),
              ("modificationDate", IF_SET), ("modifiedBy", ALWAYS)],
    "vat_info": [("expended_from_fund_ind", ALWAYS), ("inclusive_ind", ALWAYS), ("vat_amount", ALWAYS),
                 ("vat_percentage", ALWAYS), ("vat_code", IF_SET), ("vat_type", ALWAYS),
                 ("vat_in_invoice_line_level", ALWAYS)],
    "invoice_exchange_rate_list": [("exchange_rate", ALWAYS)],
    "exchange_rate": [("rate", ALWAYS), ("currency", ALWAYS), ("explicit_ind", ALWAYS)],
    "invoice_line_list": [("invoice_line", ALWAYS)],
    "invoice_line": [("line_number", ALWAYS), ("line_type", ALWAYS), ("note", IF_SET), ("quantity", ALWAYS),
                     ("reporting_code", IF_SET), ("total_price", ALWAYS), ("price", ALWAYS),
                     ("po_line_info", IF_SET), ("fund_info_list", IF_SET)],
    "po_line_info": [("fully_Invoiced_ind", ALWAYS), ("po_line_owner", ALWAYS), ("meta_data_values", IF_SET),
                     ("vendor_reference_number", IF_SET), ("po_line_number", ALWAYS), ("po_line_price", ALWAYS),
                     ("po_line_title", ALWAYS)],
    "meta_data_values": [("acqterms_identifier", IF_SET), ("acqterms_identifierType", IF_SET), ("creator", IF_SET),
                         ("date", IF_SET), ("publisher", IF_SET)],
    "fund_info_list": [("fund_info", ALWAYS)],
    "fund_info": [("amount", ALWAYS), ("local_amount", CURRENT), ("code", ALWAYS), ("name", ALWAYS),
                  ("fiscal_period", ALWAYS), ("external_id", ALWAYS), ("type", ALWAYS), ("fund_type", IF_SET),
                  ("fund_type_desc", IF_SET), ("ledger_code", CURRENT), ("ledger_name", CURRENT_IF_SET)],
    "amount": [("currency", ALWAYS), ("sum", ALWAYS)],
}
SHAPE["additional_charges"] = [(tag, OURS) for tag in pd.CHARGE_ELEMENTS]
SHAPE["local_amount"] = SHAPE["amount"]
SHAPE["invoice_ownered_entity"] = SHAPE["owneredEntity"] = SHAPE["audit"]


def _expected(kinds: set[str], parent: str) -> list[str]:
    return [tag for tag, kind in SHAPE[parent] if kind in kinds]


KINDS = {"current": {ALWAYS, IF_SET, KEPT, CURRENT, CURRENT_IF_SET, OURS},
         "v1": {ALWAYS, IF_SET, KEPT, V1, OURS}}
ALWAYS_KINDS = {"current": {ALWAYS, KEPT, CURRENT, OURS}, "v1": {ALWAYS, KEPT, V1, OURS}}


def _audit(modified: bool) -> pd.Audit:
    return pd.Audit("jdoe", date(2026, 3, 2), "7", "7", "msmith", date(2026, 3, 4) if modified else None)


def full_invoice() -> pd.InvoiceData:
    """Every element we can write, with a value."""
    fund = pd.FundInfo(pd.Amount("USD", Decimal("40.00")), pd.Amount("EUR", Decimal("36.80")), "BKS", "Books",
                       "FY2026", "4711|BKS", "ALLOCATED", "GEN", "General", "LED", "Main ledger")
    pol = pd.POLineInfo(True, "Main library", "POL-1", Decimal("40.00"), "A title", identifier="9780000000002",
                        identifier_type="ISBN", creator="Doe, Jane", date="2025", publisher="A press",
                        vendor_reference_number="REF-1")
    line = pd.InvoiceLineData(1, "REGULAR", 1, "1234", Decimal("40.00"), Decimal("40.00"), (fund,), pol, note="2026")
    address = pd.PaymentAddress(True, ("PO Box 1", "Suite 2"), "Town", "12345", "NJ", ("Payment", "Billing"),
                                country="USA", note="Pay here")
    return pd.InvoiceData(
        number="F-1", reference_number="R-1", owner="Main library", approved_by="Smith Sally",
        amount=pd.Amount("USD", Decimal("40.00")), vendor_code="ACME", vendor_name="Acme", vendor_additional_code="A2",
        vendor_financial_sys_code="S-1", vendor_liable_for_vat=True, vendor_national_tax_id="99-1",
        unique_identifier="1234567890123456", invoice_date=date(2026, 3, 1), payment_method="ACCOUNTINGDEPARTMENT",
        audit=_audit(True), vat=pd.VatInfo(True, True, Decimal("0.00"), Decimal("0"), "INCLUSIVE", False, code="V0"),
        lines=(line,), payment_addresses=(address,), vendor_account_code="AC-1",
        vendor_account_financial_sys_code="ACF-1", due_date=date(2026, 4, 1), number_of_attachments=2,
        notes=(pd.Note("Pay soon", _audit(True)),), exchange_rates=(pd.ExchangeRateInfo(Decimal("0.92"), "EUR", True),),
        prepaid=True)


def minimal_invoice() -> pd.InvoiceData:
    """Only what every invoice has: no optional value anywhere (a charge line without PO line or fund)."""
    fund = pd.FundInfo(pd.Amount("USD", Decimal("5.00")), pd.Amount("USD", Decimal("5.00")), "BKS", "Books",
                       "FY2026", "BKS", "ALLOCATED", "", "", "LED", "")
    lines = (pd.InvoiceLineData(1, "REGULAR", 1, "", Decimal("5.00"), Decimal("5.00"), (fund,)),
             pd.InvoiceLineData(2, "SHIPMENT", 0, "", Decimal("0.00"), Decimal("0.00")))
    return pd.InvoiceData(
        number="M-1", owner="Main library", approved_by="", amount=pd.Amount("USD", Decimal("5.00")),
        vendor_code="ACME", vendor_name="Acme", vendor_additional_code="", vendor_financial_sys_code="",
        vendor_liable_for_vat=False, vendor_national_tax_id="", unique_identifier="1234567890123457",
        invoice_date=date(2026, 3, 1), payment_method="ACCOUNTINGDEPARTMENT", audit=_audit(False),
        vat=pd.VatInfo(True, True, Decimal("0.00"), Decimal("0"), "INCLUSIVE", False), lines=lines)


def _children(el) -> list[str]:
    out = []
    for child in el:
        tag = etree.QName(child).localname
        if not out or out[-1] != tag:   # a repeated element counts once
            out.append(tag)
    return out


def _walk(root):
    for el in root.iter():
        yield etree.QName(el).localname, el


@pytest.mark.parametrize("version", ["current", "v1"])
def test_full_invoice_has_every_element_of_its_version_in_alma_order(version):
    root = parse(pd.build_payment_data([full_invoice()], version))
    assert schema_errors(root, pd.schema_name(version)) == []
    seen = set()
    for tag, el in _walk(root):
        if len(el) == 0:
            assert (el.text or "").strip(), f"<{tag}/> is empty"
            continue
        assert _children(el) == _expected(KINDS[version], tag), tag
        seen.add(tag)
    assert seen >= {"invoice", "payment_address", "noteList", "owneredEntity", "po_line_info", "meta_data_values",
                    "fund_info", "invoice_exchange_rate_list"}


@pytest.mark.parametrize("version", ["current", "v1"])
def test_minimal_invoice_leaves_out_what_has_no_value(version):
    root = parse(pd.build_payment_data([minimal_invoice()], version))
    assert schema_errors(root, pd.schema_name(version)) == []
    for tag, el in _walk(root):
        if len(el) == 0 and not (el.text or "").strip():
            assert dict(SHAPE["invoice"]).get(tag) == KEPT, f"<{tag}/> is written empty"
            continue
        if len(el):
            expected = _expected(ALWAYS_KINDS[version], tag)
            if tag == "invoice_line" and el.findtext(f"{{{pd.NAMESPACE}}}line_type") == "REGULAR":
                expected.append("fund_info_list")   # this line has a fund; the shipment line has none
            assert _children(el) == expected, tag
    inv = root.find(f"{{{pd.NAMESPACE}}}invoice_list/{{{pd.NAMESPACE}}}invoice")
    assert inv.find(f"{{{pd.NAMESPACE}}}vendor_payment_address_list") is not None   # kept, as <tag/>
    for absent in ("approved_by", "vendor_additional_code", "vendor_FinancialSys_Code", "vendor_national_tax_id",
                   "noteList", "invoice_exchange_rate_list"):
        assert inv.find(f"{{{pd.NAMESPACE}}}{absent}") is None, absent
    assert not list(root.iter(f"{{{pd.NAMESPACE}}}reporting_code"))
    assert not list(root.iter(f"{{{pd.NAMESPACE}}}fund_type"))


@pytest.mark.parametrize("version, created, modified", [("current", "03/02/2026", "03/04/2026"),
                                                        ("v1", "20260302", "20260304")])
def test_dates_of_each_version(version, created, modified):
    root = parse(pd.build_payment_data([full_invoice()], version))
    ns = {"p": pd.NAMESPACE}
    inv = root.find("p:invoice_list/p:invoice", ns)
    assert inv.findtext("p:invoice_date", namespaces=ns) == "03/01/2026"   # MM/DD/YYYY in every Alma file
    assert inv.findtext("p:invoice_ownered_entity/p:creationDate", namespaces=ns) == created
    assert inv.findtext("p:noteList/p:note/p:owneredEntity/p:modificationDate", namespaces=ns) == modified
    assert inv.findtext("p:prepaid_ind", namespaces=ns) == ("true" if version == "v1" else None)


def test_each_version_is_refused_by_the_other_schema():
    for version, other in (("current", "v1"), ("v1", "current")):
        root = parse(pd.build_payment_data([minimal_invoice()], version))
        assert schema_errors(root, pd.schema_name(other)), (version, other)


def test_schemas_refuse_an_empty_optional_element():
    data = pd.build_payment_data([full_invoice()]).replace(b"<reporting_code>1234</reporting_code>",
                                                          b"<reporting_code></reporting_code>")
    assert any("reporting_code" in e for e in schema_errors(parse(data), "payment_data.xsd"))
    data = pd.build_payment_data([full_invoice()], "v1").replace(b"<fund_type>GEN</fund_type>", b"<fund_type/>")
    assert any("fund_type" in e for e in schema_errors(parse(data), "payment_data_v1.xsd"))


def test_unknown_version_is_refused():
    with pytest.raises(ValueError, match="Unknown XSD version"):
        pd.build_payment_data([minimal_invoice()], "v2")
