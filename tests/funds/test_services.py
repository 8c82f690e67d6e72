"""Fund rules through the services, on SQLite and PostgreSQL: bad input changes nothing."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from app.errors import Duplicate, Forbidden, InvalidInput, NotFound, RuleViolation
from app.extensions import db
from app.funds import services as fs
from app.funds.models import AppendOnlyError, Fund, FundTransaction
from app.ledger import TransactionKind

pytestmark = pytest.mark.postgres


def count():
    return db.session.scalar(db.select(db.func.count()).select_from(FundTransaction))


def balances(*funds):
    db.session.expire_all()
    return [db.session.get(Fund, f.id).balance for f in funds]


@pytest.fixture
def admin(world):
    return world.user("admin")


@pytest.mark.parametrize("amount", ["abc", "12,50", "1e3", "10.001", "", "NaN", 12.5])
def test_bad_amounts_are_refused_and_change_nothing(world, admin, amount):
    with pytest.raises(InvalidInput) as err:
        fs.allocate(admin, world.shared, amount)
    assert err.value.field == "amount"
    db.session.rollback()
    assert count() == 3 and balances(world.shared)[0].allocated == Decimal("1000.00")


def test_over_precise_amount_message(world, admin):
    with pytest.raises(InvalidInput, match="at most 2 decimals"):
        fs.allocate(admin, world.shared, "10.001")


def test_unknown_fund(world, admin):
    with pytest.raises(NotFound):
        fs.get_fund(admin, 99999)
    with pytest.raises(NotFound):
        fs.find_fund(admin, "NO-SUCH", world.period)


def test_transfer_moves_money_as_a_pair(world, admin):
    rows = fs.transfer(admin, world.shared, world.fund_a, "250.00", reference="T-1", note="rebalance")
    db.session.commit()
    assert [r.amount for r in rows] == [Decimal("-250.00"), Decimal("250.00")]
    assert rows[0].transfer_id == rows[1].transfer_id is not None
    s, a = balances(world.shared, world.fund_a)
    assert (s.allocated, a.allocated) == (Decimal("750.00"), Decimal("1250.00"))
    total = db.session.scalar(db.select(db.func.count()).select_from(FundTransaction)
                              .where(FundTransaction.kind == "transfer"))
    assert total == 2


def test_over_limit_transfer_refused_naming_fund_and_shortfall(world, admin):
    with pytest.raises(RuleViolation) as err:
        fs.transfer(admin, world.shared, world.fund_a, "1000.01")
    assert "SHARED" in err.value.message and "short by 0.01 EUR" in err.value.message
    db.session.rollback()
    assert count() == 3


def test_transfer_between_currencies_refused(world, admin):
    usd = fs.create_ledger(admin, "USD", "Dollar ledger", world.period, "USD")
    fund = fs.create_fund(admin, usd, "USD-BKS", fs.FundFields(name="Dollar books"))
    fs.allocate(admin, fund, "100.00")
    with pytest.raises(RuleViolation, match="one currency"):
        fs.transfer(admin, fund, world.shared, "10.00")
    db.session.rollback()
    assert count() == 3


def test_duplicate_fund_code_in_period_refused(world, admin):
    with pytest.raises(Duplicate, match="already used in fiscal period FY2026"):
        fs.create_fund(admin, world.ledger_a, "SHARED", fs.FundFields(name="Again"))
    other = fs.create_fiscal_period(admin, "FY2027", "Next", date(2027, 1, 1), date(2027, 12, 31))
    ledger = fs.create_ledger(admin, "GEN", "General", other, "EUR")
    assert fs.create_fund(admin, ledger, "SHARED", fs.FundFields(name="Next year")).code == "SHARED"


def test_fund_availability_must_lie_inside_the_ledgers(world, admin):
    restricted = fs.create_ledger(admin, "ONLYA", "Only A", world.period, "EUR", available_to_all=False,
                                  libraries=[world.lib_a])
    with pytest.raises(RuleViolation, match="not available to LIBB"):
        fs.create_fund(admin, restricted, "X1", fs.FundFields(name="x", available_to_all=False,
                                                              libraries=[world.lib_b]))
    with pytest.raises(RuleViolation, match="cannot be"):
        fs.create_fund(admin, restricted, "X2", fs.FundFields(name="x", available_to_all=True))
    fund = fs.create_fund(admin, restricted, "X3", fs.FundFields(name="x", available_to_all=False,
                                                                 libraries=[world.lib_a]))
    assert [lib.code for lib in fund.libraries] == ["LIBA"]


def test_removing_a_library_from_the_ledger_removes_it_from_funds_adding_does_not(world, admin):
    ledger = fs.create_ledger(admin, "AB", "A and B", world.period, "EUR", available_to_all=False,
                              libraries=[world.lib_a, world.lib_b])
    fund = fs.create_fund(admin, ledger, "AB-1", fs.FundFields(name="ab", available_to_all=False,
                                                               libraries=[world.lib_a, world.lib_b]))
    fs.update_ledger(admin, ledger, "A only", None, False, [world.lib_a])
    assert [lib.code for lib in fund.libraries] == ["LIBA"]
    fs.update_ledger(admin, ledger, "A and B again", None, False, [world.lib_a, world.lib_b])
    assert [lib.code for lib in fund.libraries] == ["LIBA"]


def test_owner_change_cascades_to_funds_not_availability(world, admin):
    ledger = fs.create_ledger(admin, "MOVE", "Moves", world.period, "EUR", available_to_all=False,
                              libraries=[world.lib_a, world.lib_b])
    fund = fs.create_fund(admin, ledger, "MV-1", fs.FundFields(name="mv", available_to_all=False,
                                                               libraries=[world.lib_b]))
    fs.update_ledger(admin, ledger, "Moves", world.lib_a, False, [])
    assert fund.owner_library_id == world.lib_a.id
    assert [lib.code for lib in fund.libraries] == ["LIBB"], "stored availability is kept"
    assert fs.fund_library_ids(fund) == {world.lib_a.id}, "but a library's fund is available to it alone"


def test_fund_moves_only_between_ledgers_of_identical_availability(world, admin):
    same = fs.create_ledger(admin, "GEN2", "General two", world.period, "EUR")
    fs.move_fund(admin, world.shared, same)
    assert world.shared.ledger_id == same.id and world.shared.parent is None
    with pytest.raises(RuleViolation, match="not available to exactly the same libraries"):
        fs.move_fund(admin, world.shared, world.ledger_a)


def test_summary_funds_hold_no_money_and_tree_rolls_up(world, admin):
    with pytest.raises(RuleViolation, match="summary fund"):
        fs.allocate(admin, world.books, "10.00")
    db.session.rollback()
    from app.funds.tree import build_tree
    roots = {r.obj.code: r for r in build_tree(admin, world.period)}
    fs.post(admin, world.shared, TransactionKind.EXPENDITURE, Decimal("40.00"))
    db.session.commit()
    roots = {r.obj.code: r for r in build_tree(admin, world.period)}
    gen = roots["GEN"]
    assert gen.balance.allocated == Decimal("1000.00") and gen.balance.expended == Decimal("40.00")
    assert gen.children[0].obj.code == "BOOKS" and gen.children[0].balance.available == Decimal("960.00")


def test_library_scoped_tree_rolls_up_only_visible_funds(world):
    from app.funds.tree import build_tree
    roots = {r.obj.code: r for r in build_tree(world.user("viewer-a"), world.period)}
    assert set(roots) == {"GEN", "LEDA"}
    assert roots["LEDA"].balance.allocated == Decimal("1000.00")


def test_inactive_fund_and_inactive_period_refuse_postings(world, admin):
    world.fund_a.status = "inactive"
    with pytest.raises(RuleViolation, match="inactive"):
        fs.allocate(admin, world.fund_a, "1.00")
    db.session.rollback()
    world.period.status = "inactive"
    db.session.commit()
    with pytest.raises(RuleViolation, match="Fiscal period FY2026 of fund SHARED is inactive"):
        fs.allocate(admin, world.shared, "1.00")


def test_library_fund_manager_scope(world):
    mgr_a = world.user("fundmgr-a")
    fs.allocate(mgr_a, world.fund_a, "5.00")
    with pytest.raises(Forbidden):
        fs.allocate(mgr_a, world.shared, "5.00")
    with pytest.raises(Forbidden):
        fs.create_fiscal_period(mgr_a, "X", "x", date(2030, 1, 1), date(2030, 12, 31))


def test_overlapping_fiscal_periods_refused(world, admin):
    with pytest.raises(RuleViolation, match="overlap"):
        fs.create_fiscal_period(admin, "FY2026B", "dup", date(2026, 6, 1), date(2027, 5, 31))
    with pytest.raises(InvalidInput, match="after the start"):
        fs.create_fiscal_period(admin, "BAD", "bad", date(2030, 6, 1), date(2030, 5, 31))


def test_three_decimal_currency_refused_with_reason(world, admin):
    with pytest.raises(InvalidInput, match="KWD has 3 decimals"):
        fs.create_ledger(admin, "KW", "Kuwait", world.period, "KWD")


def test_LED06_transactions_are_append_only(world, app):
    row = db.session.scalars(db.select(FundTransaction)).first()
    row.note = "tampered"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalars(db.select(FundTransaction)).first())
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    for sql in ("UPDATE fund_transaction SET note = 'x'", "DELETE FROM fund_transaction"):
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text(sql))
        db.session.rollback()
    assert count() == 3


def test_LED13_transfer_is_atomic(world, admin, monkeypatch):
    real_flush = db.session.flush
    def failing_flush(*args, **kwargs):
        raise RuntimeError("crash between the legs")
    monkeypatch.setattr(db.session, "flush", failing_flush)
    with pytest.raises(RuntimeError):
        fs.transfer(admin, world.shared, world.fund_a, "10.00")
    monkeypatch.setattr(db.session, "flush", real_flush)
    db.session.rollback()
    assert count() == 3
    assert [b.allocated for b in balances(world.shared, world.fund_a)] == [Decimal("1000.00")] * 2


def test_LED05_ledger_check_catches_raw_sql_corruption(world, app):
    assert fs.check_ledger() == []
    stored = "100001" if db.engine.dialect.name == "sqlite" else "1000.01"
    db.session.execute(text(f"UPDATE fund SET allocated = {stored} WHERE id = :id"), {"id": world.fund_b.id})
    db.session.commit()
    diffs = fs.check_ledger()
    assert len(diffs) == 1 and diffs[0].fund.code == "B-BKS"
    assert diffs[0].cached.allocated == Decimal("1000.01") and diffs[0].recomputed.allocated == Decimal("1000.00")
    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 1 and "B-BKS" in result.output and "1000.01" in result.output


def test_over_encumbrance_and_over_expenditure_rules(world, admin):
    fund = db.session.get(Fund, world.fund_a.id)
    fields = fs.FundFields(name=fund.name, overencumbrance_allowed=True, overencumbrance_limit_percent=Decimal("10"),
                           overexpenditure_allowed=True, overexpenditure_limit=Decimal("50.00"))
    fs.update_fund(admin, fund, fields)
    fs.post(admin, fund, "encumbrance", Decimal("1100.00"))
    db.session.commit()
    with pytest.raises(RuleViolation, match="short by 0.01 EUR"):
        fs.post(admin, fund, "encumbrance", Decimal("0.01"))
    db.session.rollback()
    with pytest.raises(RuleViolation, match="only 1,100.00 EUR encumbered"):
        fs.post(admin, fund, "disencumbrance", Decimal("1100.01"))
    db.session.rollback()
    fs.post(admin, fund, "disencumbrance", Decimal("1100.00"))
    fs.post(admin, fund, "expenditure", Decimal("1050.00"))
    with pytest.raises(RuleViolation, match="A-BKS .* cannot expend 0.01 EUR: it is short by 0.01 EUR"):
        fs.post(admin, fund, "expenditure", Decimal("0.01"))


def test_made_up_currency_and_too_large_amounts_refused(world, admin):
    with pytest.raises(InvalidInput, match="Unknown currency XYZ"):
        fs.create_ledger(admin, "XY", "Nowhere", world.period, "XYZ")
    with pytest.raises(InvalidInput, match="too large"):
        fs.allocate(admin, world.shared, "1000000000000.00")
    fs.allocate(admin, world.shared, "999999998999.99")  # the largest a fund can then hold
    db.session.commit()
    assert balances(world.shared)[0].allocated == Decimal("999999999999.99")


def test_impossible_ids_are_simply_not_found(world, admin):
    for ref in (2**31, 10**20, -1, 0, "²", "1.5", True):
        with pytest.raises(NotFound):
            fs.get_fund(admin, ref)
    assert fs.find_fund(admin, "SHARED", world.period).id == world.shared.id
    assert fs.find_fund(admin, world.shared.id).code == "SHARED"


def test_numeric_fund_codes_are_found_by_code(world, admin):
    fund = fs.create_fund(admin, world.gen, "1001", fs.FundFields(name="Numeric code"))
    assert fs.find_fund(admin, "1001", world.period).id == fund.id


def test_codes_longer_than_their_column_are_refused(world, admin):
    with pytest.raises(InvalidInput, match="1–20 characters"):
        fs.create_fiscal_period(admin, "X" * 21, "long", date(2031, 1, 1), date(2031, 12, 31))
