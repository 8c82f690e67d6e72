"""``flask --app wsgi rollover ledgers | po-lines`` and the report files (CSV, XLSX) they write:
the issue's exact figures through the command line, preview = commit, exit 1 for lines not moved."""
from __future__ import annotations

import csv
import io
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from app.extensions import db
from app.funds import rollover as ro
from app.funds import rollover_report as rr
from app.funds import services as fs
from app.funds.models import Rollover
from app.orders import services as os_
from tests.funds.test_rollover import books, fund, state  # noqa: F401  (books: a fixture)
from tests.orders.helpers import line


def run(app, *args):
    db.session.commit()
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


LEDGERS = ("rollover", "ledgers", "--from", "FY2026", "--to", "FY2027", "--allocation", "+3", "--carry", "available")
LINES = ("rollover", "po-lines", "--from", "FY2026", "--to", "FY2027", "--increase", "5")


def read_csv(path) -> dict[str, list[dict]]:
    """The CSV report's sections, each a list of rows keyed by its header."""
    sections, name, header = {}, None, None
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0][0].startswith("Rollover FY2026 to FY2027")
    for row in rows[1:]:
        if not row:
            name = header = None
        elif name is None:
            name = row[0]
            sections[name] = []
        elif header is None:
            header = row
        else:
            sections[name].append(dict(zip(header, row)))
    return sections


def read_xlsx(path) -> dict[str, list[dict]]:
    from openpyxl import load_workbook
    wb = load_workbook(path, read_only=True)
    sections = {}
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        header = rows[1]
        sections[ws.title] = [dict(zip(header, r)) for r in rows[2:]]
    return sections


def test_ledgers_then_lines_issue_figures_and_csv(app, world, books, tmp_path):
    out = run(app, *LEDGERS, "--report", str(tmp_path / "ledgers.csv"))
    assert out.exit_code == 0, out.output
    assert "Ledgers of FY2026 rolled over to FY2027: 5 fund(s) (5 created), 0 skipped." in out.output
    assert "EUR: new allocations 13,390.00, carried over 5,549.50" in out.output
    new = fund("BOOKS", "FY2027")
    assert (new.allocated, new.encumbered) == (D("12849.50"), D("0.00"))
    assert fund("BOOKS", "FY2026").encumbered == D("1200.00"), "the lines wait for their own run"

    out = run(app, *LINES, "--report", str(tmp_path / "lines.csv"))
    assert out.exit_code == 0, out.output
    assert "PO lines of FY2026 moved to FY2027: 2 moved, 0 not moved." in out.output
    new = fund("BOOKS", "FY2027")
    assert (new.allocated, new.encumbered, new.balance.available) == (D("12849.50"), D("1225.00"), D("11624.50"))
    assert fund("BOOKS", "FY2026").encumbered == D("0.00")
    assert fs.check_ledger() == [] and run(app, "ledger", "check").exit_code == 0

    report = read_csv(tmp_path / "ledgers.csv")
    books_row = next(r for r in report["Funds"] if r["Fund"] == "BOOKS")
    assert books_row == {"Ledger": "GEN", "Fund": "BOOKS", "Type": "allocated", "Currency": "EUR",
                         "Source allocation": "10000.00", "Expended": "6250.50", "Encumbered": "1200.00",
                         "Left": "3749.50", "Carried over": "2549.50", "Not carried": "1200.00",
                         "New allocation": "10300.00", "Result": "created",
                         "Rule": "allocation +3 %, carry available"}
    [total] = report["Totals"]
    assert total["Reconciles"] == "yes"
    assert D(total["Left"]) == D(total["Carried over"]) + D(total["Not carried"])
    assert report["PO lines"] == []
    lines = read_csv(tmp_path / "lines.csv")["PO lines"]
    assert sorted((r["Order type"], r["Old fund"], r["New fund"], r["Remaining"], r["Re-encumbered"], r["Result"])
                  for r in lines) == [("continuous", "BOOKS", "BOOKS", "500.00", "525.00", "moved"),
                                      ("one-time", "BOOKS", "BOOKS", "700.00", "700.00", "moved")]

    # a second run of either changes nothing and says so
    before = state()
    again = app.test_cli_runner().invoke(args=list(LEDGERS))
    assert again.exit_code == 1 and "already rolled over" in again.output
    again = app.test_cli_runner().invoke(args=list(LINES))
    assert again.exit_code == 1 and "already rolled over" in again.output
    assert state() == before
    assert len(db.session.scalars(select(Rollover)).all()) == 2


def test_preview_changes_nothing_and_equals_commit(app, world, books, tmp_path):
    before = state()
    out = run(app, *LEDGERS, "--preview", "--report", str(tmp_path / "preview.xlsx"))
    assert out.exit_code == 0 and "would roll over" in out.output and "nothing was changed" in out.output
    assert state() == before
    assert run(app, *LEDGERS, "--report", str(tmp_path / "commit.xlsx")).exit_code == 0
    preview, commit = read_xlsx(tmp_path / "preview.xlsx"), read_xlsx(tmp_path / "commit.xlsx")
    assert preview == commit
    books_row = next(r for r in commit["Funds"] if r["Fund"] == "BOOKS")
    assert (books_row["New allocation"], books_row["Carried over"], books_row["Currency"]) == (10300, 2549.5, "EUR")
    [total] = commit["Totals"]
    assert total["Reconciles"] == "yes" and total["Left"] == total["Carried over"] + total["Not carried"]

    before = state()
    out = run(app, *LINES, "--preview")
    assert out.exit_code == 0 and "would move to FY2027: 2 moved" in out.output
    assert state() == before


def test_cash_and_rules_as_options(app, world, books):
    world.fund_b.do_not_roll_over = True
    out = run(app, "rollover", "ledgers", "--from", "FY2026", "--to", "FY2027", "--allocation", "+3%",
              "--carry", "cash", "--fund", "SHARED", "none", "none", "--ledger", "LEDA", "-10", "none")
    assert out.exit_code == 0, out.output
    assert "skipped B-BKS: the fund is marked do not roll over" in out.output
    assert run(app, *LINES).exit_code == 0
    new = fund("BOOKS", "FY2027")
    assert (new.allocated, new.encumbered, new.balance.available) == (D("14049.50"), D("1225.00"), D("12824.50"))
    assert fund("SHARED", "FY2027").allocated == D("0.00")
    assert fund("A-BKS", "FY2027").allocated == D("900.00")
    assert fs.check_ledger() == []


def test_bad_options(app, world, books):
    runner = app.test_cli_runner()
    bad = runner.invoke(args=[*LEDGERS[:6], "--allocation", "lots"])
    assert bad.exit_code == 2 and "none, same or a percent" in bad.output
    bad = runner.invoke(args=[*LINES[:6], "--one-time", "half"])
    assert bad.exit_code == 2
    bad = runner.invoke(args=["rollover", "ledgers", "--from", "FY2027", "--to", "FY2026"])
    assert bad.exit_code == 1 and "must start after" in bad.output


def test_lines_not_moved_exit_1_and_are_reported(app, world, books, orders, tmp_path):
    buyer = world.user("buyer")
    world.fund_a.do_not_roll_over = True
    pol = line(world, buyer, orders.eur, price="=40.00".lstrip("="), library="a")   # paid by A-BKS
    os_.approve_po_line(buyer, pol)
    assert run(app, *LEDGERS).exit_code == 0
    out = run(app, *LINES, "--report", str(tmp_path / "lines.xlsx"))
    assert out.exit_code == 1
    assert "2 moved, 1 not moved" in out.output and f"not moved {pol.number} (A-BKS)" in out.output
    rows = read_xlsx(tmp_path / "lines.xlsx")["PO lines"]
    [row] = [r for r in rows if r["PO line"] == pol.number]
    assert (row["New fund"], row["Remaining"], row["Released"], row["Result"]) == \
        (None, 40, 0, "no fund with the same code in the target period")
    db.session.expire_all()
    assert os_.outstanding_encumbrance(pol) == {world.fund_a.id: D("40.00")}
    assert fs.check_ledger() == []


def test_report_cells_are_inert(world, tmp_path):
    """A code or note a spreadsheet would read as a formula is written as text."""
    report = ro.Report("FY2026", "FY2027", "preview", None,
                       [ro.FundRow("=HYPERLINK(1)", "GEN", "allocated", D("1"), D("0"), D("0"), D("1"), D("1"),
                                   D("0"), D("1"), None, True, "EUR")],
                       [ro.LineRow("POL-1", "one_time", "=A1", None, D("1"), D("0"), D("0"), "no_counterpart",
                                   "+cmd", "EUR")])
    rr.write(report, tmp_path / "r.csv")
    rr.write(report, tmp_path / "r.xlsx")
    for read in (read_csv(tmp_path / "r.csv"), read_xlsx(tmp_path / "r.xlsx")):
        assert read["Funds"][0]["Fund"] == "'=HYPERLINK(1)"
        assert (read["PO lines"][0]["Old fund"], read["PO lines"][0]["Detail"]) == ("'=A1", "'+cmd")


def test_undo_lines_then_ledgers(app, world, books):
    before = state()
    assert run(app, *LEDGERS).exit_code == 0
    out = run(app, *LINES)
    [ledgers_id, lines_id] = db.session.scalars(select(Rollover.id).order_by(Rollover.id)).all()
    assert f"Rollover {lines_id} committed (undo: flask --app wsgi rollover undo {lines_id})" in out.output
    refused = app.test_cli_runner().invoke(args=["rollover", "undo", str(ledgers_id)])
    assert refused.exit_code == 1 and "cannot be undone" in refused.output
    assert run(app, "rollover", "undo", str(lines_id)).exit_code == 0
    assert run(app, "rollover", "undo", str(ledgers_id)).exit_code == 0
    assert fund("BOOKS", "FY2026").encumbered == D("1200.00") and fund("BOOKS", "FY2027").allocated == 0
    assert state()[2] == before[2] and fs.check_ledger() == []
    assert app.test_cli_runner().invoke(args=["rollover", "undo", "999"]).exit_code == 1
