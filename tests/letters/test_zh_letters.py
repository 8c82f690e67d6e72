"""Letters in Chinese: the built-in Chinese templates, amounts and dates written the Chinese way, and
a PDF whose Chinese text reads back (pypdf) and is drawn with an embedded CJK font (Noto CJK), not
with boxes of a Latin font."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from app.letters import KINDS, PARTS
from app.letters.data import OrderLetter, OrderLine, PaidInvoice, Party, PaymentNotice, order_context, payment_context
from app.letters.pdf import render_pdf
from app.letters.render import default_source, letter_language, render_letter, validate_template

INSTITUTION = Party("北京大学图书馆", ("颐和园路 5 号", "100871 北京"), "acq@lib.example")
VENDOR = Party("中国图书进出口公司", ("工体东路 16 号", "100020 北京"))


def _letter(language: str = "zh_Hans", **kw) -> OrderLetter:
    lines = (OrderLine(number="POL-0001", title="红楼梦", author="曹雪芹", isbn="9787020002207", quantity=2,
                       list_price=Decimal("1234.50"), net_price=Decimal("2469.00")),
             OrderLine(number="POL-0002", title="A Latin title", quantity=1, list_price=Decimal("10"),
                       net_price=Decimal("10.00")))
    return OrderLetter(po_number="PO-000777", letter_date=date(2026, 12, 5), currency="CNY", institution=INSTITUTION,
                       vendor=VENDOR, lines=lines, ordered_on=date(2026, 11, 30), language=language, **kw)


def _pdf(pdf: bytes) -> tuple[str, set[str]]:
    """The PDF's text (white space removed: CJK text has none) and the names of its embedded fonts."""
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join("".join(page.extract_text().split()) for page in reader.pages)
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            fonts.add(str(font.get("/BaseFont", "")))
            for descendant in font.get("/DescendantFonts") or ():
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is not None and descriptor.get_object().get("/FontFile3", descriptor.get_object().get(
                        "/FontFile2")) is not None:
                    fonts.add(str(descendant.get_object()["/BaseFont"]) + " (embedded)")
    return text, fonts


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_has_chinese_parts_that_render_the_chinese_demo(kind):
    for part in PARTS:
        source = default_source(kind, part, "zh_Hans")
        assert source != default_source(kind, part, "en")
        assert validate_template(kind, part, source, "zh_Hans")


def test_a_language_without_letters_of_its_own_gets_the_english_ones():
    assert letter_language("fr") == letter_language(None) == "en" and letter_language("zh_Hans") == "zh_Hans"
    assert default_source("po", "subject", "fr") == default_source("po", "subject")


def test_a_chinese_letter_writes_amounts_and_dates_the_chinese_way():
    ctx = order_context(_letter())
    assert ctx["date"] == "2026年12月5日" and ctx["po"]["ordered_on"] == "2026年11月30日"
    assert ctx["lines"][0]["list_price"] == "1,234.50" and ctx["totals"]["net"] == "2,479.00"
    english = order_context(_letter("en"))
    assert english["date"] == "December 5, 2026" and english["totals"]["net"] == "2,479.00"
    assert order_context(_letter(""))["date"] == "December 5, 2026", "a letter without a language: English"
    assert order_context(_letter("en"), "zh_Hans")["date"] == "2026年12月5日", "the language given wins"


def test_a_chinese_po_letter_and_its_pdf_are_in_chinese_with_a_cjk_font():
    letter = render_letter("po", order_context(_letter()))
    assert letter.subject == "采购订单 PO-000777（北京大学图书馆）"
    assert "尊敬的中国图书进出口公司：" in letter.body_html and "2,479.00 CNY" in letter.body_html
    assert "此致" in letter.body_html and "Dear" not in letter.body_html
    text, fonts = _pdf(render_pdf(letter.pdf_html))
    for words in ("采购订单PO-000777", "日期：2026年12月5日", "订购日期：2026年11月30日", "红楼梦", "曹雪芹",
                  "中国图书进出口公司", "北京大学图书馆", "供应商", "送货地址", "合计（2个订单行）", "2,479.00CNY",
                  "第1页，共1页", "ALatintitle"):
        assert words in text, words
    assert any("CJK" in name and "(embedded)" in name for name in fonts), fonts


def test_an_english_letter_draws_chinese_names_with_the_cjk_font_too():
    letter = render_letter("po", order_context(_letter("en")))
    assert letter.subject == "Purchase order PO-000777 from 北京大学图书馆"
    text, fonts = _pdf(render_pdf(letter.pdf_html))
    assert "PurchaseorderPO-000777" in text and "红楼梦" in text and "中国图书进出口公司" in text
    assert any("CJK" in name for name in fonts) and any("DejaVu" in name for name in fonts), fonts


@pytest.mark.parametrize("kind, words", [
    ("po_cancellation", ("取消订单·采购订单PO-000777", "请取消以下订单行", "原因：不再需要")),
    ("claim", ("催缺·采购订单PO-000777", "我馆尚未收到以下文献", "预计到货")),
])
def test_the_cancellation_and_the_claim_in_chinese(kind, words):
    letter = render_letter(kind, order_context(_letter(reason="不再需要")))
    text, fonts = _pdf(render_pdf(letter.pdf_html))
    for w in words:
        assert w in text, w
    assert any("CJK" in name for name in fonts)


def test_a_chinese_payment_notice():
    notice = PaymentNotice(institution=INSTITUTION, vendor=VENDOR, letter_date=date(2026, 12, 5), currency="CNY",
                           payment_date=date(2026, 12, 4), voucher_number="V-9",
                           invoices=(PaidInvoice("发票-1", Decimal("12345.6"), date(2026, 11, 1)),), language="zh_Hans")
    letter = render_letter("payment_notice", payment_context(notice))
    assert letter.subject == "付款通知 V-9（北京大学图书馆）"
    assert "我馆已于 2026年12月4日 支付 12,345.60 CNY" in letter.body_html
    text, _ = _pdf(render_pdf(letter.pdf_html))
    for w in ("付款通知V-9", "付款日期：2026年12月4日", "发票-1", "2026年11月1日", "总金额（1张发票）12,345.60CNY"):
        assert w in text, w
