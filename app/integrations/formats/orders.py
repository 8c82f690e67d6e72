"""The ERP files for sent purchase orders (``po_data``) and for closed or cancelled PO lines
(``po_line_data``).

This project's format, not Alma's: no public schema of Alma's PO exports exists, so these are
our own, written in the style of Alma's ``payment_data`` invoice export (the same
``amount{currency,sum}`` and ``fund_info`` blocks, ``po_line_number``, ``po_line_title``,
``vendor_code``, ``vendor_FinancialSys_Code``, dates as MM/DD/YYYY, plain decimals). The XSDs are
``xsd/po_data.xsd`` and ``xsd/po_line_data.xsd``.

Pure: dataclasses in, UTF-8 bytes out; no database, no Flask. The same input always gives the
same bytes. The PO line file is written element by element (:func:`write_po_line_data`), so a
50,000-line batch never exists as a tree.
"""
from __future__ import annotations

import io
import itertools
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import BinaryIO, Iterable, Sequence

from lxml import etree

from ...text import T
from .payment_data import Amount, us_date  # the same amount block and dates as the invoice export

PO_NAMESPACE = "http://acquisitions.invalid/erp/po/v1"
POL_NAMESPACE = "http://acquisitions.invalid/erp/pol/v1"
PO_XSD = "po_data.xsd"
POL_XSD = "po_line_data.xsd"


class FormatError(ValueError):
    """The data cannot be written in this format; the message says what to fix (``text``: as given,
    a :class:`~app.text.Text` to record)."""

    @property
    def text(self):
        return self.args[0] if self.args else ""


@dataclass(frozen=True)
class VendorInfo:
    code: str
    name: str
    financial_sys_code: str = ""


@dataclass(frozen=True)
class FundInfo:
    amount: Amount                      # share of the line, in the line's currency
    code: str
    name: str
    fiscal_period: str
    external_id: str = ""
    ledger_code: str = ""
    ledger_name: str = ""
    local_amount: Amount | None = None  # encumbered at approval, in the fund's currency
    percent: Decimal | None = None
    encumbered: Amount | None = None    # PO line export only
    expended: Amount | None = None      # PO line export only


@dataclass(frozen=True)
class OrderLine:
    number: str
    title: str
    status: str                 # our status code, e.g. "sent"
    order_type: str             # one_time | continuous
    quantity: int
    list_price: Decimal         # per copy, line currency
    discount: Decimal           # percent
    price: Amount               # net price of the line
    funds: Sequence[FundInfo] = ()
    reporting_code: str = ""
    vendor_reference: str = ""


@dataclass(frozen=True)
class Order:
    """A PO as sent to its vendor."""
    number: str
    owner: str                  # library name, or the institution's
    owner_code: str
    sent_date: date
    vendor: VendorInfo
    lines: Sequence[OrderLine]

    @property
    def currency(self) -> str:
        currencies = sorted({line.price.currency for line in self.lines})
        if not currencies:
            raise FormatError(T("%(number)s has no PO line to export.", number=self.number))
        if len(currencies) > 1:
            raise FormatError(T("%(number)s has lines in %(currencies)s; an exported order carries one currency. "
                                "Move the lines to orders of one currency each.", number=self.number,
                                currencies=" and ".join(currencies)))
        return currencies[0]

    @property
    def total(self) -> Amount:
        return Amount(self.currency, sum((line.price.sum for line in self.lines), Decimal(0)))


@dataclass(frozen=True)
class DeletedOrder:
    """A PO that was sent and later deleted (its only line moved to another vendor's order)."""
    number: str
    deleted_date: date
    reason: str = ""


@dataclass(frozen=True)
class FinishedLine:
    """A closed or cancelled PO line."""
    number: str
    po_number: str              # "" when the line never was in an order
    title: str
    status: str                 # closed | cancelled
    status_date: date
    reason: str
    owner: str
    owner_code: str
    vendor: VendorInfo
    order_type: str
    quantity: int
    price: Amount
    funds: Sequence[FundInfo] = field(default_factory=tuple)


# -- writing -----------------------------------------------------------------------------------

def decimal_text(value: Decimal) -> str:
    """A plain decimal: '.' separator, no exponent, no thousands separator."""
    if not isinstance(value, Decimal):
        raise FormatError(T("Not a decimal amount: %(value)s.", value=repr(value)))
    return format(value, "f")


class _Writer:
    def __init__(self, namespace: str):
        self.ns = namespace
        self._tags: dict[str, str] = {}

    def el(self, parent, tag: str, text=None):
        qname = self._tags.get(tag)
        if qname is None:
            qname = self._tags[tag] = f"{{{self.ns}}}{tag}"
        if parent is None:
            node = etree.Element(qname, nsmap={None: self.ns})
        else:
            node = etree.SubElement(parent, qname)
        if text is not None:
            node.text = _clean_text(str(text))
        return node

    def amount(self, parent, tag: str, amount: Amount):
        node = self.el(parent, tag)
        self.el(node, "currency", amount.currency)
        self.el(node, "sum", decimal_text(amount.sum))
        return node

    def vendor(self, parent, vendor: VendorInfo):
        self.el(parent, "vendor_code", vendor.code)
        self.el(parent, "vendor_name", vendor.name)
        self.el(parent, "vendor_FinancialSys_Code", vendor.financial_sys_code)

    def funds(self, parent, funds: Iterable[FundInfo], with_balances: bool):
        lst = self.el(parent, "fund_info_list")
        for f in funds:
            node = self.el(lst, "fund_info")
            self.amount(node, "amount", f.amount)
            if f.local_amount is not None:
                self.amount(node, "local_amount", f.local_amount)
            if f.percent is not None:
                self.el(node, "percent", decimal_text(f.percent))
            if with_balances:
                if f.encumbered is None or f.expended is None:
                    raise FormatError(T("Fund %(code)s: encumbered and expended amounts are required.", code=f.code))
                self.amount(node, "encumbered", f.encumbered)
                self.amount(node, "expended", f.expended)
            self.el(node, "code", f.code)
            self.el(node, "name", f.name)
            self.el(node, "fiscal_period", f.fiscal_period)
            self.el(node, "external_id", f.external_id)
            self.el(node, "ledger_code", f.ledger_code)
            self.el(node, "ledger_name", f.ledger_name)
        return lst


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _clean_text(text: str) -> str:
    """Characters XML 1.0 cannot carry (control characters) become spaces."""
    return _NOT_XML.sub(" ", text)


def _bytes(root) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def po_data_tree(orders: Sequence[Order | DeletedOrder]):
    """The ``po_data`` element of the orders (sent ones in ``po_list``, deleted ones in
    ``deleted_po_list``), in the order given."""
    w = _Writer(PO_NAMESPACE)
    root = w.el(None, "po_data")
    sent = [o for o in orders if isinstance(o, Order)]
    deleted = [o for o in orders if isinstance(o, DeletedOrder)]
    if not sent and not deleted:
        raise FormatError(T("Nothing to export."))
    if sent:
        po_list = w.el(root, "po_list")
        for order in sent:
            total = order.total
            po = w.el(po_list, "po")
            w.el(po, "po_number", order.number)
            w.el(po, "po_status", "SENT")
            w.el(po, "po_owner", order.owner)
            w.el(po, "po_owner_code", order.owner_code)
            w.el(po, "sent_date", us_date(order.sent_date))
            w.vendor(po, order.vendor)
            w.el(po, "currency", total.currency)
            w.amount(po, "po_amount", total)
            lines = w.el(po, "po_line_list")
            for line in order.lines:
                node = w.el(lines, "po_line")
                w.el(node, "po_line_number", line.number)
                w.el(node, "po_line_title", line.title)
                w.el(node, "po_line_status", line.status.upper())
                w.el(node, "order_type", line.order_type.upper())
                w.el(node, "quantity", int(line.quantity))
                w.el(node, "list_price", decimal_text(line.list_price))
                w.el(node, "discount", decimal_text(line.discount))
                w.amount(node, "po_line_price", line.price)
                w.el(node, "reporting_code", line.reporting_code)
                w.el(node, "vendor_reference_number", line.vendor_reference)
                w.funds(node, line.funds, with_balances=False)
    if deleted:
        del_list = w.el(root, "deleted_po_list")
        for order in deleted:
            node = w.el(del_list, "deleted_po")
            w.el(node, "po_number", order.number)
            w.el(node, "po_status", "DELETED")
            w.el(node, "deleted_date", us_date(order.deleted_date))
            w.el(node, "reason", order.reason)
    return root


def build_po_data(orders: Sequence[Order | DeletedOrder]) -> bytes:
    return _bytes(po_data_tree(orders))


def build_po_line_data(lines: Iterable[FinishedLine]) -> bytes:
    """:func:`write_po_line_data` into memory (small files and tests)."""
    out = io.BytesIO()
    write_po_line_data(out, lines)
    return out.getvalue()


class _Stream:
    """Elements written one at a time into an ``etree.xmlfile``, indented as lxml's pretty print
    indents a tree (two spaces a level, a leaf's text on its line), so the bytes are those of
    :func:`_bytes` of the same tree (an empty list is written ``<x></x>`` rather than ``<x/>``)."""

    def __init__(self, xf, namespace: str):
        self.xf = xf
        self.depth = 0
        self._qnames: dict[str, str] = {}
        self.ns = namespace

    def _q(self, tag: str) -> str:
        qname = self._qnames.get(tag)
        if qname is None:
            qname = self._qnames[tag] = f"{{{self.ns}}}{tag}"
        return qname

    def _indent(self) -> None:
        if self.depth:
            self.xf.write("\n" + "  " * self.depth)

    @contextmanager
    def open(self, tag: str, **kw):
        self._indent()
        with self.xf.element(self._q(tag), **kw):
            self.depth += 1
            wrote = [False]
            yield wrote
            self.depth -= 1
            if wrote[0]:
                self.xf.write("\n" + "  " * self.depth)

    def leaf(self, parent_wrote: list, tag: str, text) -> None:
        parent_wrote[0] = True
        self._indent()
        with self.xf.element(self._q(tag)):
            self.xf.write(_clean_text(str(text)))

    def amount(self, parent_wrote: list, tag: str, amount: Amount) -> None:
        parent_wrote[0] = True
        with self.open(tag) as inner:
            self.leaf(inner, "currency", amount.currency)
            self.leaf(inner, "sum", decimal_text(amount.sum))


def _stream_line(s: _Stream, wrote: list, line: FinishedLine) -> None:
    if line.status not in ("closed", "cancelled"):
        raise FormatError(T("%(number)s is neither closed nor cancelled.", number=line.number))
    wrote[0] = True
    with s.open("po_line") as node:
        s.leaf(node, "po_line_number", line.number)
        s.leaf(node, "po_number", line.po_number)
        s.leaf(node, "po_line_title", line.title)
        s.leaf(node, "po_line_status", line.status.upper())
        s.leaf(node, "status_date", us_date(line.status_date))
        s.leaf(node, "reason", line.reason)
        s.leaf(node, "po_line_owner", line.owner)
        s.leaf(node, "po_line_owner_code", line.owner_code)
        s.leaf(node, "vendor_code", line.vendor.code)
        s.leaf(node, "vendor_name", line.vendor.name)
        s.leaf(node, "vendor_FinancialSys_Code", line.vendor.financial_sys_code)
        s.leaf(node, "order_type", line.order_type.upper())
        s.leaf(node, "quantity", int(line.quantity))
        s.amount(node, "po_line_price", line.price)
        node[0] = True
        with s.open("fund_info_list") as lst:
            for f in line.funds:
                if f.encumbered is None or f.expended is None:
                    raise FormatError(T("Fund %(code)s: encumbered and expended amounts are required.", code=f.code))
                lst[0] = True
                with s.open("fund_info") as fi:
                    s.amount(fi, "amount", f.amount)
                    if f.local_amount is not None:
                        s.amount(fi, "local_amount", f.local_amount)
                    if f.percent is not None:
                        s.leaf(fi, "percent", decimal_text(f.percent))
                    s.amount(fi, "encumbered", f.encumbered)
                    s.amount(fi, "expended", f.expended)
                    for tag, value in (("code", f.code), ("name", f.name), ("fiscal_period", f.fiscal_period),
                                       ("external_id", f.external_id), ("ledger_code", f.ledger_code),
                                       ("ledger_name", f.ledger_name)):
                        s.leaf(fi, tag, value)


def write_po_line_data(out: BinaryIO, lines: Iterable[FinishedLine]) -> int:
    """Write the ``po_line_data`` file of ``lines`` (any iterable: a generator reading the rows in
    chunks keeps memory flat) to the binary file ``out``, one line at a time; the number of lines.
    An empty ``lines`` raises :class:`FormatError` before anything is written."""
    it = iter(lines)
    first = next(it, None)
    if first is None:
        raise FormatError(T("Nothing to export."))
    out.write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    count = 0
    with etree.xmlfile(out, encoding="UTF-8", buffered=True) as xf:
        s = _Stream(xf, POL_NAMESPACE)
        with s.open("po_line_data", nsmap={None: POL_NAMESPACE}) as root:
            root[0] = True
            with s.open("po_line_list") as lst:
                for line in itertools.chain((first,), it):
                    _stream_line(s, lst, line)
                    count += 1
                    if count % 500 == 0:
                        xf.flush()
    out.write(b"\n")
    return count
