"""Round trip with the invoice export job: export Ready-to-be-Paid invoices, read the exported
``payment_data`` files back, answer them with a PAID confirmation, import it: every invoice Closed."""
from datetime import date, timedelta

import pytest

from app.extensions import db
from app.integrations.formats.xml import parse
from app.invoices import services as ivs
from app.invoices.models import Invoice
from jobs import export_invoices
from tests.integrations.payment_import.helpers import confirmation, drop, run_import
from tests.invoices.helpers import invoice

PAYMENT_DATA_NS = "{http://com/exlibris/repository/acq/invoice/xmlbeans}"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_export_then_confirm_closes_every_invoice(app, world, vendors, other_vendor, erp):
    ids = []
    for n, vendor in enumerate([vendors.plain, vendors.plain, other_vendor]):
        inv = invoice(world, world.user("invoicer"), vendor, number=f"RT-{n}", amounts=("12.30",),
                      invoice_date=date(2026, 5, 1) + timedelta(days=n))
        ivs.process_invoice(world.user("invoicer"), inv)
        if inv.status == "in_approval":
            ivs.approve_invoice(world.user("invmanager"), inv)
        ids.append(inv.id)
    db.session.commit()
    run_id = export_invoices.run(app, "ERP")
    db.session.expire_all()
    assert all(db.session.get(Invoice, i).status == "waiting_for_payment" for i in ids), run_id

    records = []
    for path in sorted((erp.root / "invoices" / "out").glob("*.xml")):
        for n, el in enumerate(parse(path.read_bytes()).iter(PAYMENT_DATA_NS + "invoice")):
            def text(tag, el=el):
                return el.findtext(PAYMENT_DATA_NS + tag)
            amount = el.find(PAYMENT_DATA_NS + "invoice_amount")
            key = ({"unique_identifier": text("unique_identifier")} if n % 2 == 0 else
                   {"invoice_number": text("invoice_number"), "vendor_code": text("vendor_code")})
            records.append({**key, "payment_status": "PAID", "payment_voucher_number": f"RT{len(records)}",
                            "payment_voucher_date": "20260601",
                            "voucher_amount": (amount.findtext(PAYMENT_DATA_NS + "currency"),
                                               amount.findtext(PAYMENT_DATA_NS + "sum"))})
    assert len(records) == 3
    drop(erp.inbox, "answer.xml", confirmation(records, "prefix", seed=11))
    res = run_import(app)
    assert (res.run.records, res.run.records_failed) == (3, 0), res.text()
    closed = [db.session.get(Invoice, i) for i in ids]
    assert all(inv.status == "closed" and inv.voucher_number.startswith("RT") for inv in closed)
    assert not res.messages("warning"), res.text()
