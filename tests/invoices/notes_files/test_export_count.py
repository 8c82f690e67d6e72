"""The ERP payment export counts an invoice's attachments (``number_of_attachments``) and carries its
dated notes in ``noteList``; the file still matches our XSD. Run by the real export job over a
local-folder connection."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.integrations.formats.payment_data import NAMESPACE
from app.integrations.formats.xml import parse, schema_errors
from app.invoices import attachments
from testkit.erp import erp_profile, local_connection
from tests.integrations.invoice_export.helpers import errors, final_files, ready, run

NS = {"p": NAMESPACE}
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_export_counts_attachments_and_carries_notes(app, world, vendors, tmp_path):
    app.config["ATTACHMENT_FOLDER"] = str(tmp_path / "files")
    three, none = ready(world, vendors.plain, 2, prefix="ATX")
    op = world.user("invoicer")
    from app.invoices.models import Invoice
    inv = db.session.get(Invoice, three)
    for name in ("a.pdf", "b.pdf", "c.pdf"):
        attachments.add_attachment(op, inv, name, PDF)
    attachments.add_note(op, inv, "Payment terms: 30 days net <agreed by phone>")
    gone = attachments.add_attachment(op, inv, "d.pdf", PDF)
    attachments.delete_attachment(op, gone)
    db.session.commit()

    admin = world.user("admin")
    conn, root = local_connection(admin, tmp_path / "erp")
    erp_profile(admin, conn, folder_root=root)
    result = run(app)
    assert result.status == "completed", errors(result)
    files = list(final_files(root / "invoices" / "out").values())
    assert len(files) == 2
    counts, notes = {}, {}
    for data in files:
        doc = parse(data)
        assert schema_errors(doc, "payment_data.xsd") == []
        for el in doc.iterfind("p:invoice_list/p:invoice", NS):
            number = el.findtext("p:invoice_number", namespaces=NS)
            counts[number] = el.findtext("p:number_of_attachments", namespaces=NS)
            notes[number] = [(n.findtext("p:content", namespaces=NS),
                              n.findtext("p:owneredEntity/p:createdBy", namespaces=NS))
                             for n in el.iterfind("p:noteList/p:note", NS)]
    assert counts == {"ATX-1": "3", "ATX-2": "0"}
    assert notes["ATX-1"] == [("Payment terms: 30 days net <agreed by phone>", "invoicer")] and notes["ATX-2"] == []
