"""Role rows for the invoice and settings API endpoints (merged into tests/route_matrix.py). The API has
no pages, so MATRIX is empty. Reading is for every role; creating, processing, paying and sending
back for invoice operators (and managers, administrators); approving, rejecting and the ERP
hand-offs for invoice managers and administrators; changing settings for administrators."""
from app.auth.models import Role
from tests.route_matrix_roles import ADMIN, ALL

OPERATE = frozenset({Role.ADMIN, Role.INVOICE_OPERATOR, Role.INVOICE_OPERATOR_EXTENDED, Role.INVOICE_MANAGER})
APPROVE = frozenset({Role.ADMIN, Role.INVOICE_MANAGER})
DELETE = frozenset({Role.ADMIN, Role.INVOICE_OPERATOR_EXTENDED})

MATRIX: dict = {}

API_MATRIX = {
    "api.get_settings": ALL,
    "api.update_settings": ADMIN,
    "api.list_invoices": ALL,
    "api.get_invoice": ALL,
    "api.create_invoice": OPERATE,
    "api.process_invoice": OPERATE,
    "api.approve_invoice": APPROVE,
    "api.reject_invoice": APPROVE,
    "api.mark_invoice_in_erp": APPROVE,
    "api.record_invoice_payment": OPERATE,
    "api.erp_reject_invoice": APPROVE,
    "api.send_invoice_back_to_review": OPERATE,
    "api.patch_settings": ADMIN,
    "api.patch_invoice": OPERATE,
    "api.delete_invoice": DELETE,
    "api.get_invoice_line": ALL,
    "api.patch_invoice_line": OPERATE,
    "api.change_invoice_owner": OPERATE,
    "api.list_invoice_notes": ALL,
    "api.list_invoice_history": ALL,
    "api.list_invoice_charges": ALL,
    "api.add_invoice_note": OPERATE,
    "api.get_invoice_note": ALL,
    "api.patch_invoice_note": OPERATE,
    "api.delete_invoice_note": OPERATE,
    "api.list_invoice_attachments": ALL,
    "api.upload_invoice_attachment": OPERATE,
    "api.download_invoice_attachment": ALL,
    "api.delete_invoice_attachment": OPERATE,
    "api.invoice_file_template": OPERATE,
    "api.preview_invoice_file": OPERATE,
    "api.load_invoice_file": OPERATE,
    "api.get_invoice_file_run": OPERATE,
    "api.list_invoice_tasks": OPERATE,
    "api.list_invoice_lines": ALL,
    "api.list_edi_messages": OPERATE,
    "api.get_edi_message": OPERATE,
    "api.retry_edi_message": OPERATE,
    "api.upload_edi_file": OPERATE,
    "api.get_edi_upload": OPERATE,
    "api.list_edi_settings": ADMIN,
    "api.get_edi_setting": ADMIN,
    "api.patch_edi_setting": ADMIN,
    "api.fetch_edi_now": ADMIN,
    "api.list_review_rules": ADMIN,
    "api.get_review_rule": ADMIN,
    "api.patch_review_rule": ADMIN,
    "api.list_approval_rules": ADMIN,
    "api.create_approval_rule": ADMIN,
    "api.get_approval_rule": ADMIN,
    "api.patch_approval_rule": ADMIN,
    "api.delete_approval_rule": ADMIN,
    "api.move_approval_rule": ADMIN,
    "api.list_charge_types": ADMIN,
    "api.create_charge_type": ADMIN,
    "api.get_charge_type": ADMIN,
    "api.activate_charge_type": ADMIN,
    "api.deactivate_charge_type": ADMIN,
}
# The institution's settings and rules; the EDI inbox's changes and the vendors' EDI settings (as the pages).
API_INSTITUTION_WIDE = {"api.update_settings", "api.patch_settings", "api.retry_edi_message", "api.upload_edi_file",
                        "api.patch_edi_setting", "api.fetch_edi_now", "api.patch_review_rule",
                        "api.create_approval_rule", "api.patch_approval_rule", "api.delete_approval_rule",
                        "api.move_approval_rule", "api.create_charge_type", "api.activate_charge_type",
                        "api.deactivate_charge_type"}


def url_args(world) -> dict:
    """URL values of the API routes the page matrices do not give (codes; the routes refuse before looking)."""
    return {"vendor_code": "PLAIN", "review_rule_kind": "price_differs", "charge_type_code": "matrix"}
