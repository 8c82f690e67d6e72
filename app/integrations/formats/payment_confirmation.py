"""Reading the ERP's payment confirmation file (``payment_confirmation_data``, Alma's format).

Pure: bytes in, records out; no database. The whole file is refused (:class:`XMLRefused`) when it
is not a safe, well-formed document with the right root; problems of one ``invoice`` element are
kept on its :class:`Confirmation` (``errors``/``warnings``) so the other records can still apply.

Producers differ, so the reader is lenient where that is safe: a default namespace, any prefix, or
no namespace at all (a file-level warning); elements in any order; empty elements count as absent;
unknown elements are ignored. It is strict where a wrong guess could move money: the status must be
PAID or REJECTED, dates must be ``YYYYMMDD``, the amount a plain decimal.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from lxml import etree

from ...text import T

from .xml import MAX_XML_BYTES, XMLRefused, parse

NAMESPACE = "http://com/exlibris/repository/acq/xmlbeans"
ROOT = "payment_confirmation_data"
STATUSES = ("PAID", "REJECTED")
TEXT_FIELDS = ("invoice_number", "unique_identifier", "vendor_code", "invoice_date", "payment_status",
               "payment_note", "payment_voucher_date", "payment_voucher_number")
_AMOUNT = re.compile(r"^-?[0-9]{1,15}(\.[0-9]{1,6})?$")   # ASCII digits only, as in the API
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_DATE = re.compile(r"^[0-9]{8}$")


@dataclass
class Confirmation:
    """One ``invoice`` element. ``position``: 1-based among the file's invoices; ``line``: its line
    in the file. A record with ``errors`` must not be applied."""
    position: int
    line: int | None = None
    invoice_number: str | None = None
    unique_identifier: str | None = None
    vendor_code: str | None = None
    erp_vendor_code: str | None = None   # the vendor's code in the ERP (CSV files only)
    invoice_date: date | None = None
    payment_status: str | None = None
    payment_note: str | None = None
    voucher_date: date | None = None
    voucher_number: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How reports name the record: its invoice number and/or unique identifier, else its position."""
        parts = []
        if self.invoice_number:
            vendor = self.vendor_code or self.erp_vendor_code
            parts.append(self.invoice_number + (f" ({vendor})" if vendor else ""))
        if self.unique_identifier:
            parts.append(f"uid {self.unique_identifier}")
        return " / ".join(parts) or T("record %(position)s", position=self.position)

    @property
    def where(self) -> str:
        if self.line:
            return T("record %(position)s, line %(line)s", position=self.position, line=self.line)
        return T("record %(position)s", position=self.position)


class Confirmations(list):
    """The file's records, plus file-level ``warnings`` (e.g. no namespace)."""

    def __init__(self, records=(), warnings=()):
        super().__init__(records)
        self.warnings = list(warnings)


def _local(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _namespace(el) -> str | None:
    return etree.QName(el).namespace


def _text(el) -> str | None:
    text = "".join(el.itertext()).strip()
    return text or None


def _date(value: str, name: str, rec: Confirmation, *, fatal: bool) -> date | None:
    problem = None
    if not _DATE.match(value):
        problem = T("%(name)s %(value)s is not a date written YYYYMMDD", name=name, value=repr(value[:40]))
    else:
        try:
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            problem = T("%(name)s %(value)s is not a real date", name=name, value=repr(value))
    (rec.errors if fatal else rec.warnings).append(problem if fatal else T("%(problem)s; ignored", problem=problem))
    return None


def _read_amount(el, rec: Confirmation) -> None:
    parts: dict[str, str | None] = {}
    for child in el:
        name = _local(child)
        if name in ("currency", "sum"):
            parts[name] = _text(child)
    total, currency = parts.get("sum"), parts.get("currency")
    if total is None and currency is None:
        return
    if total is None:
        rec.errors.append(T("voucher_amount has a currency but no sum"))
        return
    if not _AMOUNT.match(total):
        rec.errors.append(T("voucher_amount sum %(value)s is not a plain decimal such as 1234.50", value=repr(total[:40])))
    else:
        rec.amount = Decimal(total)
    if currency is not None:
        if not _CURRENCY.match(currency):
            rec.errors.append(T("voucher_amount currency %(value)s is not a three-letter code", value=repr(currency[:40])))
        else:
            rec.currency = currency.upper()


def _read_invoice(el, position: int) -> Confirmation:
    rec = Confirmation(position=position, line=el.sourceline)
    seen: dict[str, str | None] = {}
    amount_seen = False
    for child in el:
        name = _local(child)
        if name in TEXT_FIELDS or name == "voucher_amount":
            if name in seen or (name == "voucher_amount" and amount_seen):
                rec.errors.append(T("%(name)s appears more than once", name=name))
                continue
        if name == "voucher_amount":
            amount_seen = True
            _read_amount(child, rec)
        elif name in TEXT_FIELDS:
            seen[name] = _text(child)
    rec.invoice_number = seen.get("invoice_number")
    rec.unique_identifier = seen.get("unique_identifier")
    rec.vendor_code = seen.get("vendor_code")
    rec.payment_note = seen.get("payment_note")
    rec.voucher_number = seen.get("payment_voucher_number")
    status = seen.get("payment_status")
    if status is None:
        rec.errors.append(T("payment_status is missing"))
    elif status.upper() not in STATUSES:
        rec.errors.append(T("payment_status %(value)s is neither PAID nor REJECTED", value=repr(status[:40])))
    else:
        rec.payment_status = status.upper()
    if seen.get("invoice_date"):
        rec.invoice_date = _date(seen["invoice_date"], "invoice_date", rec, fatal=False)
    if seen.get("payment_voucher_date"):
        rec.voucher_date = _date(seen["payment_voucher_date"], "payment_voucher_date", rec, fatal=True)
    if not rec.unique_identifier and not rec.invoice_number:
        rec.errors.append(T("neither unique_identifier nor invoice_number is given"))
    return rec


def parse_confirmations(data: bytes, max_bytes: int = MAX_XML_BYTES) -> Confirmations:
    """The records of a payment confirmation file; raises :class:`XMLRefused` for the whole file."""
    root = parse(data, max_bytes)
    if _local(root) != ROOT:
        raise XMLRefused(T("The root element is <%(found)s>, not <%(root)s>: this is not a payment "
                           "confirmation file.", found=_local(root), root=ROOT))
    warnings = []
    ns = _namespace(root)
    if ns is None:
        warnings.append(T("The file has no namespace (expected %(namespace)s); read it anyway.", namespace=NAMESPACE))
    elif ns != NAMESPACE:
        raise XMLRefused(T("The root element is in the namespace %(found)s, not %(namespace)s.", found=repr(ns),
                           namespace=NAMESPACE))
    lists = [child for child in root if _local(child) == "invoice_list"]
    if not lists:
        raise XMLRefused(T("<%(root)s> has no <invoice_list>.", root=ROOT))
    records = []
    for invoice_list in lists:
        for el in invoice_list:
            if _local(el) == "invoice":
                records.append(_read_invoice(el, len(records) + 1))
    return Confirmations(records, warnings)
