"""The PO line file written element by element (``write_po_line_data``) is the file the whole-tree
builder wrote: the same bytes (an empty fund list aside, written ``<x></x>``), the same canonical
XML, valid against ``po_line_data.xsd``; and it is written while the lines are still being read."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from app.integrations.formats import orders as fmt
from app.integrations.formats import xml

A = fmt.Amount


def _fund(code="F-1", **kw):
    base = dict(amount=A("EUR", Decimal("12.50")), code=code, name="Books & <more>", fiscal_period="FY2026",
                external_id="EXT-1", ledger_code="L", ledger_name="Main ledger", local_amount=A("USD", Decimal("13.60")),
                percent=Decimal("50"), encumbered=A("USD", Decimal("13.60")), expended=A("USD", Decimal("0.00")))
    base.update(kw)
    return fmt.FundInfo(**base)


def _line(n: int, funds=None, **kw):
    base = dict(number=f"POL-{n}", po_number=f"PO-{n // 5}", title=f'Title {n}: "quoted" ]]> é 𝄞 \r\nnext\x01',
                status="closed" if n % 3 else "cancelled", status_date=date(2026, 1 + n % 12, 1 + n % 28),
                reason="received" if n % 3 else "vendor cannot supply", owner="Library 1", owner_code="LIB01",
                vendor=fmt.VendorInfo("V001", "Vendor & Co", "SAP-1" if n % 2 else ""),
                order_type="one_time" if n % 2 else "continuous", quantity=1 + n % 4, price=A("EUR", Decimal("25.00")),
                funds=(_fund(), _fund("F-2", local_amount=None, percent=None)) if funds is None else funds)
    base.update(kw)
    return fmt.FinishedLine(**base)


def _tree(lines):
    """The whole ``po_line_data`` tree at once, as the export built it before it streamed: the
    reference the streamed file is compared with."""
    w = fmt._Writer(fmt.POL_NAMESPACE)
    root = w.el(None, "po_line_data")
    if not lines:
        raise fmt.FormatError("Nothing to export.")
    lst = w.el(root, "po_line_list")
    for line in lines:
        if line.status not in ("closed", "cancelled"):
            raise fmt.FormatError(f"{line.number} is neither closed nor cancelled.")
        node = w.el(lst, "po_line")
        w.el(node, "po_line_number", line.number)
        w.el(node, "po_number", line.po_number)
        w.el(node, "po_line_title", line.title)
        w.el(node, "po_line_status", line.status.upper())
        w.el(node, "status_date", fmt.us_date(line.status_date))
        w.el(node, "reason", line.reason)
        w.el(node, "po_line_owner", line.owner)
        w.el(node, "po_line_owner_code", line.owner_code)
        w.vendor(node, line.vendor)
        w.el(node, "order_type", line.order_type.upper())
        w.el(node, "quantity", int(line.quantity))
        w.amount(node, "po_line_price", line.price)
        w.funds(node, line.funds, with_balances=True)
    return root


def _old(lines) -> bytes:
    return fmt._bytes(_tree(lines))


def _c14n(data: bytes) -> bytes:
    return etree.tostring(xml.parse(data), method="c14n2")


def test_streamed_file_is_byte_for_byte_the_tree_builders():
    lines = [_line(n) for n in range(1, 40)]
    new = fmt.build_po_line_data(iter(lines))
    assert new == _old(lines)
    assert xml.schema_errors(xml.parse(new), fmt.POL_XSD) == []
    doc = xml.parse(new)
    ns = {"p": fmt.POL_NAMESPACE}
    assert doc.findtext("p:po_line_list/p:po_line[3]/p:po_line_status", namespaces=ns) == "CANCELLED"
    assert doc.findtext("p:po_line_list/p:po_line[1]/p:po_line_title", namespaces=ns) == \
        'Title 1: "quoted" ]]> é 𝄞 \r\nnext '   # a control character becomes a space, \r survives
    assert len(doc.findall("p:po_line_list/p:po_line", ns)) == 39


def test_a_line_without_funds_differs_only_in_the_empty_list_form():
    lines = [_line(1), _line(2, funds=()), _line(3, po_number="", reason="")]
    new, old = fmt.build_po_line_data(lines), _old(lines)
    assert new.replace(b"<fund_info_list></fund_info_list>", b"<fund_info_list/>") == old
    assert _c14n(new) == _c14n(old)
    assert xml.schema_errors(xml.parse(new), fmt.POL_XSD) == []


def test_refusals_are_those_of_the_tree_builder():
    with pytest.raises(fmt.FormatError, match="Nothing to export"):
        fmt.build_po_line_data(iter(()))
    with pytest.raises(fmt.FormatError, match="neither closed nor cancelled"):
        fmt.build_po_line_data([_line(1, status="sent")])
    with pytest.raises(fmt.FormatError, match="encumbered and expended"):
        fmt.build_po_line_data([_line(1, funds=(_fund(expended=None),))])


def test_lines_are_written_while_they_are_still_being_read():
    """No tree of the batch: by the time the 1,500th line is asked for, the first thousand are
    already in the output."""
    out = io.BytesIO()
    seen = []

    def lines():
        for n in range(1, 2001):
            if n == 1500:
                seen.append(out.getvalue())
            yield _line(n)
    assert fmt.write_po_line_data(out, lines()) == 2000
    written = seen[0]
    assert written.count(b"<po_line>") >= 1000
    assert out.getvalue().startswith(written) and out.getvalue().count(b"<po_line>") == 2000
    assert xml.schema_errors(xml.parse(out.getvalue()), fmt.POL_XSD) == []
