"""Manage column display: a user's choice of columns (which, in which order) is remembered per list,
the list shows exactly those, the export writes exactly those (each amount with its currency), the
column that links to the row cannot be hidden, and the defaults come back on reset."""
from __future__ import annotations

import csv
import io
import re

from app import list_columns
from app.extensions import db
from tests.helpers import login
from tests.orders.helpers import line

URL = "/me/columns/po_lines"
HX = {"HX-Request": "true"}


def _headers(html: str) -> list[str]:
    head = re.search(r'<table class="data pol-list">\s*<thead[^>]*>(.*?)</thead>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>|[↑↓]", "", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


def _csv_header(client) -> list[str]:
    resp = client.get("/orders/lines/export.csv")
    assert resp.status_code == 200
    return next(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))


def _post(client, order, show, **more):
    return client.post(URL, data={"order": order, "show": show, "next": "/orders/lines/?q=x", **more}, headers=HX)


def test_the_list_and_its_export_show_the_chosen_columns_in_the_chosen_order(app, world, orders):
    line(world, world.user("admin"), orders.usd, title="Atlas", price="12.50")
    client = login(app.test_client(), "viewer")
    table = list_columns.TABLES["po_lines"]
    defaults = [c.header for c in table.columns.all if c.shown]
    assert _headers(client.get("/orders/lines/").data.decode()) == defaults
    assert "ISBN" not in defaults and "Currency" not in defaults

    order = [c.key for c in table.columns.all]
    resp = _post(client, order, ["number", "isbn", "net_price", "title"])
    assert resp.status_code == 200 and resp.headers["HX-Trigger"] == "columnsChanged"
    assert 'id="columns-po_lines"' in resp.data.decode()
    html = client.get("/orders/lines/").data.decode()
    assert _headers(html) == ["PO line", "Title", "ISBN", "Net price"], "the columns' order, not the ticks'"
    assert "12.50" in html and "USD" in html
    assert _csv_header(client) == ["PO line", "Title", "ISBN", "Currency", "Net price"], "an amount brings its currency"

    # Moving Net price up twice puts it after PO line; the other user's lists are untouched.
    chosen = ["number", "title", "isbn", "net_price"]
    _post(client, chosen + ["author"], chosen, move="net_price:-1")
    _post(client, ["number", "title", "net_price", "isbn"], chosen, move="net_price:-1")
    assert _headers(client.get("/orders/lines/").data.decode()) == ["PO line", "Net price", "Title", "ISBN"]
    other = login(app.test_client(), "buyer")
    assert _headers(other.get("/orders/lines/").data.decode()) == defaults

    # Reset forgets the choice.
    _post(client, order, [], reset="1")
    assert _headers(client.get("/orders/lines/").data.decode()) == defaults
    assert db.session.get(list_columns.ListColumns, (world.user("viewer").id, "po_lines")) is None


def test_the_linking_column_stays_and_unknown_columns_are_ignored(app, world, orders):
    client = login(app.test_client(), "viewer")
    _post(client, ["title", "nonsense", "status", "number"], ["title", "nonsense", "status"])
    assert _headers(client.get("/orders/lines/").data.decode()) == ["PO line", "Title", "Status"]
    row = db.session.get(list_columns.ListColumns, (world.user("viewer").id, "po_lines"))
    assert row.keys == "number,title,status"


def test_an_unknown_list_is_404_and_a_plain_form_goes_back_only_within_the_site(app, world):
    client = login(app.test_client(), "viewer")
    assert client.post("/me/columns/nothing", data={"show": ["x"]}).status_code == 404
    back = client.post(URL, data={"order": ["number", "title"], "show": ["title"], "next": "/orders/lines/?q=x"})
    assert back.status_code == 302 and back.headers["Location"].endswith("/orders/lines/?q=x")
    for hostile in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        away = client.post(URL, data={"order": ["number"], "show": ["number"], "next": hostile})
        assert away.status_code == 302 and "evil" not in away.headers["Location"]


def test_the_chooser_lists_shown_columns_first_then_the_hidden_ones(app, world):
    client = login(app.test_client(), "viewer")
    _post(client, ["status", "number", "title"], ["status", "number"])
    html = client.get("/orders/lines/").data.decode()
    menu = re.search(r'<details class="columns-menu" id="columns-po_lines".*?</details>', html, re.S).group(0)
    keys = re.findall(r'name="order" value="([^"]+)"', menu)
    assert keys[:2] == ["status", "number"] and "title" in keys[2:] and len(keys) == len(
        list_columns.TABLES["po_lines"].columns.all)
    ticked = re.findall(r'name="show" value="([^"]+)" checked', menu)
    assert ticked == ["status", "number"]
