"""The requests of the role matrix test (test_api.py::test_roles_follow_the_matrix) for the invoicing
endpoints beyond the invoice itself: method, URL and body of each endpoint. An allowed role gets
200, 400 (the body is refused) or 412 (a stale If-Match), the others 403, and nothing changes."""
from __future__ import annotations


def more_requests(invoice_id: int) -> dict:
    return {}
