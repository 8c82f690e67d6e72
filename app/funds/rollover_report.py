"""A rollover :class:`~app.funds.rollover.Report` as files: CSV (three sections, each with its own
header row, separated by an empty row) and XLSX (one sheet per section).

- *Funds*: per source fund its allocation, expended, encumbered, what it had left (allocated −
  expended), what was carried over and not, and the target's new allocation, or why it was skipped;
  then the rule it got ("allocation +3 %, carry available", "same allocation (ledger LEDA)", "no
  allocation (override)");
- *PO lines*: per fund of an open line's distribution the old and new fund, the outstanding
  encumbrance, what was released and re-encumbered, and "moved" or the reason it was left as it was;
- *Totals*, per currency, with a column saying whether they reconcile (left = allocated −
  expended = carried over + not carried); what was released, re-encumbered and not moved.

Amounts are numbers with two decimals (text "1234.50" in the CSV, numeric cells formatted
``#,##0.00`` in the workbook), the currency in its own column; every text cell goes through
:func:`app.spreadsheets.safe_cell`, so a code or note starting with ``=`` never runs as a formula.
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from ..ledger import rollover as plan
from ..spreadsheets import safe_cell

FUND_COLUMNS = ("Ledger", "Fund", "Type", "Currency", "Source allocation", "Expended", "Encumbered", "Left",
                "Carried over", "Not carried", "New allocation", "Result", "Rule")
LINE_COLUMNS = ("PO line", "Order type", "Old fund", "New fund", "Currency", "Remaining", "Released",
                "Re-encumbered", "Result", "Detail")
TOTAL_COLUMNS = ("Currency", "Source allocation", "Expended", "Encumbered", "Left", "Carried over", "Not carried",
                 "New allocation", "Released", "Re-encumbered", "Not moved", "Reconciles")
TOTAL_FIGURES = ("allocated", "expended", "encumbered", "left", "carried", "not_carried", "new_allocation",
                 "released", "reencumbered", "not_moved")
CENTS = Decimal("0.01")


def fund_rows(report) -> list[list]:
    return [[f.ledger, f.code, f.kind, f.currency, f.allocated, f.expended, f.encumbered, f.left, f.carried,
             f.not_carried, f.new_allocation, f.reason or ("created" if f.created else "existing fund"), f.rule]
            for f in report.funds]


def line_rows(report) -> list[list]:
    return [[ln.po_line, ln.order_type.replace("_", "-"), ln.old_fund, ln.new_fund or "", ln.currency, ln.remaining,
             ln.released, ln.encumbered, "moved" if ln.moved else plan.REASONS.get(ln.reason, ln.reason),
             ln.detail] for ln in report.lines]


def totals_by_currency(report) -> dict[str, dict[str, Decimal]]:
    """Per currency, the sums of the figures, and whether they reconcile."""
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: {name: Decimal("0.00") for name in TOTAL_FIGURES})
    for f in report.funds:
        t = totals[f.currency]
        for name in TOTAL_FIGURES[:7]:
            t[name] += getattr(f, name)
    for ln in report.lines:
        t = totals[ln.currency]
        t["released"] += ln.released
        t["reencumbered"] += ln.encumbered
        if not ln.moved:
            t["not_moved"] += ln.remaining
    return dict(sorted(totals.items()))


def reconciles(t: dict[str, Decimal]) -> bool:
    return t["left"] == t["carried"] + t["not_carried"] and t["left"] == t["allocated"] - t["expended"]


def total_rows(report) -> list[list]:
    return [[currency, *(t[name] for name in TOTAL_FIGURES), "yes" if reconciles(t) else "NO"]
            for currency, t in totals_by_currency(report).items()]


def _title(report) -> str:
    return f"Rollover {report.source} to {report.target} ({report.status})"


# -- CSV ----------------------------------------------------------------------------------------

def _csv_value(value):
    if isinstance(value, Decimal):
        return f"{value.quantize(CENTS):f}"
    return safe_cell(value)


def write_csv(report, out) -> None:
    """Write ``report`` to the text stream ``out``."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([safe_cell(_title(report))])
    for name, columns, rows in (("Funds", FUND_COLUMNS, fund_rows(report)),
                                ("PO lines", LINE_COLUMNS, line_rows(report)),
                                ("Totals", TOTAL_COLUMNS, total_rows(report))):
        writer.writerow([])
        writer.writerow([name])
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_value(v) for v in row])


def csv_text(report) -> str:
    out = io.StringIO()
    write_csv(report, out)
    return out.getvalue()


# -- XLSX ---------------------------------------------------------------------------------------

def xlsx_bytes(report) -> bytes:
    """The report as a workbook: sheets Funds, PO lines and Totals (write-only: 50,000 lines fit)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    bold = Font(bold=True)

    def cell(ws, value, font=None):
        if isinstance(value, Decimal):
            c = WriteOnlyCell(ws, value=value.quantize(CENTS))
            c.number_format = "#,##0.00"
        else:
            c = WriteOnlyCell(ws, value=safe_cell(value))
        if font is not None:
            c.font = font
        return c

    for name, columns, rows in (("Funds", FUND_COLUMNS, fund_rows(report)),
                                ("PO lines", LINE_COLUMNS, line_rows(report)),
                                ("Totals", TOTAL_COLUMNS, total_rows(report))):
        ws = wb.create_sheet(name)
        ws.freeze_panes = "A3"
        ws.append([cell(ws, _title(report), bold)])
        ws.append([cell(ws, c, bold) for c in columns])
        for row in rows:
            ws.append([cell(ws, v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(report, rollover_id: int, file_type: str) -> tuple[bytes, str, str]:
    """The report as a file to download: (body, media type, file name); ``file_type`` csv or xlsx."""
    name = f"rollover-{rollover_id}-{report.source}-{report.target}.{file_type}"
    if file_type == "csv":
        return csv_text(report).encode("utf-8"), "text/csv; charset=utf-8", name
    return xlsx_bytes(report), XLSX_TYPE, name


def write(report, path: str | Path) -> Path:
    """Write ``report`` to ``path``: an .xlsx workbook when its name ends so, else CSV."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        path.write_bytes(xlsx_bytes(report))
    else:
        with path.open("w", newline="", encoding="utf-8") as out:
            write_csv(report, out)
    return path
