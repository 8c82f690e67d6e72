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
from ..text import T, Text

# The headers and words are read by a person: in the reader's language (the page's download), the
# institution's when the CLI writes the file.
FUND_COLUMNS = (T("Ledger"), T("Fund"), T("Type"), T("Currency"), T("Source allocation"), T("Expended"),
                T("Encumbered"), T("Left"), T("Carried over"), T("Not carried"), T("New allocation"), T("Result"),
                T("Rule"))
LINE_COLUMNS = (T("PO line"), T("Order type"), T("Old fund"), T("New fund"), T("Currency"), T("Remaining"),
                T("Released"), T("Re-encumbered"), T("Result"), T("Detail"))
TOTAL_COLUMNS = (T("Currency"), T("Source allocation"), T("Expended"), T("Encumbered"), T("Left"), T("Carried over"),
                 T("Not carried"), T("New allocation"), T("Released"), T("Re-encumbered"), T("Not moved"),
                 T("Reconciles"))
SHEETS = (T("Funds"), T("PO lines"), T("Totals"))
KINDS = {"allocated": T("allocated"), "summary": T("summary")}
ORDER_TYPES = {"one_time": T("one-time"), "continuous": T("continuous")}
TOTAL_FIGURES = ("allocated", "expended", "encumbered", "left", "carried", "not_carried", "new_allocation",
                 "released", "reencumbered", "not_moved")
CENTS = Decimal("0.01")


def fund_rows(report) -> list[list]:
    return [[f.ledger, f.code, KINDS.get(f.kind, f.kind), f.currency, f.allocated, f.expended, f.encumbered, f.left,
             f.carried, f.not_carried, f.new_allocation, f.reason or (T("created") if f.created else T("existing fund")),
             f.rule]
            for f in report.funds]


def line_rows(report) -> list[list]:
    return [[ln.po_line, ORDER_TYPES.get(ln.order_type, ln.order_type.replace("_", "-")), ln.old_fund, ln.new_fund or "",
             ln.currency, ln.remaining, ln.released, ln.encumbered,
             T("moved") if ln.moved else plan.REASONS.get(ln.reason, ln.reason),
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
    return [[currency, *(t[name] for name in TOTAL_FIGURES), T("yes") if reconciles(t) else T("NO")]
            for currency, t in totals_by_currency(report).items()]


def _title(report) -> str:
    status = {"preview": T("preview"), "committed": T("committed"), "undone": T("undone")}.get(report.status,
                                                                                            report.status)
    return T("Rollover %(source)s to %(target)s (%(status)s)", source=report.source, target=report.target,
             status=status)


def _shown(value):
    """A word or sentence of the report as written in the file: in the reader's language."""
    return str(value) if isinstance(value, Text) else value


# -- CSV ----------------------------------------------------------------------------------------

def _csv_value(value):
    if isinstance(value, Decimal):
        return f"{value.quantize(CENTS):f}"
    return safe_cell(_shown(value))


def write_csv(report, out) -> None:
    """Write ``report`` to the text stream ``out``."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([safe_cell(str(_title(report)))])
    for name, columns, rows in zip(SHEETS, (FUND_COLUMNS, LINE_COLUMNS, TOTAL_COLUMNS),
                                   (fund_rows(report), line_rows(report), total_rows(report))):
        writer.writerow([])
        writer.writerow([str(name)])
        writer.writerow([str(c) for c in columns])
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
            c = WriteOnlyCell(ws, value=safe_cell(_shown(value)))
        if font is not None:
            c.font = font
        return c

    for name, columns, rows in zip(SHEETS, (FUND_COLUMNS, LINE_COLUMNS, TOTAL_COLUMNS),
                                   (fund_rows(report), line_rows(report), total_rows(report))):
        ws = wb.create_sheet(str(name))
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
