"""A standard world for tests: two libraries, a fiscal period, ledgers and funds, a user per role.

Library A ("LIBA") and library B ("LIBB"); an institution ledger GEN available to all with funds
SHARED (allocated, 1,000.00) under summary BOOKS, plus one ledger owned by each library with
funds A-BKS and B-BKS. Users: admin, fundmgr (institution), fundmgr-a / fundmgr-b (library
scoped), viewer, viewer-a, viewer-b, and one institution-wide user per other role; every password
is PASSWORD. ``build_world`` makes it (in an app context, on a database with its institution);
``load_world`` finds it again in a database that was copied from one where it was built.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.auth.models import Role, User
from app.auth.services import create_user
from app.extensions import db
from app.funds import services as funds
from app.funds.models import FiscalPeriod, Fund, Ledger
from app.org.models import Library
from testkit import PASSWORD



@dataclass
class World:
    lib_a: Library
    lib_b: Library
    period: FiscalPeriod
    gen: Ledger
    ledger_a: Ledger
    ledger_b: Ledger
    books: Fund
    shared: Fund
    fund_a: Fund
    fund_b: Fund
    users: dict

    def user(self, name) -> User:
        return db.session.get(User, self.users[name])


USERS = [
    ("admin", Role.ADMIN, None), ("fundmgr", Role.FUND_MANAGER, None),
    ("fundmgr-a", Role.FUND_MANAGER, "a"), ("fundmgr-b", Role.FUND_MANAGER, "b"),
    ("viewer", Role.VIEWER, None), ("viewer-a", Role.VIEWER, "a"), ("viewer-b", Role.VIEWER, "b"),
    ("buyer", Role.PURCHASING_OPERATOR, None), ("invoicer", Role.INVOICE_OPERATOR, None),
    ("invoicer-ext", Role.INVOICE_OPERATOR_EXTENDED, None), ("invmanager", Role.INVOICE_MANAGER, None),
]


def build_world() -> World:
    lib_a, lib_b = Library(code="LIBA", name="Library A"), Library(code="LIBB", name="Library B")
    db.session.add_all([lib_a, lib_b])
    db.session.flush()
    libs = {"a": lib_a, "b": lib_b, None: None}
    ids = {}
    for name, role, lib in USERS:
        ids[name] = create_user(None, name, PASSWORD, full_name=name.title(), roles=[(role, libs[lib])]).id
    admin = db.session.get(User, ids["admin"])
    period = funds.create_fiscal_period(admin, "FY2026", "Fiscal year 2026", date(2026, 1, 1), date(2026, 12, 31))
    gen = funds.create_ledger(admin, "GEN", "General", period, "EUR")
    ledger_a = funds.create_ledger(admin, "LEDA", "Ledger of A", period, "EUR", owner=lib_a)
    ledger_b = funds.create_ledger(admin, "LEDB", "Ledger of B", period, "EUR", owner=lib_b)
    books = funds.create_fund(admin, gen, "BOOKS", funds.FundFields(name="Books", kind="summary"))
    shared = funds.create_fund(admin, gen, "SHARED", funds.FundFields(name="Shared books", parent=books, external_id="EXT-1"))
    fund_a = funds.create_fund(admin, ledger_a, "A-BKS", funds.FundFields(name="A books"))
    fund_b = funds.create_fund(admin, ledger_b, "B-BKS", funds.FundFields(name="B books"))
    for fund in (shared, fund_a, fund_b):
        funds.allocate(admin, fund, Decimal("1000.00"), reference="INIT")
    db.session.commit()
    return World(lib_a, lib_b, period, gen, ledger_a, ledger_b, books, shared, fund_a, fund_b, ids)


def load_world() -> World:
    """The World of a database copied from one where :func:`build_world` ran (found by code); its
    objects load again on next access, as after build_world."""
    def one(model, **by):
        return db.session.scalars(db.select(model).filter_by(**by)).one()
    names = [name for name, _, _ in USERS]
    users = dict(db.session.execute(db.select(User.username, User.id).where(User.username.in_(names))).all())
    world = World(one(Library, code="LIBA"), one(Library, code="LIBB"), one(FiscalPeriod, code="FY2026"),
                  one(Ledger, code="GEN"), one(Ledger, code="LEDA"), one(Ledger, code="LEDB"), one(Fund, code="BOOKS"),
                  one(Fund, code="SHARED"), one(Fund, code="A-BKS"), one(Fund, code="B-BKS"),
                  {name: users[name] for name in names})
    db.session.commit()   # like build_world: no transaction left open (on SQLite it would hold the write lock)
    return world
