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
    "erp_periods.save": ("api.patch_erp_fiscal_period",),
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
    assert not {page: e for page, e in unknown.items() if e}, "API endpoints that do not exist"
    assert not set(PAGE_TO_API) - _page_actions(app), "entries for page actions that no longer exist"
    for page, targets in PAGE_TO_API.items():
        assert isinstance(targets, tuple) or len(targets) > 20, f"{page}: say why it has no API route"
