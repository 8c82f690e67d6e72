"""/admin is the administration index, and every ERP administration page keeps the ERP sub-menu."""
from __future__ import annotations

import re

from tests.helpers import login


def test_admin_index_links_every_admin_page(app, world):
    client = login(app.test_client(), "admin")
    resp = client.get("/admin")
    assert resp.status_code == 200
    html = resp.data.decode()
    links = set(re.findall(r'<dt><a href="([^"]+)"', html))
    assert {"/admin/users", "/admin/libraries", "/admin/fund-types", "/admin/letters", "/admin/invoicing",
            "/admin/erp", "/admin/erp/jobs", "/admin/erp/fiscal-periods"} <= links
    for url in links:   # no dead link, each opens for the administrator
        assert client.get(url).status_code == 200, url
    # the header's Administration link leads here, and is the current section on every admin page
    assert re.search(r'<a href="/admin" aria-current="page">Administration</a>', html)
    assert 'href="/admin" aria-current="page">Administration' in client.get("/admin/erp/fiscal-periods").data.decode()


def test_admin_index_is_for_institution_administrators_only(app, world):
    assert login(app.test_client(), "viewer").get("/admin").status_code == 403


def test_every_erp_admin_page_keeps_the_erp_sub_menu(app, world):
    client = login(app.test_client(), "admin")
    for url in ("/admin/erp", "/admin/erp/jobs", "/admin/erp/fiscal-periods"):
        html = client.get(url).data.decode()
        assert 'aria-label="ERP integration"' in html, url
        assert re.search(rf'<a href="{url}" aria-current="page">', html), url
