"""The demo's vendors have their order channels set, so its sent POs made letters: by e-mail, by EDI
to the demo's local folder, and to print."""
import pytest

from app.extensions import db
from app.org.models import Institution, Library
from app.outgoing.models import VendorMessage
from app.vendors.models import Vendor

pytestmark = [pytest.mark.parametrize("backend", ["sqlite"], indirect=True), pytest.mark.committing]


def test_the_demo_sends_letters_through_each_channel(app, tmp_path):
    runner = app.test_cli_runner()
    counts = []
    for _ in range(2):   # idempotent
        db.session.commit()
        result = runner.invoke(args=["demo", "--erp-dir", str(tmp_path / "erp")])
        assert result.exit_code == 0, result.output
        counts.append(db.session.scalar(db.select(db.func.count(VendorMessage.id))
                                        .where(VendorMessage.vendor_id.is_not(None))))   # letters, not notices
    assert counts == [7, 7], "five POs sent (HARRASS twice), one cancellation and the payment notice of the " \
        "paid demo invoice; the second run made no more"
    institution = Institution.current()
    assert institution.address and institution.billing_address and institution.email and institution.edi_id
    assert all(lib.address for lib in db.session.scalars(db.select(Library)))
    channels = {v.code: v.order_channel for v in db.session.scalars(db.select(Vendor))}
    assert [channels[c] for c in ("HARRASS", "COUTTS", "EBSCO", "TAX")] == ["email", "edi", "print", "none"]
    harrass = db.session.scalar(db.select(Vendor).filter_by(code="HARRASS"))
    assert {r for c in harrass.contacts for r in c.role_list} >= {"order", "payment"}

    made = {(m.vendor.code, m.kind): m for m in db.session.scalars(db.select(VendorMessage)
                                                                   .where(VendorMessage.vendor_id.is_not(None)))}
    assert made[("HARRASS", "po")].to_address == "orders@harrass.example"
    assert made[("COUTTS", "po")].to_address == "Demo ERP folder: edi/coutts/orders"
    assert made[("COUTTS", "po_cancellation")].channel == "edi", "the cancelled demo line was sent first"
    assert made[("EBSCO", "po")].channel == "print"
    assert made[("COUTTS", "payment_notice")]   # the demo's paid invoice
    assert all(m.status == "queued" for m in made.values()), [(k, m.last_error) for k, m in made.items()]
    assert (tmp_path / "erp" / "edi" / "coutts" / "orders").is_dir()
