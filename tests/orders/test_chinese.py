"""The orders pages in Chinese: a refusal names the statuses the seed's way, the history shows its
stored English labels and the services' own notes translated, and English stays as it was."""
from __future__ import annotations

from app.extensions import db
from app.orders.models import POLineEvent
from tests.helpers import login
from tests.orders.helpers import sent_line

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
HX = {"HX-Request": "true"}


def test_a_refusal_in_chinese_lists_the_statuses_that_allow_it(app, world, orders):
    pol = sent_line(world, world.user("admin"), orders.eur)
    client = login(app.test_client(), "buyer")
    zh = client.post(f"/orders/lines/{pol.number}/approve", headers={**ZH, **HX}).get_data(as_text=True)
    assert f"{pol.number} 的状态为已发送：不能批准。一次性订单行仅在以下状态下允许此操作：复核中、已推迟。" in zh
    en = client.post(f"/orders/lines/{pol.number}/approve", headers=HX).get_data(as_text=True)
    assert (f"{pol.number} is Sent: you cannot approve it. A one-time PO line allows this only when In Review, "
            "Deferred.") in en


def test_the_history_stores_english_and_shows_chinese(app, world, orders):
    pol = sent_line(world, world.user("admin"), orders.eur)
    sent = db.session.scalar(db.select(POLineEvent).filter_by(po_line_id=pol.id, action="send"))
    assert (sent.old_value, sent.new_value, sent.note) == ("Auto Packaging", "Sent", f"with {pol.po.number}")
    client = login(app.test_client(), "buyer")
    page = client.get(f"/orders/lines/{pol.number}?tab=history", headers=ZH).get_data(as_text=True)
    assert '<span class="old">自动打包</span> → <span class="new">已发送</span>' in page
    assert f"随 {pol.po.number} 发送" in page and "<th>操作人</th>" in page


def test_the_line_page_and_its_actions_in_chinese(app, world, orders):
    pol = sent_line(world, world.user("admin"), orders.eur)
    client = login(app.test_client(), "buyer")
    page = client.get(f"/orders/lines/{pol.number}", headers=ZH).get_data(as_text=True)
    for text in ("订单行", "采购订单", "供应商", "净价", "经费", "关闭", "已发送"):
        assert text in page, text
    claims = client.get("/orders/claims", headers=ZH).get_data(as_text=True)
    assert "<h1>催缺</h1>" in claims
