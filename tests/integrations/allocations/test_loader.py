"""FIL-08: the funds allocation loader, over a local folder and the real sshd, in CSV, .xls and
.xlsx. A good file changes the funds' allocations by exactly its amounts; any bad row rejects the
whole file with a row-by-row report and posts nothing; the same bytes are never loaded twice."""
from __future__ import annotations

from decimal import Decimal

import pytest

from app.extensions import db
from app.funds import services as funds
from app.funds.models import FundTransaction
from app.integrations.models import AllocationRow, HandledFile
from tests.integrations.allocations.helpers import PERIOD_NUMBER, allocated, errors_of
from testkit.allocation_files import allocation_file

FORMATS = ("csv", "xls", "xlsx")
P = PERIOD_NUMBER
FUNDS = ("SHARED", "A-BKS", "B-BKS")


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def _amount(file_type: str, text: str):
    """Amounts as a workbook holds them (numbers) or as CSV text."""
    return text if file_type == "csv" else float(text)


def _valid_rows(ft):
    return [["EXT-1", P, _amount(ft, "250.25"), "PS-1", "Grant | spring"],   # SHARED by external ID
            ["A-BKS", P, _amount(ft, "13.36"), "PS-2", ""],                  # a code in the external ID column
            ["EXT-1", P, _amount(ft, "-100.10"), "", "Sign flipped"],          # negative: takes money out
            ["A-BKS", P, _amount(ft, "0.04"), None, None]]                   # several rows for one fund


@pytest.mark.parametrize("file_type", FORMATS)
@pytest.mark.parametrize("where", ["local", "sftp"])
def test_valid_file_changes_allocations_by_its_amounts(file_type, where, local_loader, sftp_loader, world):
    loader = (local_loader if where == "local" else sftp_loader)(file_type)
    before = allocated(*FUNDS)
    loader.drop(f"alloc.{file_type}", allocation_file(file_type, _valid_rows(file_type)))
    run = loader.run()
    assert run.status == "completed" and errors_of(run) == [], errors_of(run)
    assert (run.files, run.records, run.records_failed) == (1, 4, 0)
    after = allocated(*FUNDS)
    assert after["SHARED"] - before["SHARED"] == Decimal("150.15")
    assert after["A-BKS"] - before["A-BKS"] == Decimal("13.40")
    assert after["B-BKS"] == before["B-BKS"]
    assert sum(after.values()) - sum(before.values()) == Decimal("163.55")
    assert loader.names() == [f"alloc.{file_type}.handled"]
    rows = db.session.scalars(db.select(AllocationRow).order_by(AllocationRow.row_number)).all()
    assert [r.row_number for r in rows] == [2, 3, 4, 5]
    txs = {r.row_number: db.session.get(FundTransaction, r.fund_transaction_id) for r in rows}
    assert (txs[2].kind, txs[2].amount, txs[2].reference, txs[2].note) == ("allocation", Decimal("250.25"), "PS-1",
                                                                          "Grant | spring")
    assert (txs[4].amount, txs[4].reference, txs[4].note) == (Decimal("-100.10"), "", "Sign flipped")
    assert txs[3].fund_id == world.fund_a.id and txs[2].actor_id == loader.admin_id
    handled = db.session.scalar(db.select(HandledFile))
    assert (handled.status, handled.file_name, handled.job) == ("done", f"alloc.{file_type}", "load_allocations")
    assert funds.check_ledger() == []


@pytest.mark.parametrize("file_type", ["csv", "xlsx"])
def test_header_only_file_is_handled_with_nothing_to_do(file_type, local_loader):
    loader = local_loader(file_type)
    before = allocated(*FUNDS)
    loader.drop(f"empty.{file_type}", allocation_file(file_type, []))
    run = loader.run()
    assert run.status == "completed" and (run.files, run.records, run.records_failed) == (1, 0, 0)
    assert allocated(*FUNDS) == before and loader.names() == [f"empty.{file_type}.handled"]


def _commit_encumbrance(world, amount="900.00"):
    funds.post(world.user("admin"), world.shared, "encumbrance", Decimal(amount))
    db.session.commit()


BAD_ROWS = {
    "unknown fund": (["NO-SUCH", P, "5.00", "", ""], "No fund with external ID or code NO-SUCH"),
    "non-numeric amount": (["EXT-1", P, "five", "", ""], "not a plain amount"),
    "over-precise amount": (["EXT-1", P, "1.234", "", ""], "more than two decimals"),
    "unknown fiscal period": (["EXT-1", 99, "5.00", "", ""], "FISCAL_PERIOD_ID 99 stands for none"),
    "below committed": (["EXT-1", P, "-200.00", "", ""], "SHARED"),
    "summary fund": (["BOOKS", P, "5.00", "", ""], "summary fund"),
}


@pytest.mark.parametrize("file_type", ["csv", "xlsx"])
@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_one_bad_row_rejects_the_whole_file(case, file_type, local_loader, world):
    loader = local_loader(file_type)
    _commit_encumbrance(world)            # SHARED: 1000 allocated, 900 committed
    before, txs = allocated(*FUNDS), _count(FundTransaction)
    bad, expected = BAD_ROWS[case]
    rows = [["A-BKS", P, "10.00", "ok", ""], bad, ["B-BKS", P, "-5.00", "ok too", ""]]
    if file_type != "csv":
        rows = [[float(c) if i == 2 and c != "five" else c for i, c in enumerate(r)] for r in rows]
    data = allocation_file(file_type, rows)
    loader.drop(f"bad.{file_type}", data)
    run = loader.run()
    assert run.status == "failed" and run.status_label == "Failed"   # nothing was loaded
    assert (run.files, run.records, run.records_failed) == (1, 3, 1)
    report = errors_of(run)
    assert report[0][0] == "row 3" and expected in report[0][1], report
    assert report[-1][0] == "" and "rejected" in report[-1][1] and len(report) == 2
    assert allocated(*FUNDS) == before and _count(FundTransaction) == txs and _count(AllocationRow) == 0
    assert loader.names() == [f"bad.{file_type}.rejected"]
    assert loader.folder.joinpath(f"bad.{file_type}.rejected").read_bytes() == data
    assert db.session.scalar(db.select(HandledFile.status)) == "rejected"


def test_a_run_that_loaded_one_file_of_two_is_completed_with_exceptions(local_loader, world):
    """Only a run that applied nothing is Failed: a good file beside a rejected one is not."""
    loader = local_loader("csv")
    loader.drop("a-good.csv", allocation_file("csv", [["A-BKS", P, "5.00", "", ""]]))
    loader.drop("b-bad.csv", allocation_file("csv", [["NO-SUCH", P, "5.00", "", ""], ["A-BKS", P, "1.00", "", ""]]))
    run = loader.run()
    assert run.status == "completed" and run.status_label == "Completed with exceptions"
    assert (run.files, run.records, run.records_failed) == (2, 3, 1)


def test_every_bad_row_is_reported(local_loader, world):
    loader = local_loader("csv")
    rows = [["NO-SUCH", P, "5.00", "", ""], ["A-BKS", P, "5.00", "", ""], ["EXT-1", P, "x", "", ""],
            ["EXT-1", 99, "5.00", "", ""]]
    loader.drop("bad.csv", allocation_file("csv", rows))
    run = loader.run()
    assert [r for r, _ in errors_of(run)] == ["row 2", "row 4", "row 5", ""]
    assert (run.records, run.records_failed) == (4, 3)


def test_every_problem_of_a_row_is_reported(local_loader, world):
    """A row's fund, period and amount are each checked, whatever else is wrong with it."""
    loader = local_loader("csv")
    rows = [["NO-SUCH", P, "x", "", ""],          # no fund and not an amount
            ["BOOKS", P, "1.234", "", ""],        # a summary fund and three decimals
            ["A-BKS", 99, "y", "", ""]]           # no such period and not an amount
    loader.drop("bad.csv", allocation_file("csv", rows))
    report = errors_of(loader.run())
    by_row = {}
    for row, message in report:
        by_row.setdefault(row, []).append(message)
    assert any("NO-SUCH" in m for m in by_row["row 2"]) and any("AMOUNT" in m for m in by_row["row 2"]), report
    assert any("summary fund" in m for m in by_row["row 3"]) and any("decimals" in m for m in by_row["row 3"]), report
    assert any("99" in m for m in by_row["row 4"]) and any("AMOUNT" in m for m in by_row["row 4"]), report


def test_rows_of_one_fund_are_judged_together(local_loader, world):
    """900 of SHARED's 1000 are committed: -150 then +100 leaves 50 available (accepted, whatever
    the order in the file), -150 and +40 would leave -10 (refused)."""
    loader = local_loader("csv")
    _commit_encumbrance(world)
    loader.drop("a.csv", allocation_file("csv", [["EXT-1", P, "-150.00", "", ""], ["SHARED", P, "40.00", "", ""]]))
    run = loader.run()
    assert [r for r, _ in errors_of(run)] == ["row 2", ""]
    assert allocated("SHARED") == {"SHARED": Decimal("1000.00")}
    loader.drop("b.csv", allocation_file("csv", [["EXT-1", P, "-150.00", "", ""], ["SHARED", P, "100.00", "", ""]]))
    run = loader.run()
    assert errors_of(run) == [] and run.records == 2
    assert allocated("SHARED") == {"SHARED": Decimal("950.00")}
    assert funds.check_ledger() == []


def test_library_scope_of_the_actor_is_respected(local_loader, world):
    """A library-A fund manager running the job may not touch library B's fund."""
    loader = local_loader("csv")
    before = allocated(*FUNDS)
    loader.drop("a.csv", allocation_file("csv", [["A-BKS", P, "1.00", "", ""], ["B-BKS", P, "1.00", "", ""]]))
    run = loader.run(actor="fundmgr-a", world=world)
    report = errors_of(run)
    assert report[0][0] == "row 3" and ("B-BKS" in report[0][1] or "No fund" in report[0][1])
    assert allocated(*FUNDS) == before


@pytest.mark.parametrize("file_type", FORMATS)
def test_same_file_twice_loads_once(file_type, local_loader):
    loader = local_loader(file_type)
    data = allocation_file(file_type, [["EXT-1", P, _amount(file_type, "10.00"), "R", ""]])
    loader.drop(f"first.{file_type}", data)
    assert loader.run().records == 1
    once = allocated("SHARED")
    loader.drop(f"again.{file_type}", data)                    # same bytes, another name
    loader.drop(f"first.{file_type}", data)                    # same bytes, same name
    run = loader.run()
    assert run.status == "completed" and errors_of(run) == [] and (run.files, run.records) == (2, 0)
    assert all("nothing loaded" in e.message for e in run.events if e.file_name)
    assert allocated("SHARED") == once and _count(AllocationRow) == 1
    assert loader.names() == sorted([f"again.{file_type}.handled", f"first.{file_type}.handled",
                                     next(n for n in loader.names() if n.startswith(f"first.{file_type}.2"))])


def test_rejected_file_loads_once_corrected_elsewhere(local_loader, world):
    """A file refused for a missing fiscal period mapping loads when sent again after the mapping is given."""
    from app.integrations import services as integrations
    from app.funds.models import FiscalPeriod
    loader = local_loader("csv")
    data = allocation_file("csv", [["EXT-1", 24, "10.00", "", ""]])
    loader.drop("a.csv", data)
    assert loader.run().records_failed == 1
    admin = world.user("admin")
    integrations.set_fiscal_period_mapping(admin, db.session.get(FiscalPeriod, world.period.id), 24)
    loader.drop("a-again.csv", data)
    run = loader.run()
    assert errors_of(run) == [] and run.records == 1
    assert allocated("SHARED") == {"SHARED": Decimal("1010.00")}
    assert db.session.scalar(db.select(HandledFile.status)) == "done"


def test_only_candidate_files_of_the_section_type_are_taken(local_loader):
    loader = local_loader("csv")
    data = allocation_file("csv", [["EXT-1", P, "1.00", "", ""]])
    for name in ("a.csv.part", "b.csv.tmp", "c.xlsx", "d.csv.handled", "e.txt"):
        loader.drop(name, data)
    run = loader.run()
    assert (run.files, run.records) == (0, 0) and allocated("SHARED") == {"SHARED": Decimal("1000.00")}
    assert loader.names() == sorted(["a.csv.part", "b.csv.tmp", "c.xlsx", "d.csv.handled", "e.txt"])


def test_missing_folder_fails_the_run_visibly(local_loader):
    loader = local_loader("csv")
    loader.folder.rmdir()
    run = loader.run()
    assert run.status == "failed" and "does not exist" in run.message


def test_refusal_at_posting_time_rejects_the_file(local_loader, world, monkeypatch):
    """Should the funds change between the check and the posting, the ledger's own refusal rejects
    the file as a whole (here the check is switched off to let the reduction reach the ledger)."""
    from jobs import load_allocations as allocation_loader
    monkeypatch.setattr(allocation_loader, "_balance_errors", lambda resolved: [])
    loader = local_loader("csv")
    _commit_encumbrance(world)
    txs = _count(FundTransaction)
    loader.drop("a.csv", allocation_file("csv", [["A-BKS", P, "5.00", "", ""], ["EXT-1", P, "-200.00", "", ""]]))
    run = loader.run()
    report = errors_of(run)
    assert run.status == "failed" and run.records_failed == 1 and "SHARED" in report[0][1], report
    assert "nothing was loaded" in report[-1][1] and (run.files, run.records) == (1, 2)
    assert _count(FundTransaction) == txs and _count(AllocationRow) == 0
    assert allocated("A-BKS", "SHARED") == {"A-BKS": Decimal("1000.00"), "SHARED": Decimal("1000.00")}
    assert loader.names() == ["a.csv.rejected"]
    assert db.session.scalar(db.select(HandledFile.status)) == "rejected"
