"""The API does everything the pages do: every page route that changes something (a POST) is listed
here with the API endpoint(s) doing the same through the same service, or with the reason it has
none (it only serves the browser: logging in, a fragment, the user's own display choices).

A new page action without an entry fails this test: give it an API route (tests/api/...) or say
why not.
"""
from __future__ import annotations

BROWSER_ONLY = "serves the browser only"

PAGE_TO_API = {
    # sessions and the user's own display
    "auth.login": "API calls carry a bearer token (flask users token); there is no session to open",
    "auth.logout": "API calls carry a bearer token; there is no session to close",
    "auth.language": "the language of the login page, kept in the browser session; the API answers in English",
    "work.set_columns": "the columns a person shows on a list page; API lists answer every field",
    "work.set_home": "the page a person lands on after logging in",
    "work.set_language": "the language of the pages; API messages stay in English",
    # funds
    "funds.allocate": ("api.post_transaction",),
    "funds.transfer": ("api.post_transaction",),
    "funds.edit_fund": ("api.create_fund", "api.patch_fund"),
    "funds.edit_ledger": ("api.create_ledger", "api.patch_ledger"),
    "funds.edit_fiscal_period": ("api.create_fiscal_period", "api.patch_fiscal_period"),
    "funds.close_fiscal_period": ("api.close_fiscal_period",),
    "funds.reopen_fiscal_period": ("api.reopen_fiscal_period",),
    "funds.rollovers": ("api.create_rollover",),
    "funds.rollover_rules_table": "redraws the rules table of the rollover form as options change",
    "funds.undo_rollover": ("api.undo_rollover",),
    # orders
    "orders.new": ("api.create_po_line",),
    "orders.edit": ("api.patch_po_line",),
    "orders.approve": ("api.approve_po_line",),
    "orders.send": ("api.send_po_line",),
    "orders.receive": ("api.receive_po_line",),
    "orders.receive_next": ("api.receive_next_po_line",),
    "orders.cancel": ("api.cancel_po_line",),
    "orders.close": ("api.close_po_line",),
    "orders.reopen": ("api.reopen_po_line",),
    "orders.defer": ("api.defer_po_line",),
    "orders.resume": ("api.resume_po_line",),
    "orders.renew": ("api.renew_po_line",),
    "orders.activate": ("api.activate_po_line",),
    "orders.package": ("api.package_po_line",),
    "orders.package_ready": ("api.package_preview", "api.package_ready"),
    "orders.pattern": ("api.pattern_po_line",),
    "orders.relink": ("api.relink_po_line",),
    "orders.change_reference": ("api.change_reference_po_line",),
    "orders.change_vendor": ("api.change_vendor_po_line",),
    "orders.replace_vendor": ("api.replace_vendor_po_line",),
    "orders.send_po": ("api.send_purchase_order",),
    "communications.start": ("api.start_communication",),
    "communications.respond": ("api.add_response",),
    "communications.retry": ("api.retry_communication_message",),
    "outgoing.resend": ("api.resend_vendor_message",),
    # invoices
    "invoice_forms.new": ("api.create_invoice",),
    "invoice_forms.edit": ("api.patch_invoice",),
    "invoices.approve": ("api.approve_invoice",),
    "invoices.reject": ("api.reject_invoice",),
    "invoices.send_back": ("api.send_invoice_back_to_review",),
    "invoices.process": ("api.process_invoice",),
    "invoices.pay": ("api.record_invoice_payment",),
    "invoices.delete": ("api.delete_invoice",),
    "invoices.change_owner": ("api.change_invoice_owner",),
    "invoices.edit_line_notes": ("api.patch_invoice_line",),
    "invoice_notes.add_note": ("api.add_invoice_note",),
    "invoice_notes.edit_note": ("api.patch_invoice_note",),
    "invoice_notes.delete_note": ("api.delete_invoice_note",),
    "invoice_notes.upload": ("api.upload_invoice_attachment",),
    "invoice_notes.delete_attachment": ("api.delete_invoice_attachment",),
    "invoice_files.preview": ("api.preview_invoice_file",),
    "invoice_files.load": ("api.load_invoice_file",),
    "edi.receive": ("api.upload_edi_file",),
    "edi.retry": ("api.retry_edi_message",),
    "edi.edit_setting": ("api.patch_edi_setting",),
    "edi.fetch_now": ("api.fetch_edi_now",),
    "invoice_admin.update_setting": ("api.update_settings", "api.patch_settings"),
    "invoice_admin.update_review_rule": ("api.patch_review_rule",),
    "invoice_admin.edit_approval_rule": ("api.create_approval_rule", "api.patch_approval_rule"),
    "invoice_admin.delete_approval_rule": ("api.delete_approval_rule",),
    "invoice_admin.move_approval_rule": ("api.move_approval_rule",),
    "invoice_admin.charge_types": ("api.create_charge_type",),
    "invoice_admin.set_charge_type_active": ("api.activate_charge_type", "api.deactivate_charge_type"),
    # vendors and rates
    "vendors.new": ("api.create_vendor",),
    "vendors.edit": ("api.update_vendor", "api.patch_vendor"),
    "vendors.add_account": ("api.create_vendor_account",),
    "vendors.account_channel": ("api.patch_vendor_account",),
    "vendors.remove_account": ("api.delete_vendor_account",),
    "vendors.add_address": ("api.create_vendor_address",),
    "vendors.remove_address": ("api.delete_vendor_address",),
    "vendors.add_contact": ("api.create_vendor_contact",),
    "vendors.contact_roles": ("api.patch_vendor_contact",),
    "vendors.remove_contact": ("api.delete_vendor_contact",),
    "vendors.add_rate": ("api.create_rate",),
    "vendors.upload_rates": ("api.upload_rates",),
    # inventory
    "inventory.edit_record": ("api.create_bib_record", "api.patch_bib_record"),
    "inventory.add_holding": ("api.create_holding",),
    "inventory.add_item": ("api.create_item",),
    "inventory.receive_item": ("api.receive_item",),
    "inventory.bind_items": ("api.bind_items",),
    "inventory.complete_work_order": ("api.complete_work_order",),
    "inventory.scan_work_order": ("api.scan_work_order",),
    # letters, notifications
    "outgoing.edit": ("api.patch_letter",),
    "outgoing.preview": ("api.preview_letter",),
    "outgoing.preview_pdf": ("api.preview_letter_pdf",),
    "outgoing.reset": ("api.reset_letter",),
    "outgoing.set_active": ("api.activate_letter", "api.deactivate_letter"),
    "outgoing.send_test": ("api.send_test_letter",),
    "outgoing.send_now": ("api.send_waiting_letters",),
    "notifications.mark": ("api.read_notification", "api.unread_notification"),
    "notifications.mark_all": ("api.read_all_notifications",),
    "notifications.open_": ("api.read_notification", "api.get_notification"),
    "notifications.preferences": ("api.patch_notification_preferences",),
    # administration
    "admin.edit_user": ("api.create_user", "api.patch_user"),
    "admin.add_role": ("api.add_user_role",),
    "admin.remove_role": ("api.remove_user_role",),
    "admin.libraries": ("api.add_library",),
    "admin.library_address": ("api.patch_library",),
    "admin.institution": ("api.patch_institution",),
    "admin.fund_types": ("api.create_fund_type",),
    # ERP
    "integrations.new_connection": ("api.create_erp_connection",),
    "integrations.edit_connection": ("api.patch_erp_connection",),
    "integrations.delete_connection": ("api.delete_erp_connection",),
    "integrations.test_connection": ("api.test_erp_connection",),
    "integrations.new_profile": ("api.create_erp_profile",),
    "integrations.edit_profile": ("api.patch_erp_profile",),
    "integrations.delete_profile": ("api.delete_erp_profile",),
    "integrations.profile_sections": ("api.patch_erp_section",),
    "integrations.set_section_active": ("api.activate_erp_section", "api.deactivate_erp_section"),
    "integrations.run_now": ("api.run_erp_section",),
    "integrations.set_notifications": ("api.patch_erp_notifications",),
    "integrations.section_stylesheet": ("api.patch_erp_stylesheet",),
    "integrations.preview_stylesheet": ("api.preview_erp_stylesheet",),
    "integrations.payment_format": ("api.patch_erp_payment_format",),
    "integrations.rerun_failed_orders": ("api.rerun_failed_erp_orders",),
    "erp_allowed.add": ("api.add_erp_allowed_server",),
    "erp_allowed.remove": ("api.remove_erp_allowed_server",),
    "erp_periods.save": ("api.patch_erp_fiscal_periods",),
}


def _page_actions(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if rule.endpoint != "static" and not rule.endpoint.startswith("api.")
            and rule.methods & {"POST", "PUT", "PATCH", "DELETE"}}


def test_every_page_action_has_an_api_route(app):
    api = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")}
    missing = sorted(_page_actions(app) - set(PAGE_TO_API))
    assert not missing, f"page actions with no API entry here: {missing}"
    unknown = {page: [e for e in targets if e not in api] for page, targets in PAGE_TO_API.items()
               if isinstance(targets, tuple)}
    unknown = {page: e for page, e in unknown.items() if e}
    assert not unknown, f"API endpoints that do not exist: {unknown}"
    gone = sorted(set(PAGE_TO_API) - _page_actions(app))
    assert not gone, f"entries for page actions that no longer exist: {gone}"
    for page, targets in PAGE_TO_API.items():
        assert isinstance(targets, tuple) or len(targets) > 20, f"{page}: say why it has no API route"
