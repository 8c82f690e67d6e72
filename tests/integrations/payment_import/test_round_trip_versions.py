"""Round trip in both XSD versions: the export job writes the profile's element set, each file
matches that version's XSD (and not the other's), reads back to the database's figures, and a
PAID confirmation built from it closes every invoice."""
from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.extensions import db
from app.integrations.formats import payment_data as pd
from app.integrations.formats.xml import parse, schema_errors
from app.invoices import services as ivs
from app.invoices.models import Invoice
from jobs import export_invoices
from tests.integrations.payment_import.helpers import confirmation, drop, run_import
from tests.invoices.helpers import invoice

P = "{%s}" % pd.NAMESPACE


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("version, other, created_len", [("current", "v1", 10), ("v1", "current", 8)])
def test_export_in_version_validate_read_back_and_confirm(app, world, vendors, other_vendor, erp, version, other,
                                                          created_len):
    erp.profile.section("export_invoices").xsd_version = version
    ids = []
    for n, vendor in enumerate([vendors.plain, other_vendor]):
        inv = invoice(world, world.user("invoicer"), vendor, number=f"V{version}-{n}", amounts=("12.30", "4.05"),
                      invoice_date=date(2026, 5, 1) + timedelta(days=n))
        ivs.process_invoice(world.user("invoicer"), inv)
        if inv.status == "in_approval":
            ivs.approve_invoice(world.user("invmanager"), inv)
        ids.append(inv.id)
    db.session.commit()
    export_invoices.run(app, "ERP")
    db.session.expire_all()
    assert all(db.session.get(Invoice, i).status == "waiting_for_payment" for i in ids)

    records = []
    files = sorted((erp.root / "invoices" / "out").glob("*.xml"))
    assert files
    for path in files:
        root = parse(path.read_bytes())
        assert schema_errors(root, pd.schema_name(version)) == [], path.name
        assert schema_errors(root, pd.schema_name(other)), path.name
        for el in root.iter(P + "invoice"):
            inv = db.session.query(Invoice).filter_by(erp_identifier=el.findtext(P + "unique_identifier")).one()
            assert el.findtext(P + "invoice_number") == inv.number
            assert Decimal(el.findtext(P + "invoice_amount/" + P + "sum")) == inv.total_amount
            assert el.findtext(P + "invoice_date") == inv.invoice_date.strftime("%m/%d/%Y")
            assert len(el.findtext(P + "invoice_ownered_entity/" + P + "creationDate")) == created_len
            funds = list(el.iter(P + "fund_info"))
            assert sum(Decimal(f.findtext(P + "amount/" + P + "sum")) for f in funds) == inv.total_amount
            assert all((f.find(P + "local_amount") is None) == (version == "v1") for f in funds)
            assert (el.find(P + "prepaid_ind") is not None) == (version == "v1")
            assert (el.find(P + "number_of_attachments") is None) == (version == "v1")
            amount = el.find(P + "invoice_amount")
            records.append({"unique_identifier": el.findtext(P + "unique_identifier"), "payment_status": "PAID",
                            "payment_voucher_number": f"VV{len(records)}", "payment_voucher_date": "20260601",
                            "voucher_amount": (amount.findtext(P + "currency"), amount.findtext(P + "sum"))})
    assert len(records) == 2
    drop(erp.inbox, "answer.xml", confirmation(records, "default", seed=3))
    res = run_import(app)
    assert (res.run.records, res.run.records_failed) == (2, 0), res.text()
    assert all(db.session.get(Invoice, i).status == "closed" for i in ids)
