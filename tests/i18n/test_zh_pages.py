"""Every page and fragment, as each role, in Chinese (zh_Hans): no English left (tests/i18n/leftovers.py).

One test per blueprint and role, so a part of the interface can be checked alone:
``./scripts/test tests/i18n/test_zh_pages.py -k invoices``. A failure lists, per URL, the English
pieces still on it: wrap them (``_()`` in templates and views, ``_l()`` in forms, ``T()``/``Tn()``
below the pages), then ``scripts/i18n update`` and translate.
"""
from __future__ import annotations

import pytest

from app.auth.models import Role
from app.extensions import db
from tests.helpers import login
from tests.i18n.leftovers import data_words, english_left
from tests.route_matrix import MATRIX, PUBLIC
from tests.test_security import ROLE_USERS, _routes, _url_args

CHINESE = {"Accept-Language": "zh-CN,zh;q=0.9"}
BLUEPRINTS = sorted({endpoint.split(".")[0] for endpoint in MATRIX})


def crawl(app, world, blueprint: str, role: Role) -> dict[str, list[str]]:
    client = login(app.test_client(), ROLE_USERS[role])
    url_args = _url_args(world, None)   # makes the objects the URLs point at: their names are data
    known = data_words(db.session, db.metadata)
    found = {}
    for rule in _routes(app):
        if "GET" not in rule.methods or rule.endpoint.split(".")[0] != blueprint:
            continue
        allowed = MATRIX[rule.endpoint]
        if allowed != PUBLIC and role not in allowed:
            continue
        url = rule.build(url_args, append_unknown=False)[1]
        for hx in (False, True):
            resp = client.get(url, headers={**CHINESE, **({"HX-Request": "true"} if hx else {})})
            if resp.status_code != 200 or not resp.mimetype.startswith("text/html") or not resp.data.strip():
                continue
            left = english_left(resp.get_data(as_text=True), known)
            if left:
                found[f"{url}{' (htmx)' if hx else ''}"] = left
    return found


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value if hasattr(r, "value") else str(r))
@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_no_english_left_in_chinese(app, world, blueprint, role):
    found = crawl(app, world, blueprint, role)
    assert not found, "\n".join(f"{url}:\n    " + "\n    ".join(left) for url, left in found.items())
