"""A fund's spending over its fiscal period as SVG coordinates (rendered by a template)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from babel.dates import format_skeleton
from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..ledger import effect_of
from ..text import current_language
from .models import Fund, FundTransaction

WIDTH, HEIGHT, PAD_L, PAD_B, PAD_T, PAD_R = 640, 220, 70, 28, 12, 12


@dataclass
class Chart:
    width: int
    height: int
    allocated: str      # polyline points
    expended: str
    committed: str      # expended + encumbered
    y_ticks: list       # (y, label)
    x_ticks: list       # (x, label)
    plot: tuple         # x0, y0, x1, y1
    today_x: float | None
    empty: bool
    last: tuple = ()    # the lines' end values (allocated, committed, expended), written under the chart


def spending_chart(fund: Fund) -> Chart:
    period = fund.fiscal_period
    ids = [fund.id] if fund.kind == "allocated" else _allocated_descendants(fund)
    rows = db.session.execute(
        select(FundTransaction.transaction_date, FundTransaction.kind, FundTransaction.amount)
        .where(FundTransaction.fund_id.in_(ids)).order_by(FundTransaction.transaction_date, FundTransaction.id)).all()
    start, end = period.start_date, period.end_date
    steps = []  # (day, allocated, expended, committed) after each day's transactions
    alloc = exp = enc = Decimal(0)
    for day, kind, amount in rows:
        e = effect_of(kind, amount)
        alloc, exp, enc = alloc + e.allocated, exp + e.expended, enc + e.encumbered
        day = min(max(day, start), end)
        if steps and steps[-1][0] == day:
            steps[-1] = (day, alloc, exp, exp + enc)
        else:
            steps.append((day, alloc, exp, exp + enc))
    top = max([Decimal(1)] + [max(a, x, c) for _, a, x, c in steps])
    top = _nice(top)
    x0, y0, x1, y1 = PAD_L, PAD_T, WIDTH - PAD_R, HEIGHT - PAD_B
    span = max((end - start).days, 1)

    def x(day: date) -> float:
        return round(x0 + (x1 - x0) * (day - start).days / span, 1)

    def y(v: Decimal) -> float:
        return round(float(y1 - (y1 - y0) * (v / top)), 1) if top else y1  # float only for pixel coordinates

    def line(index: int) -> str:
        pts, last = [f"{x0},{y1}"], Decimal(0)
        for step in steps:
            value = step[index]
            pts.append(f"{x(step[0])},{y(last)}")
            pts.append(f"{x(step[0])},{y(value)}")
            last = value
        stop = min(clock.today(), end) if start <= clock.today() else end
        pts.append(f"{x(max(stop, steps[-1][0]) if steps else stop)},{y(last)}")
        return " ".join(pts)

    y_ticks = [(y(top * i / 4), _short(top * i / 4)) for i in range(5)]
    x_ticks, month = [], date(start.year, start.month, 1)
    while month <= end:
        if month >= start:
            x_ticks.append((x(month), format_skeleton("MMM", month, locale=current_language())))   # Dec, 12月
        month = (month + timedelta(days=32)).replace(day=1)
    today = clock.today()
    return Chart(WIDTH, HEIGHT, line(1), line(2), line(3), y_ticks, x_ticks, (x0, y0, x1, y1),
                 x(today) if start <= today <= end else None, not steps,
                 (steps[-1][1], steps[-1][3], steps[-1][2]) if steps else ())


def _allocated_descendants(fund: Fund) -> list[int]:
    ids, stack = [], list(fund.children)
    while stack:
        f = stack.pop()
        if f.kind == "allocated":
            ids.append(f.id)
        stack.extend(f.children)
    return ids


def _nice(v: Decimal) -> Decimal:
    """Round the axis top up to 1, 2 or 5 times a power of ten."""
    magnitude = Decimal(10) ** (len(str(int(v))) - 1)
    for m in (1, 2, 5, 10):
        if v <= m * magnitude:
            return m * magnitude
    return 10 * magnitude


def _short(v: Decimal) -> str:
    if v >= 1_000_000:
        return f"{(v / 1_000_000).normalize():f}M"
    if v >= 1000:
        return f"{(v / 1000).quantize(Decimal('0.1')).normalize():f}k"
    return f"{v.quantize(Decimal('1'))}"
