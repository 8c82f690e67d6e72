"""Letters in the vendor's language: a vendor set to Chinese gets its order in Chinese (the built-in
Chinese templates, or the administrator's Chinese ones), others in the institution's default; the
language is kept with the letter's data, and an administrator's templates are kept per language."""
from __future__ import annotations

from io import BytesIO

import pytest
from pypdf import PdfReader

from app.extensions import db
from app.letters.data import demo_order
from app.outgoing import delivery, templates
from app.outgoing.models import LetterTemplate
from tests.outgoing.conftest import queued
from tests.outgoing.helpers import make_channels, messages, sent


@pytest.fixture
def ch(world, tmp_path):
    return make_channels(world, tmp_path)


def pdf_text(msg) -> str:
    [part] = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
    return "".join("".join(p.extract_text() for p in PdfReader(BytesIO(part.get_content())).pages).split())


def test_a_chinese_vendor_gets_its_order_in_chinese_the_others_in_the_default(app, world, ch, smtp):
    ch.mail.language = "zh_Hans"
    db.session.commit()
    sent(world, world.user("buyer"), ch.mail, title="红楼梦")
    [message] = messages()
    assert message.payload["letter"]["language"] == "zh_Hans", "kept with the letter's data"
    assert delivery.deliver_due().sent == 1
    [msg] = smtp.messages
    assert msg["Subject"].startswith("采购订单 ") and "尊敬的Mail Books：" in msg.get_body(("plain",)).get_content()
    text = pdf_text(msg)
    assert "红楼梦" in text and "采购订单" in text and "供应商" in text

    ch.mail.language = None
    db.session.commit()
    sent(world, world.user("buyer"), ch.mail, title="Plain book")
    assert delivery.deliver_due().sent == 1
    assert smtp.messages[-1]["Subject"].startswith("Purchase order ")

    app.config["DEFAULT_LANGUAGE"] = "zh_Hans"
    sent(world, world.user("buyer"), ch.mail, title="默认语言")
    assert messages()[-1].payload["letter"]["language"] == "zh_Hans", "no language: the institution's"


def test_a_letter_stored_without_a_language_takes_the_vendors(app, world, orders, smtp):
    orders.eur.language = "zh_Hans"
    m = queued(orders.eur)
    m.payload = {**m.payload, "letter": {k: v for k, v in m.payload["letter"].items() if k != "language"}}
    db.session.commit()
    assert delivery.deliver(m.id).status == "sent"
    assert smtp.messages[0]["Subject"].startswith("采购订单 PO-000001")


def test_the_administrators_templates_are_kept_per_language(app, world, orders, smtp):
    admin = world.user("admin")
    templates.save(admin, "po", {"subject": "Order {{ po.number }}"}, True)
    templates.save(admin, "po", {"subject": "订单 {{ po.number }}"}, True, language="zh_Hans")
    db.session.commit()
    assert templates.sources("po")["subject"] == "Order {{ po.number }}"
    assert templates.sources("po", "zh_Hans")["subject"] == "订单 {{ po.number }}"
    assert "body" not in templates.sources("po", "zh_Hans"), "parts left as built-in stay built-in"
    queued(orders.eur, letter=demo_order(language="zh_Hans"))
    queued(orders.usd)
    delivery.deliver_due()
    assert sorted(msg["Subject"] for msg in smtp.messages) == ["Order PO-000001", "订单 PO-000001"]

    templates.reset(admin, "po", "zh_Hans")
    assert templates.sources("po", "zh_Hans") == {} and templates.sources("po") != {}
    templates.set_active(admin, "po", False)
    assert not templates.is_active("po")
    assert {row.language: row.active for row in db.session.scalars(db.select(LetterTemplate))} == \
        {"en": False, "zh_Hans": False}, "one switch for every language"
    [(kind, _label, active, rows)] = [k for k in templates.all_kinds() if k[0] == "po"]
    assert not active and set(rows) == {"en", "zh_Hans"} and templates.is_changed(rows["en"])
    assert not templates.is_changed(rows["zh_Hans"])


def test_the_chinese_preview_uses_chinese_demo_data(app):
    letter = templates.preview("po", {}, "zh_Hans")
    assert letter.subject == "采购订单 PO-000001（示例大学图书馆）" and "示例题名 1" in letter.pdf_html
    assert templates.check("po", {"subject": "{{ nope }}"}, "zh_Hans")["subject"].line == 1


def test_the_editor_edits_each_languages_template(app, world):
    from app.letters.render import default_source
    from tests.helpers import login
    client = login(app.test_client(), "admin")
    page = client.get("/admin/letters/po?language=zh_Hans").data.decode()
    assert "尊敬的{{ vendor.name }}：" in page and "示例大学图书馆" in page, "the Chinese template, Chinese demo"
    page = client.get("/admin/letters/po", headers={"Accept-Language": "zh-CN"}).data.decode()
    assert "尊敬的{{ vendor.name }}：" in page, "opens on the reader's language"
    assert "Dear {{ vendor.name }}," in client.get("/admin/letters/po").data.decode()

    data = {part: default_source("po", part, "zh_Hans") for part in ("subject", "body", "pdf")}
    resp = client.post("/admin/letters/po?language=zh_Hans", data=dict(data, subject="订单 {{ po.number }}", active="y"))
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/letters/po?language=zh_Hans")
    assert templates.sources("po", "zh_Hans") == {"subject": "订单 {{ po.number }}"} and templates.sources("po") == {}
    resp = client.post("/admin/letters/po/preview?language=zh_Hans", data=dict(data, body="<p>{{ po.number }"))
    assert "line 1" in resp.data.decode() and "正文" not in resp.data.decode(), "an English page, English errors"
    page = client.get("/admin/letters").data.decode()
    assert page.count("Built-in") == 7 and "Changed " in page, "4 kinds × 2 languages, one changed"
    assert client.post("/admin/letters/po/reset?language=zh_Hans").status_code == 302
    assert templates.sources("po", "zh_Hans") == {}
