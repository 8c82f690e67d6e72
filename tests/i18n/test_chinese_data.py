"""Chinese titles and names in the lists, on SQLite and PostgreSQL: a search finds a Chinese title by
a part of it, a list sorted by name or title is in pinyin order when the page is in Chinese (ICU's
``zh-x-icu`` on PostgreSQL, the ``zh_pinyin`` collation on SQLite) and in the database's own order
in English, and the CSV and XLSX exports keep the Chinese text as it was typed."""
from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from flask_babel import force_locale

from app.database import collation_for, pinyin_key
from app.extensions import db
from app.inventory import services as inv
from app.orders import services as os_
from app.vendors import services as vs
from tests.helpers import login
from tests.orders.helpers import line

pytestmark = pytest.mark.postgres

ZH = {"Accept-Language": "zh-CN"}
# In pinyin order: an, bei, chong (重庆: the reading of 重 in this word), ren, shang, xing, yin, zhong;
# in code point order 上 中 人 北 安 行 重 银 — nothing like it.
PINYIN = ["安徽出版集团", "北京图书公司", "重庆出版社", "人民出版社", "上海书店", "行知书店", "银行学会", "中华书局"]


def _positions(html: str, names: list[str]) -> list[str]:
    found = sorted((html.index(n), n) for n in names if n in html)
    assert len(found) == len(names), [n for n in names if n not in html]
    return [n for _, n in found]


@pytest.fixture
def chinese_vendors(world, backend):
    admin = world.user("admin")
    for n, name in enumerate(reversed(PINYIN)):   # codes in another order than the names
        vs.create_vendor(admin, f"ZH{n:02d}", vs.VendorFields(name=name, currency="CNY"))
    db.session.commit()


def test_the_database_has_the_collation(app, backend):
    assert collation_for(db.engine.dialect, "zh_Hans") == {"sqlite": "zh_pinyin", "postgresql": "zh-x-icu"}[backend]
    assert collation_for(db.engine.dialect, "en") is None


def test_pinyin_keys_sort_as_icu_does():
    shuffled = sorted(PINYIN + ["Alpha Books", "zebra Books", "2026 年鉴"])
    assert sorted(shuffled, key=pinyin_key) == ["2026 年鉴", *PINYIN, "Alpha Books", "zebra Books"]


def test_vendors_sorted_by_name_in_pinyin_order_when_the_page_is_chinese(app, world, chinese_vendors):
    client = login(app.test_client(), "admin")
    html = client.get("/vendors/?sort=name", headers=ZH).data.decode()
    assert _positions(html, PINYIN) == PINYIN
    assert _positions(client.get("/vendors/?sort=-name", headers=ZH).data.decode(), PINYIN) == PINYIN[::-1]
    with force_locale("zh_Hans"):
        names = [v.name for v in db.session.scalars(vs.vendors_query(sort="name")) if v.code.startswith("ZH")]
    assert names == PINYIN
    with force_locale("en"):   # English: the database's own order (code points on SQLite)
        names = [v.name for v in db.session.scalars(vs.vendors_query(sort="name")) if v.code.startswith("ZH")]
    assert names == sorted(PINYIN) or db.engine.dialect.name == "postgresql"


def test_po_lines_found_by_part_of_a_chinese_title_and_sorted_by_pinyin(app, world, chinese_vendors):
    buyer = world.user("buyer")
    vendor = vs.vendors_query(q="北京").limit(1)
    vendor = db.session.scalars(vendor).one()
    titles = ["红楼梦（校注本）", "三国演义", "西游记", "水浒传", "儒林外史"]   # hong, ru, san, shui, xi
    for title in titles:
        line(world, buyer, vendor, title=title, author="曹雪芹" if title.startswith("红") else "")
    db.session.commit()
    client = login(app.test_client(), "buyer")
    html = client.get("/orders/lines/?q=楼梦", headers=ZH).data.decode()
    assert "红楼梦（校注本）" in html and "西游记" not in html
    assert "红楼梦" in client.get("/orders/lines/?q=曹雪", headers=ZH).data.decode(), "by its author too"
    assert "西游记" not in client.get("/orders/lines/?q=曹雪", headers=ZH).data.decode()
    by_title = ["红楼梦（校注本）", "儒林外史", "三国演义", "水浒传", "西游记"]
    assert _positions(client.get("/orders/lines/?sort=title", headers=ZH).data.decode(), titles) == by_title
    assert _positions(client.get("/orders/lines/?sort=-title", headers=ZH).data.decode(), titles) == by_title[::-1]
    with force_locale("zh_Hans"):
        found = db.session.scalars(os_.po_lines_query(buyer, os_.LineFilter(q="游", sort="title"))).all()
    assert [p.title for p in found] == ["西游记"]


def test_records_found_and_sorted_by_a_chinese_title(app, world, backend):
    admin = world.user("admin")
    for title in ("中国通史", "阿Q正传", "边城"):
        inv.create_record(admin, inv.RecordFields(title=title))
    db.session.commit()
    with force_locale("zh_Hans"):
        assert [r.title for r in inv.search_records("正传").items] == ["阿Q正传"]
        titles = [r.title for r in inv.search_records("").items if r.title in ("中国通史", "阿Q正传", "边城")]
    assert titles == ["阿Q正传", "边城", "中国通史"]


def test_csv_and_xlsx_exports_keep_chinese_text(app, world, chinese_vendors):
    buyer = world.user("buyer")
    vendor = db.session.scalars(vs.vendors_query(q="中华书局")).one()
    line(world, buyer, vendor, title="红楼梦（校注本）", author="曹雪芹")
    db.session.commit()
    client = login(app.test_client(), "buyer")
    resp = client.get("/orders/lines/export.csv?q=红楼梦", headers=ZH)
    assert resp.status_code == 200 and resp.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert len(rows) == 2 and "红楼梦（校注本）" in rows[1] and "曹雪芹" in rows[1]
    resp = client.get("/orders/lines/export.xlsx?q=红楼梦", headers=ZH)
    sheet = openpyxl.load_workbook(io.BytesIO(resp.data), read_only=True).active
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row]
    assert "红楼梦（校注本）" in cells and "曹雪芹" in cells

    admin = login(app.test_client(), "admin")
    text = admin.get("/vendors/export.csv?q=书", headers=ZH).data.decode("utf-8-sig")
    for name in ("上海书店", "中华书局", "行知书店"):
        assert name in text
    sheet = openpyxl.load_workbook(io.BytesIO(admin.get("/vendors/export.xlsx?sort=name", headers=ZH).data),
                                   read_only=True).active
    names = [c for row in sheet.iter_rows(values_only=True) for c in row if c in PINYIN]
    assert names == PINYIN, "the export is in the list's order"
