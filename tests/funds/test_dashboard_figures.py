"""The fund dashboard's figures: percent spent per row, the grand total of the ledgers shown (per
currency), the spent bar's figures in its title and accessible name, the columns a user chooses, and
the whole tree exported (XLSX and CSV) within the user's scope."""
from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

from openpyxl import load_workbook

from app.extensions import db
from app.funds import services as funds
from app.funds.rows import percent_of
from app.funds.tree import build_tree
from app.idempotency import new_form_token
from tests.helpers import login, show_columns

HOSTILE_NAME = "=cmd|' /C calc'!A0"
HX = {"HX-Request": "true"}


def _money_world(world):
    """GEN/BOOKS/SHARED: 1,000.00 allocated, 100.00 transferred out to A-BKS, 210.10 encumbered,
    123.45 expended; EVIL (hostile name, nothing allocated) under GEN; a USD ledger with US-1: 200.00
    allocated, 50.00 expended."""
    admin = world.user("admin")
    funds.transfer(admin, world.shared, world.fund_a, Decimal("100.00"), reference="T-1")
    funds.post(admin, world.shared, "encumbrance", Decimal("210.10"), reference="POL-1")
    funds.post(admin, world.shared, "expenditure", Decimal("123.45"), reference="INV-1")
    evil = funds.create_fund(admin, world.gen, "EVIL", funds.FundFields(name=HOSTILE_NAME))
    usd = funds.create_ledger(admin, "USDL", "Dollar ledger", world.period, "USD")
    us1 = funds.create_fund(admin, usd, "US-1", funds.FundFields(name="Dollar books"))
    funds.allocate(admin, us1, Decimal("200.00"), reference="INIT")
    funds.post(admin, us1, "expenditure", Decimal("50.00"), reference="INV-2")
    db.session.commit()
    return evil, usd, us1


def _row(page: str, key: str) -> str:
    found = re.search(rf'<tr id="{key}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, key
    return found.group(1)


def _cells(row: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def _sheet(resp) -> list[tuple]:
    assert resp.status_code == 200, resp.status_code
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))


def test_percent_of_is_one_decimal_half_up_and_blank_without_allocation():
    assert percent_of(Decimal("49.00"), Decimal("400.00")) == Decimal("12.3")   # 12.25 -> 12.3, not 12.2
    assert percent_of(Decimal("333.55"), Decimal("900.00")) == Decimal("37.1")
    assert percent_of(Decimal("1500.00"), Decimal("1000.00")) == Decimal("150.0")   # over: not clamped
    assert percent_of(Decimal("0"), Decimal("1.00")) == Decimal("0.0")
    assert percent_of(Decimal("5.00"), Decimal("0")) is None and percent_of(Decimal("5.00"), Decimal("-1")) is None


def test_percent_spent_and_grand_totals_per_currency(app, world):
    evil, usd, us1 = _money_world(world)
    page = login(app.test_client(), "viewer").get("/funds/?period=FY2026&expand=all").data.decode()
    head = re.search(r"<thead[^>]*>(.*?)</thead>", page, re.S).group(1)
    assert re.findall(r"<th[^>]*>([^<]+)</th>", head) == ["Ledger / fund", "Allocated", "Encumbered", "Expended",
                                                          "Available", "% spent", "Spent"]
    # (123.45 + 210.10) / 900.00 = 37.06 %
    assert _cells(_row(page, f"row-F{world.shared.id}"))[:5] == ["900.00", "210.10", "123.45", "566.45", "37.1%"]
    assert _cells(_row(page, f"row-F{world.books.id}"))[:5] == ["900.00", "210.10", "123.45", "566.45", "37.1%"]
    assert _cells(_row(page, f"row-F{world.fund_a.id}"))[:5] == ["1,100.00", "0.00", "0.00", "1,100.00", "0.0%"]
    assert _cells(_row(page, f"row-F{evil.id}"))[:6] == ["0.00", "0.00", "0.00", "0.00", "", "—"], "blank, no bar"
    assert _cells(_row(page, f"row-F{us1.id}"))[:5] == ["200.00", "0.00", "50.00", "150.00", "25.0%"]
    # GEN + LEDA + LEDB in EUR; USDL alone: never added together
    eur, dollars = _row(page, "total-EUR"), _row(page, "total-USD")
    assert _cells(eur)[:5] == ["3,000.00", "210.10", "123.45", "2,666.45", "11.1%"]
    assert _cells(dollars)[:5] == ["200.00", "0.00", "50.00", "150.00", "25.0%"]
    assert "Total EUR" in eur and "3 ledgers · EUR" in eur and "1 ledger · USD" in dollars
    assert "3,200.00" not in page
    assert "% spent = (expended + encumbered) ÷ allocated" in page


def test_a_library_scoped_user_totals_only_what_they_see(app, world):
    _money_world(world)
    page = login(app.test_client(), "viewer-b").get("/funds/?period=FY2026").data.decode()
    # GEN (SHARED 900.00) + LEDB (1,000.00); LEDA is library A's; one currency: no currency in the label
    assert _cells(_row(page, "total-EUR"))[:5] == ["1,900.00", "210.10", "123.45", "1,566.45", "17.6%"]
    assert re.search(r'<th scope="row" class="name">[^<]*<span class="toggle-spacer"></span> Total <span', page) is None
    assert "2 ledgers · EUR" in _row(page, "total-EUR")


def test_spent_bar_has_its_figures_as_title_and_accessible_name(app, world):
    _money_world(world)
    admin = world.user("admin")
    funds.post(admin, world.fund_b, "encumbrance", Decimal("1000.00"), reference="POL-2")
    world.fund_b.overexpenditure_allowed, world.fund_b.overexpenditure_limit = True, Decimal("500.00")
    db.session.flush()
    funds.post(admin, world.fund_b, "expenditure", Decimal("20.00"), reference="INV-3")
    db.session.commit()
    client = login(app.test_client(), "viewer")
    page = client.get("/funds/?period=FY2026&expand=all").data.decode()
    words = ("37.1% spent: expended 123.45 EUR, encumbered 210.10 EUR of 900.00 EUR allocated; "
             "available 566.45 EUR")
    svg = re.search(r"<svg[^>]*>.*?</svg>", _row(page, f"row-F{world.shared.id}"), re.S).group(0)
    assert f'role="img" aria-label="{words}"' in svg and f"<title>{words}</title>" in svg
    over = re.search(r"<svg[^>]*>.*?</svg>", _row(page, f"row-F{world.fund_b.id}"), re.S).group(0)
    assert 'class="bar over"' in over
    assert ("102.0% spent: expended 20.00 EUR, encumbered 1,000.00 EUR of 1,000.00 EUR allocated; "
            "available -20.00 EUR, over the allocation</title>") in over
    # the fund's own page: the same words
    assert f'aria-label="{words}"' in client.get(f"/funds/{world.shared.id}").data.decode()


def test_the_chosen_columns_are_the_dashboard_columns(app, world):
    _money_world(world)
    fundmgr = world.user("fundmgr")
    show_columns(fundmgr, "fund_dashboard", ["available", "fund", "library", "transfers", "expended_pct"])
    client = login(app.test_client(), "fundmgr")
    page = client.get("/funds/?period=FY2026&expand=all").data.decode()
    head = re.search(r"<thead[^>]*>(.*?)</thead>", page, re.S).group(1)
    assert re.findall(r"<th[^>]*>([^<]+)</th>", head) == ["Ledger / fund", "Available", "Library",
                                                          "Net transfers (in allocated)", "% expended"]
    assert _cells(_row(page, f"row-F{world.shared.id}")) == ["566.45", "Institution", "-100.00", "13.7%", "AllocateTransfer"]
    assert _cells(_row(page, f"row-F{world.fund_a.id}"))[:4] == ["1,100.00", "LIBA", "100.00", "0.0%"]
    assert _cells(_row(page, f"row-L{world.gen.id}"))[:3] == ["566.45", "Institution", "-100.00"]
    assert _cells(_row(page, "total-EUR"))[:4] == ["2,666.45", "", "0.00", "4.1%"], "transfers net out"
    assert "<svg" not in _row(page, f"row-F{world.shared.id}")
    form = client.get(f"/funds/{world.shared.id}/allocate", headers=HX).data.decode()
    assert '<td colspan="6">' in form, "the form row spans the tree, the 4 chosen columns and the actions"


def test_money_moved_updates_the_grand_total_too(app, world):
    client = login(app.test_client(), "fundmgr")
    resp = client.post(f"/funds/{world.shared.id}/allocate",
                       data={"amount": "250.00", "reference": "R-9", "form_token": new_form_token()},
                       headers={**HX, "HX-Current-URL": f"http://x/funds/?period=FY2026&open=L{world.gen.id}"})
    total = re.search(r'<tr id="total-EUR" class="total" hx-swap-oob="true">(.*?)</tr>', resp.data.decode(), re.S)
    assert total and _cells(total.group(1))[:4] == ["3,250.00", "0.00", "0.00", "3,250.00"]


def test_dashboard_export_is_the_whole_tree_typed_and_inert(app, world):
    evil, usd, us1 = _money_world(world)
    viewer = world.user("viewer")
    show_columns(viewer, "fund_dashboard")
    client = login(app.test_client(), "viewer")
    page = client.get("/funds/?period=FY2026").data.decode()   # collapsed: the export has every row anyway
    tree_rows = sum(1 for root in build_tree(viewer, world.period) for _ in root.walk())
    assert tree_rows == 4 + 6 and f"Export all {tree_rows} ledgers and funds" in page
    links = [u.replace("&amp;", "&") for u in re.findall(r'href="([^"]*/funds/export\.(?:csv|xlsx)[^"]*)"', page)]
    assert links == ["/funds/export.csv?period=FY2026", "/funds/export.xlsx?period=FY2026"]

    resp = client.get(links[1])
    assert re.fullmatch(r'attachment; filename="funds-FY2026-\d{4}-\d{2}-\d{2}\.xlsx"', resp.headers["Content-Disposition"])
    rows = _sheet(resp)
    header, body = rows[0], rows[1:]
    assert header == ("Level", "Parent", "Code", "Name", "Type", "Fund type", "Library", "Status", "Currency",
                      "Allocated", "Net transfers (in allocated)", "Encumbered", "Expended", "Available",
                      "% spent", "% expended")
    assert len(body) == tree_rows
    by_code = {r[2]: r for r in body}
    assert [r[2] for r in body] == ["GEN", "BOOKS", "SHARED", "EVIL", "LEDA", "A-BKS", "LEDB", "B-BKS", "USDL", "US-1"]
    assert by_code["SHARED"] == (2, "BOOKS", "SHARED", "Shared books", "Allocated fund", None, "Institution", "active",
                                 "EUR", 900, -100, 210.1, 123.45, 566.45, 37.1, 13.7)
    assert by_code["GEN"][:5] == (0, None, "GEN", "General", "Ledger") and by_code["GEN"][9:14] == (900, -100, 210.1, 123.45, 566.45)
    assert by_code["A-BKS"][6] == "LIBA" and by_code["A-BKS"][10] == 100
    assert by_code["US-1"][8:] == ("USD", 200, 0, 0, 50, 150, 25, 25)
    assert by_code["EVIL"][3] == "'" + HOSTILE_NAME and by_code["EVIL"][14:] == (None, None), "inert; blank percent"
    assert all(isinstance(r[9], (int, float)) and isinstance(r[14] or 0, (int, float)) for r in body)

    text = list(csv.reader(io.StringIO(client.get(links[0]).data.decode("utf-8-sig"), newline="")))
    assert tuple(text[0]) == header and len(text) == 1 + tree_rows
    shared = next(r for r in text if r[2] == "SHARED")
    assert shared[9:] == ["900.00", "-100.00", "210.10", "123.45", "566.45", "37.1", "13.7"]
    assert next(r for r in text if r[2] == "EVIL")[3] == "'" + HOSTILE_NAME


def test_dashboard_export_of_a_library_scoped_user_has_only_their_funds(app, world):
    _money_world(world)
    client = login(app.test_client(), "viewer-a")
    rows = _sheet(client.get("/funds/export.xlsx?period=FY2026"))
    assert rows[0] == ("Level", "Parent", "Code", "Name", "Currency", "Allocated", "Encumbered", "Expended",
                       "Available", "% spent"), "the default columns"
    codes = [r[2] for r in rows[1:]]
    page = client.get("/funds/?period=FY2026&expand=all").data.decode()
    shown = re.findall(r'<tr id="row-[LF]\d+"[^>]*>\s*<th[^>]*>.*?<span class="code">([^<]+)</span>', page, re.S)
    assert codes == shown and "LEDA" in codes and "A-BKS" in codes
    assert not {"LEDB", "B-BKS"} & set(codes)
    assert len(list(csv.reader(io.StringIO(client.get("/funds/export.csv").data.decode("utf-8-sig"))))) == 1 + len(codes)
