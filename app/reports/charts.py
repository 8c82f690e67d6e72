"""The reports' charts as SVG geometry (drawn by app/templates/reports/_chart.html): horizontal bars
with a label at the end of each bar, and running-total lines labelled at their ends. Each series
has its own fill pattern or dash, so a chart reads without colour. Floats only for pixels."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

WIDTH = 760
LABEL_W, VALUE_W, PAD = 190, 110, 8
BAR_H, BAR_GAP, GROUP_GAP = 14, 2, 10
LINE_H, LINE_PAD_L, LINE_PAD_R, LINE_PAD_T, LINE_PAD_B = 260, 70, 130, 12, 28


@dataclass(frozen=True)
class Series:
    key: str        # the CSS class and pattern: s-<key>
    label: str


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: Series
    text: str           # the figure written after the bar
    text_x: float


LABEL_CHARS = 28        # what fits in LABEL_W at the category labels' size


@dataclass
class BarGroup:
    label: str
    y: float            # baseline of the category label
    bars: list = field(default_factory=list)

    @property
    def short(self) -> str:
        """The label as drawn: cut with an ellipsis when longer than the space for it (the whole
        label is in each bar's title and in the table)."""
        label = str(self.label)   # a Text: in the reader's language
        return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1].rstrip() + "…"


@dataclass
class BarChart:
    width: int
    height: int
    series: list
    groups: list
    axis_x: float
    ticks: list          # (x, label)
    title: str
    desc: str
    empty: bool
    kind: str = "bars"


@dataclass
class Line:
    series: Series
    points: str
    end_x: float
    end_y: float
    text: str


@dataclass
class LineChart:
    width: int
    height: int
    series: list
    lines: list
    y_ticks: list        # (y, label)
    x_ticks: list        # (x, label)
    plot: tuple          # x0, y0, x1, y1
    title: str
    desc: str
    empty: bool
    kind: str = "lines"


def bar_chart(title: str, desc: str, series: list[Series], categories: list[tuple[str, list]],
              fmt=lambda v: str(v)) -> BarChart:
    """``categories``: (label, [value per series]); values are Decimal or int, never negative in
    length (a negative value draws as an empty bar, its figure still written)."""
    top = max([Decimal(0)] + [Decimal(v) for _, values in categories for v in values])
    scale_top = nice(top) if top > 0 else Decimal(1)
    x0, x1 = LABEL_W, WIDTH - VALUE_W
    groups, y = [], PAD + 16
    for label, values in categories:
        group = BarGroup(label, y + BAR_H - 3)
        for s, v in zip(series, values):
            length = float(max(Decimal(v), Decimal(0)) / scale_top) * (x1 - x0)
            w = round(length, 1)
            group.bars.append(Bar(x0, y, w, BAR_H, s, fmt(v), round(x0 + w + 4, 1)))
            y += BAR_H + BAR_GAP
        groups.append(group)
        y += GROUP_GAP
    height = int(y + PAD + 4)
    ticks = [(round(x0 + (x1 - x0) * i / 4, 1), short(scale_top * i / 4)) for i in range(5)]
    return BarChart(WIDTH, height, series, groups, x0, ticks, title, desc,
                    not categories or top == 0)


def line_chart(title: str, desc: str, series: list[Series], labels: list[str], values: list[list],
               fmt=lambda v: str(v)) -> LineChart:
    """Running totals: ``values[i]`` the points of ``series[i]``, one per label (e.g. month)."""
    flat = [Decimal(v) for vs in values for v in vs]
    top = max([Decimal(0)] + flat)
    bottom = min([Decimal(0)] + flat)
    scale_top = nice(top) if top > 0 else Decimal(1)
    scale_bottom = -nice(-bottom) if bottom < 0 else Decimal(0)
    x0, y0, x1, y1 = LINE_PAD_L, LINE_PAD_T, WIDTH - LINE_PAD_R, LINE_H - LINE_PAD_B
    n = max(len(labels), 1)
    step = (x1 - x0) / n

    def x(i: int) -> float:          # the middle of the i-th label's slot
        return round(x0 + step * (i + 0.5), 1)

    def y(v) -> float:
        span = scale_top - scale_bottom
        return round(float(y1 - (y1 - y0) * ((Decimal(v) - scale_bottom) / span)), 1)

    lines = []
    for s, vs in zip(series, values):
        pts = " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(vs))
        last = len(vs) - 1
        lines.append(Line(s, pts, x(last) + 6, y(vs[last]) + 4 if vs else y1, fmt(vs[last]) if vs else ""))
    _spread_labels(lines, y0 + 8, y1)
    y_ticks = [(y(scale_bottom + (scale_top - scale_bottom) * i / 4), short(scale_bottom + (scale_top - scale_bottom) * i / 4))
               for i in range(5)]
    x_ticks = [(x(i), label) for i, label in enumerate(labels)]
    return LineChart(WIDTH, LINE_H, series, lines, y_ticks, x_ticks, (x0, y0, x1, y1), title, desc,
                     not flat or (top == 0 and bottom == 0))


def _spread_labels(lines: list[Line], low: float, high: float, gap: float = 14) -> None:
    """Move the end labels apart vertically so that none overlaps the next."""
    order = sorted(lines, key=lambda ln: ln.end_y)
    for a, b in zip(order, order[1:]):
        if b.end_y - a.end_y < gap:
            b.end_y = round(a.end_y + gap, 1)
    overflow = order[-1].end_y - high if order else 0
    if overflow > 0:
        for ln in order:
            ln.end_y = round(max(low, ln.end_y - overflow), 1)


def nice(v: Decimal) -> Decimal:
    """The axis top: ``v`` rounded up to 1, 2 or 5 times a power of ten."""
    v = Decimal(v)
    if v <= 1:
        return Decimal(1)
    magnitude = Decimal(10) ** (len(str(int(v))) - 1)
    for m in (1, 2, 5, 10):
        if v <= m * magnitude:
            return m * magnitude
    return 10 * magnitude


def short(v: Decimal) -> str:
    v = Decimal(v)
    sign, v = ("-", -v) if v < 0 else ("", v)
    if v >= 1_000_000:
        return f"{sign}{(v / 1_000_000).quantize(Decimal('0.1')).normalize():f}M"
    if v >= 1000:
        return f"{sign}{(v / 1000).quantize(Decimal('0.1')).normalize():f}k"
    return f"{sign}{v.quantize(Decimal('1'))}"
