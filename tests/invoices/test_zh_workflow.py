"""The invoicing workflow of seed 003 in Chinese: an invoice from a PO (its lines, the VAT question),
save and continue, approval, waiting for payment, the payment that closes it, back to review, and its
history, each page with the seed's terms and no English left in what the invoice pages write (the
header and menus are the shell's, checked by tests/i18n)."""
from __future__ import annotations

from lxml import html as lxml_html

from app.extensions import db
from app.idempotency import new_form_token
from app.invoices import settings
from app.invoices.models import Invoice, InvoiceEvent
from tests.helpers import login
from tests.i18n.leftovers import data_words, english_left
from tests.invoices.forms.test_forms import _po_with_two_lines, form_values
from tests.invoices.helpers import invoice

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
# Written by code other parts translate (the date fields of app.forms_util), left out until they do.
OTHERS = {"A date as YYYY-MM-DD, e.g. 2026-12-31"}
HX = {"HX-Request": "true"}


def _main(page: str) -> str:
    """The page's own content (#main, or the fragment), without the shell around it."""
    doc = lxml_html.fromstring(page)
    found = doc.xpath('//*[@id="main"]')
    return lxml_html.tostring(found[0], encoding="unicode") if found else page


def _left(page: str) -> list[str]:
    return [piece for piece in english_left(_main(page), data_words(db.session, db.metadata)) if piece not in OTHERS]


def _invoice(number: str) -> Invoice:
    db.session.expire_all()
    return db.session.scalar(db.select(Invoice).where(Invoice.number == number))


def test_the_whole_invoicing_workflow_in_chinese(app, world, vendors):
    settings.update(world.user("admin"), {"invoice_skip_erp": True})   # approved: straight to Waiting for Payment
    po, one, two = _po_with_two_lines(world, vendors.liable)
    db.session.commit()
    operator = login(app.test_client(), "invoicer")
    manager = login(app.test_client(), "invmanager")

    page = operator.get(f"/invoices/new?po={po.number}", headers=ZH).data.decode()
    assert f"从 {po.number} 新建发票" in page and "保存并继续" in page and "订单行" in page and "总金额" in page
    assert "提前支付" in page and "内部复制" in page and "所有者" in page
    assert _left(page) == []

    values = form_values(page)
    values.update({"number": "ZH-1", "invoice_date": "2026-03-02", "then": "continue"})
    asked = operator.post(f"/invoices/new?po={po.number}", data=values, headers={**ZH, **HX})
    dialog = asked.data.decode()
    assert asked.status_code == 409 and "确认增值税" in dialog and "须缴纳增值税" in dialog and "是，保存" in dialog
    assert _left(dialog) == []

    resp = operator.post(f"/invoices/new?po={po.number}", data={**values, "confirm": "yes"}, headers=ZH)
    assert resp.status_code == 302
    inv = _invoice("ZH-1")
    assert inv.status == "in_approval", inv.review_problems
    shown = operator.get(f"/invoices/{inv.id}", headers=ZH).data.decode()
    assert "发票 ZH-1 已创建：状态为批准中。" in shown and "批准中" in shown
    assert _left(shown) == []

    approved = manager.post(f"/invoices/{inv.id}/approve", data={"form_token": new_form_token()},
                            headers={**ZH, **HX}).data.decode()
    assert "发票 ZH-1 已批准" in approved and "等待付款" in approved and "记录付款并关闭" in approved
    assert _left(approved) == []
    assert _invoice("ZH-1").status == "waiting_for_payment"

    tasks = operator.get("/invoices/tasks/payment", headers=ZH).data.decode()
    assert "任务列表：等待付款" in tasks and "ZH-1" in tasks and _left(tasks) == []

    paid = operator.post(f"/invoices/{inv.id}/payment", headers={**ZH, **HX}, data={
        "voucher_number": "V-1", "payment_date": "2026-03-20", "amount": "190.00", "form_token": new_form_token()})
    text = paid.data.decode()
    assert paid.status_code == 200 and "已记录发票 ZH-1 的付款（凭证 V-1）：状态为已关闭。" in text
    assert _left(text) == []

    refused = operator.post(f"/invoices/{inv.id}/send-back", headers={**ZH, **HX},
                            data={"reason": "", "form_token": new_form_token()})
    assert refused.status_code == 400 and "请说明原因" in refused.data.decode()
    back = operator.post(f"/invoices/{inv.id}/send-back", headers={**ZH, **HX},
                         data={"reason": "价格错误", "form_token": new_form_token()}).data.decode()
    assert "已返回审查：价格错误" in back and "复核中" in back and _left(back) == []

    history = operator.get(f"/invoices/{inv.id}?tab=history", headers=ZH).data.decode()
    for words in ("历史记录", "复核中", "批准中", "等待付款", "已关闭", "返回审查"):
        assert words in history, words
    assert _left(history) == []
    # what is stored stays English, whoever read or wrote it in Chinese
    stored = {(e.old_value, e.new_value) for e in db.session.scalars(
        db.select(InvoiceEvent).where(InvoiceEvent.invoice_id == inv.id, InvoiceEvent.field == "status"))}
    assert {("In Review", "In Approval"), ("In Approval", "Ready to be Paid"), ("Ready to be Paid", "Waiting for Payment"),
            ("Waiting for Payment", "Closed"), ("Closed", "In Review")} <= stored
    assert _invoice("ZH-1").alert == "Sent back to review: 价格错误"

    for tab in ("summary", "lines", "funds"):
        page = operator.get(f"/invoices/{inv.id}?tab={tab}", headers=ZH).data.decode()
        assert _left(page) == [], tab
    english = operator.get(f"/invoices/{inv.id}?tab=history").data.decode()
    assert "Sent back to review: 价格错误" in english and "Waiting for Payment" in english


def test_review_findings_and_refusals_in_chinese(app, world, vendors):
    inv = invoice(world, world.user("invoicer"), vendors.plain, amounts=("100.00",), total="90.00")
    operator = login(app.test_client(), "invoicer")
    resp = operator.post(f"/invoices/{inv.id}/process", headers={**ZH, **HX}, data={"form_token": new_form_token()})
    text = resp.data.decode()
    assert "发票 INV-1 仍处于复核中：有 1 个问题需要修正" in text
    assert "发票总金额 90.00 EUR 与其各行及费用之和 100.00 EUR 不符。" in text and _left(text) == []
    assert _invoice("INV-1").review_problems == ["The invoice total 90.00 EUR differs from its lines and charges, "
                                                 "100.00 EUR."], "stored in English"
    refused = login(app.test_client(), "invmanager").post(f"/invoices/{inv.id}/approve", headers={**ZH, **HX},
                                                           data={"form_token": new_form_token()})
    assert refused.status_code == 422 and "发票 INV-1 处于复核中：请先保存并继续。" in refused.data.decode()
    paid = operator.post(f"/invoices/{inv.id}/payment", headers={**ZH, **HX}, data={
        "voucher_number": "V-1", "payment_date": "2026-03-20", "amount": "90.00", "form_token": new_form_token()})
    assert paid.status_code == 422 and "发票 INV-1 的状态为复核中：您不能对其执行“记录付款”。只有在状态为准备付款或等待付款时才可以。" \
        in paid.data.decode()
    tasks = operator.get("/invoices/tasks/review", headers=ZH).data.decode()
    assert "发票总金额 90.00 EUR" in tasks and _left(tasks) == []
