"""LED-01: money never passes through binary floating point.

Two checks that need no application and no database:

* an AST walk over the money code (``app/ledger``, ``app/funds``, ``app/types.py``): no
  ``float(...)`` call, no float (or complex) literal, no reference to SQLAlchemy's ``Float`` /
  ``REAL`` / ``Double``, except the explicitly allowed occurrences below;
* the SQLAlchemy metadata of every model: no floating-point column type, every numeric column
  an exact :class:`app.types.Fixed`, and the money columns ``Fixed`` with scale 2.
"""
from __future__ import annotations

import ast
import pathlib
from collections import Counter

import pytest
import sqlalchemy as sa

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCES = sorted([*ROOT.glob("app/ledger/*.py"), *ROOT.glob("app/funds/*.py"), ROOT / "app/types.py"])

# (file, enclosing function, what) -> how many times it may occur. Exact counts: a new
# occurrence fails, and so does an entry that no longer matches anything.
ALLOWED = {
    # The spending chart turns balances into SVG pixel coordinates. The balances stay Decimal
    # up to the division by the axis top; only the resulting screen position (rounded to 0.1
    # px) becomes a float, and it never flows back into any amount.
    ("app/funds/chart.py", "spending_chart.y", "float() call"): 1,
}
FLOAT_TYPE_NAMES = {"Float", "REAL", "Double", "DOUBLE", "DOUBLE_PRECISION", "FLOAT"}


def float_uses(tree: ast.AST) -> Counter:
    """Counter of (enclosing function, what) for every float use in a module's AST."""
    found: Counter = Counter()

    def walk(node, scope):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = f"{scope}.{node.name}" if scope else node.name
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float":
            found[(scope, "float() call")] += 1
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "float":
            found[(scope, "float() call")] += 1          # builtins.float(...)
        if isinstance(node, ast.Constant) and isinstance(node.value, (float, complex)):
            found[(scope, f"float literal {node.value!r}")] += 1
        if isinstance(node, ast.Name) and node.id in FLOAT_TYPE_NAMES:
            found[(scope, f"floating-point type {node.id}")] += 1
        if isinstance(node, ast.Attribute) and node.attr in FLOAT_TYPE_NAMES:
            found[(scope, f"floating-point type {node.attr}")] += 1
        if isinstance(node, ast.alias) and node.name.split(".")[-1] in FLOAT_TYPE_NAMES:
            found[(scope, f"floating-point type {node.name}")] += 1
        for child in ast.iter_child_nodes(node):
            walk(child, scope)

    walk(tree, "")
    return found


def test_LED01_the_walker_finds_floats():
    """The checker itself: every kind of float use in a sample is found."""
    sample = ast.parse(
        "from sqlalchemy import Float\n"
        "import builtins\n"
        "x = 1.5\n"
        "def f(v):\n"
        "    def g():\n"
        "        return float(v) + 2e3\n"
        "    return builtins.float(v), sa.REAL, 3j\n")
    found = float_uses(sample)
    assert found == Counter({
        ("", "floating-point type Float"): 1,
        ("", "float literal 1.5"): 1,
        ("f.g", "float() call"): 1,
        ("f.g", "float literal 2000.0"): 1,
        ("f", "float() call"): 1,
        ("f", "floating-point type REAL"): 1,
        ("f", "float literal 3j"): 1,
    })
    # names that merely mention float are fine: isinstance checks and annotations
    assert not float_uses(ast.parse("def h(v) -> float:\n    return isinstance(v, float)\n"))


def test_LED01_no_float_in_the_money_code():
    assert any(p.name == "money.py" for p in SOURCES) and any(p.name == "chart.py" for p in SOURCES)
    found: Counter = Counter()
    for path in SOURCES:
        rel = path.relative_to(ROOT).as_posix()
        for (scope, what), n in float_uses(ast.parse(path.read_text(), filename=rel)).items():
            found[(rel, scope, what)] += n
    unexpected = {k: n for k, n in found.items() if ALLOWED.get(k) != n}
    stale = {k: n for k, n in ALLOWED.items() if found.get(k) != n}
    assert not unexpected, f"float in money code (use Decimal): {unexpected}"
    assert not stale, f"allow-list entries that no longer match (update ALLOWED): {stale}"


# -- the database schema -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def metadata():
    import app.models  # noqa: F401  - registers every table
    from app.extensions import db
    return db.metadata


def _columns(metadata):
    return [(t.name, c) for t in metadata.sorted_tables for c in t.columns]


def test_LED01_no_floating_point_columns(metadata):
    from app.types import Fixed
    cols = _columns(metadata)
    assert len(cols) > 20, "the models were not imported"
    bad = []
    for table, col in cols:
        types = [col.type] + ([col.type.impl] if isinstance(col.type, sa.types.TypeDecorator) else [])
        if any(isinstance(t, (sa.Float, sa.REAL)) for t in types):
            bad.append(f"{table}.{col.name}: {col.type!r} is floating point")
        elif any(isinstance(t, sa.Numeric) for t in types):
            # a bare NUMERIC is a float on SQLite (see app.types); exact columns use Fixed
            if not isinstance(col.type, Fixed):
                bad.append(f"{table}.{col.name}: {col.type!r} is not app.types.Fixed")
            elif not col.type.asdecimal:
                bad.append(f"{table}.{col.name}: {col.type!r} loads floats")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("table, column", [
    ("fund", "allocated"), ("fund", "encumbered"), ("fund", "expended"), ("fund", "overexpenditure_limit"),
    ("fund_transaction", "amount"),
])
def test_LED01_money_columns_are_fixed_scale_2(metadata, table, column):
    from app.types import Fixed
    col = metadata.tables[table].columns[column]
    assert isinstance(col.type, Fixed), repr(col.type)
    assert col.type.scale == 2
    assert col.type.asdecimal


def test_LED01_fixed_refuses_floats_and_extra_decimals():
    """The column type is the last line of defence: floats and over-precise values never bind."""
    from decimal import Decimal

    from sqlalchemy.dialects import postgresql, sqlite

    from app.types import Money
    money = Money()
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        with pytest.raises(TypeError):
            money.process_bind_param(1.5, dialect)
        with pytest.raises(ValueError):
            money.process_bind_param(Decimal("1.005"), dialect)
    assert money.process_bind_param(Decimal("-12.34"), sqlite.dialect()) == -1234
    assert money.process_result_value(-1234, sqlite.dialect()) == Decimal("-12.34")
    assert money.process_bind_param(Decimal("12.3"), postgresql.dialect()) == Decimal("12.30")
