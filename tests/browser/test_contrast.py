"""Non-text contrast (WCAG 2.2 1.4.11): the colours app.css gives the parts a person must see are at least
3:1 against what is next to them, as Chromium computes them. The page is app.css with a small sample of the
markup those rules style (the spent bar is the real one from app.funds.rows), so a change of a colour, a
custom property or a rule that breaks 3:1 fails here."""
from __future__ import annotations

import pathlib
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

CSS = pathlib.Path(__file__).resolve().parents[2] / "app" / "static" / "app.css"
MINIMUM = 3.0


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(parse(a)), luminance(parse(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def parse(css_colour: str) -> tuple[int, int, int]:
    """rgb(r, g, b) / rgba(r, g, b, 1) as computed by the browser (an opaque colour: a see-through one
    would depend on what is under it, so the rules here must not use one)."""
    m = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)", css_colour.strip())
    assert m, f"not an rgb() colour: {css_colour!r}"
    assert m.group(4) in (None, "1"), f"a see-through colour has no fixed contrast: {css_colour}"
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def test_contrast_helpers():
    assert round(contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)"), 1) == 21.0
    assert round(contrast("rgb(242, 183, 5)", "rgb(255, 255, 255)"), 2) == 1.82   # the old focus ring


SAMPLE = """
<header class="top"><a class="brand" href="#">Library acquisitions</a>
  <nav aria-label="Main"><a id="menu-link" href="#">Funds</a></nav>
  <form class="search"><input id="q" type="search"></form></header>
<main id="main">
  <section class="card"><div class="field"><label for="f">Field</label><input id="f" type="text"></div>
    <div class="filters"><select id="sel"><option>One</option></select></div>
    <button id="btn">Save</button>
    <button type="submit" class="switch" id="off"><span class="switch-track"></span> Off</button>
    <button type="submit" class="switch on" id="on"><span class="switch-track"></span> On</button>
    <div id="bar">{bar}</div><div id="over">{over}</div>
    <svg class="chart"><polyline class="line-alloc" points="0,0 1,1"></polyline><polyline class="line-committed" points="0,0 1,1"></polyline>
      <polyline class="line-exp" points="0,0 1,1"></polyline><line class="today" x1="0" x2="0" y1="0" y2="1"></line></svg>
  </section>
  <table class="data"><thead><tr><th><a id="th-link" href="#">Sort</a></th></tr></thead></table>
  <div class="reports"><svg class="report-chart"><rect class="pf-alloc"></rect><rect class="pf-exp"></rect><rect class="pf-enc"></rect>
    <rect class="pf-count"></rect><polyline class="rl s-alloc"></polyline><polyline class="rl s-enc"></polyline>
    <polyline class="rl s-exp"></polyline></svg></div>
  <dialog class="vat-dialog" open><button id="dialog-btn">Keep</button></dialog>
</main>
"""

COMPUTE = """() => {
  const style = (sel, prop) => getComputedStyle(document.querySelector(sel)).getPropertyValue(prop).trim();
  const under = el => {   // the first ancestor with a background of its own: what an outline is drawn over
    for (let p = el.parentElement; p; p = p.parentElement) {
      const bg = getComputedStyle(p).backgroundColor;
      if (bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  const focused = {};
  for (const id of ['menu-link', 'q', 'f', 'sel', 'btn', 'th-link', 'dialog-btn']) {
    const el = document.getElementById(id);
    el.focus();
    const s = getComputedStyle(el);
    focused[id] = {ring: s.outlineColor, width: parseFloat(s.outlineWidth), style: s.outlineStyle,
                   visible: el.matches(':focus-visible'), under: under(el)};
  }
  return {focused,
    card: style('section.card', 'background-color'),
    bar: {exp: style('#bar .bar-exp', 'fill'), enc: style('#bar .bar-enc', 'fill'), track: style('#bar .bar-bg', 'fill'),
          outline: style('#bar svg', 'border-top-color'), outlineWidth: parseFloat(style('#bar svg', 'border-top-width'))},
    over: {exp: style('#over .bar-exp', 'fill'), enc: style('#over .bar-enc', 'fill')},
    field: style('#f', 'border-top-color'), fieldBg: style('#f', 'background-color'),
    select: style('#sel', 'border-top-color'),
    search: style('#q', 'border-top-color'), header: style('header.top', 'background-color'),
    switchOff: style('#off .switch-track', 'background-color'), switchOn: style('#on .switch-track', 'background-color'),
    knob: getComputedStyle(document.querySelector('#off .switch-track'), '::after').backgroundColor,
    switchBg: style('#off', 'background-color'),
    lines: Object.fromEntries(['line-alloc', 'line-committed', 'line-exp', 'today'].map(c => [c, style('svg.chart .' + c, 'stroke')])),
    reportBars: Object.fromEntries(['pf-alloc', 'pf-exp', 'pf-enc', 'pf-count'].map(c => [c, style('.reports .' + c, 'fill')])),
    reportLines: Object.fromEntries(['s-alloc', 's-enc', 's-exp'].map(c => [c, style('.reports .rl.' + c, 'stroke')])),
  };
}"""


def test_non_text_parts_have_3_to_1_contrast(page: Page):
    from app.funds.rows import Bar
    bar = Bar(Decimal("40"), Decimal("30"), False, "sample").svg
    over = Bar(Decimal("70"), Decimal("30"), True, "sample over").svg
    page.set_content(f"<!doctype html><html><head><style>{CSS.read_text()}</style></head>"
                     f"<body>{SAMPLE.format(bar=bar, over=over)}</body></html>")
    page.keyboard.press("Tab")   # a keyboard user: later focus() calls show the ring (:focus-visible)
    c = page.evaluate(COMPUTE)
    white = "rgb(255, 255, 255)"
    pairs = {}
    for id_, f in c["focused"].items():
        assert f["visible"] and f["style"] != "none" and f["width"] >= 2, (id_, f)
        pairs[f"focus ring of #{id_} against its surroundings"] = (f["ring"], f["under"])
    b, o = c["bar"], c["over"]
    pairs.update({
        "spent bar: expended against the track": (b["exp"], b["track"]),
        "spent bar: encumbered against the track": (b["enc"], b["track"]),
        "spent bar: encumbered against expended": (b["enc"], b["exp"]),
        "spent bar: its outline against the card": (b["outline"], c["card"]),
        "over-allocated bar: expended against encumbered": (o["exp"], o["enc"]),
        "text field border": (c["field"], c["fieldBg"]),
        "select border": (c["select"], white),
        "header search box border against the header": (c["search"], c["header"]),
        "Off switch track against the button": (c["switchOff"], c["switchBg"]),
        "switch knob against the Off track": (c["knob"], c["switchOff"]),
        "switch knob against the On track": (c["knob"], c["switchOn"]),
        **{f"fund chart line {k}": (v, c["card"]) for k, v in c["lines"].items()},
        **{f"report bar fill {k}": (v, white) for k, v in c["reportBars"].items()},
        **{f"report line {k}": (v, white) for k, v in c["reportLines"].items()},
    })
    assert b["outlineWidth"] >= 1
    low = {name: f"{contrast(a, b_):.2f}:1 ({a} on {b_})" for name, (a, b_) in pairs.items() if contrast(a, b_) < MINIMUM}
    assert not low, "below 3:1:\n" + "\n".join(f"{k}: {v}" for k, v in low.items())
