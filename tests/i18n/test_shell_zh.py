"""The shell in Chinese: WTForms' own messages on a refused form, error pages, notifications shown in
their reader's language and mailed in their recipient's, export headers, and the English kept where
programs read it (the API, the stored notification)."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.notifications import services as notes
from app.notifications.models import Notification
from app.outgoing.models import VendorMessage
from app.text import T
from tests.helpers import login

CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}


def test_a_refused_form_says_wtforms_messages_in_chinese(app, world):
    client = login(app.test_client(), "admin")
    resp = client.post("/admin/libraries", data={"code": "", "name": ""}, headers=CHINESE)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "该字段是必填字段。" in page and "This field is required." not in page
    assert "添加图书馆" in page and '<html lang="zh-Hans">' in page


def test_the_header_and_error_pages_in_chinese(app, world):
    client = login(app.test_client(), "admin")
    page = client.get("/admin", headers=CHINESE).get_data(as_text=True)
    assert "跳到正文" in page and "退出登录" in page and "系统管理" in page
    resp = client.get("/no/such/page", headers=CHINESE)
    assert resp.status_code == 404 and "未找到。" in resp.get_data(as_text=True)
    english = client.get("/no/such/page")
    assert "Not found." in english.get_data(as_text=True)


def test_a_notification_reads_in_its_readers_language_and_is_mailed_in_its_recipients(app, world):
    fm = world.user("fundmgr")
    fm.email, fm.language = "fm@lib.example", "zh_Hans"
    title = T("Invoice %(number)s of %(vendor)s waits for your approval", number="INV-1", vendor="EURO")
    [n] = notes.notify("approval_waiting", [fm], title, body=["Euro Books, 100.00 EUR.", T("Reason: %(reason)s",
                                                                                          reason="late")])
    db.session.commit()
    assert n.title == "Invoice INV-1 of EURO waits for your approval", "the English is kept"
    assert n.body == "Euro Books, 100.00 EUR.\n\nReason: late"
    mail = db.session.scalar(select(VendorMessage).where(VendorMessage.kind == "notice"))
    assert mail.subject == "EURO 的发票 INV-1 等待您批准", "mailed in the recipient's language"
    assert "原因：late" in mail.body_html

    client = login(app.test_client(), "fundmgr")
    page = client.get("/notifications").get_data(as_text=True)
    assert "EURO 的发票 INV-1 等待您批准" in page and "有发票等待我批准" in page
    fm = world.user("fundmgr")
    fm.language = "en"
    db.session.commit()
    page = client.get("/notifications").get_data(as_text=True)
    assert "Invoice INV-1 of EURO waits for your approval" in page
    api = client.get("/api/v1/notifications", headers=CHINESE)
    if api.status_code == 200:
        assert "Invoice INV-1 of EURO waits for your approval" in api.get_data(as_text=True)
    assert db.session.scalar(select(Notification.title_text).where(Notification.id == n.id))["id"].startswith("Invoice")


def test_export_headers_follow_the_readers_language(app, world):
    """A column's header is a Text (app.exports.Column): the export writes it in the reader's language."""
    client = login(app.test_client(), "admin")
    chinese = client.get("/funds/export.csv", headers=CHINESE).get_data(as_text=True).splitlines()[0]
    english = client.get("/funds/export.csv").get_data(as_text=True).splitlines()[0]
    assert "代码,名称,币种" in chinese and "Code,Name,Currency" in english
