"""`flask migrate aleph-budgets` against the database: real run, dry run, reconciliation, refusals."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.funds.models import FiscalPeriod, Fund, FundTransaction, FundType, Ledger
from app.funds.services import check_ledger

DATA = Path(__file__).parent / "data"
Z76, Z601 = str(DATA / "z76_budgets.csv"), str(DATA / "z601_transactions.csv")
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def run(app, *args):
    db.session.commit()  # like a separate process: the test's own transaction must not hold the write lock
    return app.test_cli_runner().invoke(args=["migrate", "aleph-budgets", *args], catch_exceptions=False)


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (FiscalPeriod, Ledger, Fund, FundTransaction, FundType))


def fund(year, code) -> Fund:
    return db.session.scalar(select(Fund).join(FiscalPeriod).where(FiscalPeriod.code == f"FY{year}",
                                                                   Fund.code == code))


@pytest.mark.postgres
def test_migration_applies_every_rule_and_reconciles(app):
    result = run(app, Z76, Z601, "--local-currency", "usd")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    periods = {fp.code: fp for fp in db.session.scalars(select(FiscalPeriod))}
    assert sorted(periods) == ["FY2004", "FY2005"]  # no FY2099 for FUTURE's valid-to
    assert (periods["FY2004"].status, periods["FY2005"].status) == ("inactive", "active")
    ledgers = {(lg.fiscal_period.code, lg.code): lg for lg in db.session.scalars(select(Ledger))}
    assert sorted(ledgers) == [("FY2004", "GENERAL"), ("FY2005", "GENERAL"), ("FY2005", "LAW")]
    assert all(lg.currency == "USD" and lg.owner_library_id is None and lg.available_to_all
               for lg in ledgers.values())
    assert ledgers["FY2004", "GENERAL"].status == "inactive"

    art4, art5 = fund(2004, "ART"), fund(2005, "ART")
    assert fund(2005, "PGIFT").status == "inactive" and fund(2005, "FUTURE") is not None
    assert fund(2004, "MAPS-OLD-FUND") is not None
    # 333.33 absolute over-encumbrance on an estimated 7000.00 -> 4.76 %; 2.5 % over-expenditure of 1234.57 -> 30.86
    assert (art4.overencumbrance_allowed, art4.overencumbrance_limit_percent) == (True, Decimal("4.76"))
    assert (art4.overexpenditure_allowed, art4.overexpenditure_limit) == (True, Decimal("250.00"))
    assert (art5.overencumbrance_limit_percent, art5.overexpenditure_limit) == (Decimal("7.50"), Decimal("30.86"))
    assert art4.notes == "Selector: JB\nEndowed 1987\nReviewed yearly" and art4.external_id == "SAP-4711"
    assert art4.fund_type.code == "ENDOW" and fund(2005, "PGIFT").fund_type.code == "GIFT"
    assert art4.status == "inactive" and art5.status == "active"
    # hierarchy: LAW has its own ledger; LAWBK's summary holds LAWBK and LAWFOR
    lawbk_sum = fund(2005, "LAWBK-SUM")
    assert lawbk_sum.kind == "summary" and lawbk_sum.ledger.code == "LAW"
    assert {f.code for f in lawbk_sum.children} == {"LAWBK", "LAWFOR"}
    assert fund(2005, "HISTUS").parent.code == "HIST-SUM" and fund(2005, "HIST-SUM").ledger.code == "GENERAL"

    # balances: ART-2004 allocated 5000 + 1500 + 750 - 250 = 7000, encumbered 400 - 100, expended 1200 - 50
    assert (art4.allocated, art4.encumbered, art4.expended) == (Decimal("7000.00"), Decimal("300.00"),
                                                                Decimal("1150.00"))
    # LAWFOR was overspent in Aleph (300 allocated, 350 invoiced): migrated as it stands
    assert fund(2005, "LAWFOR").balance.available == Decimal("-50.00")
    assert db.session.scalar(select(func.count()).select_from(FundTransaction)) == 18
    legs = db.session.scalars(select(FundTransaction).where(FundTransaction.kind == "transfer")).all()
    assert len(legs) == 2 and legs[0].transfer_id == legs[1].transfer_id
    assert {leg.counterpart_fund.code for leg in legs} == {"ART", "MAPS-OLD-FUND"}
    assert all(t.currency == "USD" and t.actor.username == "aleph-migration"
               for t in db.session.scalars(select(FundTransaction)))
    assert check_ledger() == []

    out = result.output
    assert "FY2004 2003-07-01..2004-06-30 inactive" in out and "FY2005 2004-07-01..2005-06-30 active" in out
    assert "MAPS-OLD -> MAPS-OLD-FUND" in out and "estimated balance 7000.00 x 100 = 4.76 %" in out
    assert "Reconciliation" in out and "10 budget(s) reconciled, 0 differ." in out
    art_line = next(line for line in out.splitlines() if line.startswith("ART-2004 "))
    assert art_line.count("7,000.00") == 2 and art_line.endswith("OK")
    # a second run is refused: the general ledgers already exist
    again = run(app, Z76, Z601)
    assert again.exit_code != 0 and "nothing written" in again.output
    assert db.session.scalar(select(func.count()).select_from(FundTransaction)) == 18


@sqlite_only
def test_dry_run_reports_and_changes_nothing(app, tmp_path):
    before = counts()
    report = tmp_path / "report.txt"
    result = run(app, Z76, Z601, "--dry-run", "--report", str(report))
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert counts() == before
    out = result.output
    assert "DRY RUN" in out and "Reconciliation" not in out
    assert ("FY2005 2004-07-01..2005-06-30 active (at least one budget is active (AC)): 8 allocated fund(s), "
            "2 summary fund(s), ledgers GENERAL, LAW") in out
    assert "PGIFT: no -YYYY suffix, fiscal period 2005 from valid-to 2005-06-30" in out
    assert "FUTURE: no -YYYY suffix, valid-to year 2099 has no fiscal period, so the latest one, 2005" in out
    assert "ART-2005: over-expenditure 2.50 % x estimated balance 1234.57 / 100 = 30.86" in out
    assert "zero local sum" in out and "Not migrated: department on 2 budget(s)" in out
    assert report.read_text() == out


@sqlite_only
def test_reconciliation_difference_exits_non_zero(app, monkeypatch):
    from app.migration import budgets

    real = budgets.transaction_rows

    def one_cent_off(*args, **kwargs):
        rows = real(*args, **kwargs)
        rows[0]["amount"] += Decimal("0.01")  # ART-2004's initial allocation loses its exactness
        return rows

    monkeypatch.setattr(budgets, "transaction_rows", one_cent_off)
    result = run(app, Z76, Z601)
    assert result.exit_code == 1
    line = next(line for line in result.output.splitlines() if line.startswith("ART-2004 "))
    # Aleph says 7,000.00 allocated, the fund's transactions add up to 7,000.01
    assert "7,000.00" in line and "7,000.01" in line and "DIFFERS" in line
    assert "cached balance differs from its transactions" in line  # the cached column followed the plan
    assert "10 budget(s) reconciled, 1 differ." in result.output


@sqlite_only
def test_malformed_file_is_refused_and_nothing_written(app, tmp_path):
    before = counts()
    bad = tmp_path / "z601_bad.csv"
    lines = (DATA / "z601_transactions.csv").read_text().splitlines()
    lines[4] = lines[4].replace("250.00,20031001", "2.50.0,20031001")
    bad.write_text("\n".join(lines) + "\n")
    result = run(app, Z76, str(bad))
    assert result.exit_code != 0
    assert "z601_bad.csv row 5: transaction ART-2004/200310010000004" in result.output
    latin = tmp_path / "z76_latin.csv"
    latin.write_bytes("Z76_BUDGET_NUMBER,Z76_NAME\nA-2010,Caf\xe9\n".encode("latin-1"))
    result = run(app, str(latin), Z601)
    assert result.exit_code != 0 and "z76_latin.csv: not UTF-8 text" in result.output
    db.session.expire_all()
    assert counts() == before


@sqlite_only
def test_existing_fiscal_period_is_reused_and_clashing_fund_refused(app):
    from datetime import date
    from app.funds import services as funds
    from app.migration.budgets import migration_actor
    actor = migration_actor()
    fp = funds.create_fiscal_period(actor, "FY2004", "Already there", date(2003, 7, 1), date(2004, 6, 30))
    other = funds.create_ledger(actor, "OLD", "Old ledger", fp, "EUR")
    funds.create_fund(actor, other, "ART", funds.FundFields(name="Art (made by hand)"))
    before = counts()
    result = run(app, Z76, Z601)
    assert result.exit_code != 0
    assert "Fund code ART already exists in fiscal period FY2004 (from Aleph budget ART-2004)" in result.output
    db.session.expire_all()
    assert counts() == before


@pytest.mark.postgres
def test_H12_01_migration_commits_in_chunks_and_carries_on_after_dying_part_way(app, monkeypatch):
    """Finding 1 of issue 12: the history goes in chunks, each committed with its funds' cached
    balances (the ledger checks clean at every commit); a run that dies part-way keeps what it
    committed, and the same command again posts the rest, never a transaction twice."""
    from app.integrations.models import BulkLoad, JobRun
    from app.migration import budgets

    app.config.update(LOAD_CHUNK_SECONDS=0, LOAD_PAUSE_SECONDS=0)   # commit every chunk of postings
    monkeypatch.setattr(budgets, "CHUNK_POSTINGS", 4)
    real, inserts = budgets._insert_many, []

    def dies_on_the_third_chunk(table, rows):
        if table.name == "fund_transaction":
            inserts.append(len(rows))
            if len(inserts) == 3:
                raise OSError("disk full")
        return real(table, rows)

    monkeypatch.setattr(budgets, "_insert_many", dies_on_the_third_chunk)
    result = run(app, Z76, Z601, "--local-currency", "usd")
    assert result.exit_code != 0 and "disk full" in result.output
    db.session.expire_all()
    posted = db.session.scalar(select(func.count()).select_from(FundTransaction))
    assert posted == sum(inserts[:2]) and 0 < posted < 18   # two chunks committed, the third rolled back
    assert check_ledger() == []    # cached balances follow exactly what was committed
    load = db.session.scalar(select(BulkLoad))
    assert (load.kind, load.stage, load.progress, load.status) == ("aleph_budgets", "history", posted, "failed")
    failed = db.session.get(JobRun, load.run_id)
    assert failed.status == "failed" and failed.progress_done == posted and failed.job == "aleph_budgets"
    db.session.commit()

    monkeypatch.setattr(budgets, "_insert_many", real)
    result = run(app, Z76, Z601, "--local-currency", "usd")
    assert result.exit_code == 0, result.output
    assert f"{posted} transaction(s) had been posted before" in result.output
    assert "10 budget(s) reconciled, 0 differ." in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(FundTransaction)) == 18
    legs = db.session.scalars(select(FundTransaction).where(FundTransaction.kind == "transfer")).all()
    assert len(legs) == 2 and legs[0].transfer_id == legs[1].transfer_id
    assert check_ledger() == []
    assert db.session.scalar(select(BulkLoad.status)) == "done"
    again = run(app, Z76, Z601, "--local-currency", "usd")
    assert again.exit_code != 0 and "nothing written" in again.output
    assert db.session.scalar(select(func.count()).select_from(FundTransaction)) == 18


def test_H12_01_chunks_never_part_the_legs_of_a_transfer():
    from types import SimpleNamespace
    from app.migration.budgets import chunk_ends
    postings = [SimpleNamespace(transfer_id=t) for t in [None, "a", None, None, "a", None, "b", "b", None]]
    plan = SimpleNamespace(postings=postings)
    assert chunk_ends(plan, 2) == [5, 8, 9]   # "a" holds the first chunk open to 5, "b" the second to 8
    assert chunk_ends(plan, 100) == [9]
    assert chunk_ends(SimpleNamespace(postings=[]), 3) == []
