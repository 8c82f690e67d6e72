"""The requests of the role matrix test (test_api.py::test_roles_follow_the_matrix) for the invoicing
endpoints beyond the invoice itself: method, URL and body of each endpoint. An allowed role gets
200, 400 (the body is refused) or 412 (a stale If-Match), the others 403, and nothing changes."""
from __future__ import annotations

from app.extensions import db
from app.invoices import attachments, rules
from app.integrations.edi.models import EdiMessage
from app.integrations.models import JobRun
from app.invoices.models import Invoice

SURPRISE = {"surprise": 1}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def more_requests(app, world, invoice_id: int, tmp_path) -> dict:
    app.config["ATTACHMENT_FOLDER"] = str(tmp_path / "files")
    invoice = db.session.get(Invoice, invoice_id)
    admin = world.user("admin")
    note = attachments.add_note(admin, invoice, "A note")
    attachment = attachments.add_attachment(admin, invoice, "scan.pdf", PDF)
    run = JobRun(job="invoice_file", profile_code="FILE-PLAIN", status="completed", message="Nothing.",
                 actor_id=admin.id)
    upload = JobRun(job="upload_edi", profile_code="EDI", status="completed", message="x.edi", actor_id=admin.id)
    message = EdiMessage(file_name="x.edi", sha256="0" * 64, raw="not edifact", status="failed",
                         reason="The file is not an EDIFACT interchange.", source="upload")
    db.session.add_all([run, upload, message])
    rule = rules.create_approval_rule(admin, rules.ApprovalRuleFields(name="Roles rule"))
    rules.create_charge_type(admin, "roles", "Roles charge")
    db.session.commit()
    notes, files = f"/invoices/{invoice_id}/notes", f"/invoices/{invoice_id}/attachments"
    return {
        "api.list_invoice_notes": ("get", notes, None),
        "api.list_invoice_history": ("get", f"/invoices/{invoice_id}/history", None),
        "api.list_invoice_charges": ("get", f"/invoices/{invoice_id}/charges", None),
        "api.add_invoice_note": ("post", notes, SURPRISE),
        "api.get_invoice_note": ("get", f"{notes}/{note.id}", None),
        "api.patch_invoice_note": ("patch", f"{notes}/{note.id}", SURPRISE),
        "api.delete_invoice_note": ("delete", f"{notes}/{note.id}", None),
        "api.list_invoice_attachments": ("get", files, None),
        "api.upload_invoice_attachment": ("upload", files, None),
        "api.download_invoice_attachment": ("get", f"{files}/{attachment.id}", None),
        "api.delete_invoice_attachment": ("delete", f"{files}/{attachment.id}", None),
        "api.invoice_file_template": ("get", "/invoice-files/template", None),
        "api.preview_invoice_file": ("upload", "/invoice-files/actions/preview", None),
        "api.load_invoice_file": ("upload", "/invoice-files/loads", None),
        "api.get_invoice_file_run": ("get", f"/invoice-files/runs/{run.id}", None),
        "api.list_invoice_tasks": ("get", "/invoices/tasks/review", None),
        "api.list_invoice_lines": ("get", "/invoice-lines", None),
        "api.list_edi_messages": ("get", "/edi/messages", None),
        "api.get_edi_message": ("get", f"/edi/messages/{message.id}", None),
        "api.retry_edi_message": ("post", f"/edi/messages/{message.id}/actions/retry", SURPRISE),
        "api.upload_edi_file": ("upload", "/edi/uploads", None),
        "api.get_edi_upload": ("get", f"/edi/uploads/{upload.id}", None),
        "api.list_edi_settings": ("get", "/edi/settings", None),
        "api.get_edi_setting": ("get", "/edi/settings/PLAIN", None),
        "api.patch_edi_setting": ("patch", "/edi/settings/PLAIN", SURPRISE),
        "api.fetch_edi_now": ("post", "/edi/settings/PLAIN/actions/fetch", SURPRISE),
        "api.list_review_rules": ("get", "/invoicing/review-rules", None),
        "api.get_review_rule": ("get", "/invoicing/review-rules/price_differs", None),
        "api.patch_review_rule": ("patch", "/invoicing/review-rules/price_differs", SURPRISE),
        "api.list_approval_rules": ("get", "/invoicing/approval-rules", None),
        "api.create_approval_rule": ("post", "/invoicing/approval-rules", SURPRISE),
        "api.get_approval_rule": ("get", f"/invoicing/approval-rules/{rule.id}", None),
        "api.patch_approval_rule": ("patch", f"/invoicing/approval-rules/{rule.id}", SURPRISE),
        "api.delete_approval_rule": ("delete", f"/invoicing/approval-rules/{rule.id}", None),
        "api.move_approval_rule": ("post", f"/invoicing/approval-rules/{rule.id}/actions/move", SURPRISE),
        "api.list_charge_types": ("get", "/invoicing/charge-types", None),
        "api.create_charge_type": ("post", "/invoicing/charge-types", SURPRISE),
        "api.get_charge_type": ("get", "/invoicing/charge-types/roles", None),
        "api.activate_charge_type": ("post", "/invoicing/charge-types/roles/actions/activate", SURPRISE),
        "api.deactivate_charge_type": ("post", "/invoicing/charge-types/roles/actions/deactivate", SURPRISE),
    }
