"""Request bodies: only JSON objects, only known fields, fields named in every refusal."""
from __future__ import annotations

import pytest

from tests.api.helpers import PREFIX, error_of

ENDPOINTS = ["/fiscal-periods", "/ledgers", "/funds", "/funds/{shared}/transactions"]


def send(api, world, path, **kw):
    client = api("admin")
    return client.client.post(PREFIX + path.format(shared=world.shared.id), headers=client.headers, **kw)


@pytest.mark.parametrize("kw, text", [
    (dict(json=["a", "list"]), "JSON object"),
    (dict(json="text"), "JSON object"),
    (dict(json=None, data="null", content_type="application/json"), "JSON object"),
    (dict(data="{not json", content_type="application/json"), "not valid JSON"),
    (dict(data=b"\xff\xfe\x00", content_type="application/json"), "not valid JSON"),
    (dict(data="[" * 100000, content_type="application/json"), "not valid JSON"),
    (dict(data="code=X&name=Y"), "Content-Type: application/json"),
    (dict(), "Content-Type: application/json"),
])
def test_not_a_json_object(world, api, kw, text):
    for path in ENDPOINTS:
        err = error_of(send(api, world, path, **kw), 400, "invalid")
        assert text in err["message"], path


def test_unknown_field_is_named(world, api):
    for path in ENDPOINTS:
        err = error_of(send(api, world, path, json={"surprise": 1, "another": 2}), 400, "invalid")
        assert err["field"] == "another", path
        assert '"surprise"' in err["message"] and '"another"' in err["message"]


def test_missing_fields_are_named(world, api):
    for path, first in (("/fiscal-periods", "code"), ("/ledgers", "code"), ("/funds", "code"),
                        ("/funds/{shared}/transactions", "type")):
        err = error_of(send(api, world, path, json={}), 400, "invalid")
        assert err["field"] == first and f'"{first}"' in err["message"] and "Missing" in err["message"]


def test_duplicate_keys_are_refused(world, api):
    err = error_of(send(api, world, "/funds/{shared}/transactions",
                        data='{"type": "allocation", "amount": "1.00", "amount": "900.00"}',
                        content_type="application/json"), 400, "invalid")
    assert err["field"] == "amount"


def test_null_for_a_required_field_is_named(world, api):
    err = error_of(send(api, world, "/fiscal-periods", json={"code": None, "name": "x", "start_date": "2030-01-01",
                                                             "end_date": "2030-02-01"}), 400, "invalid")
    assert err["field"] == "code" and '"code"' in err["message"]


def test_json_charset_parameter_is_fine(world, api):
    resp = send(api, world, "/funds/{shared}/transactions", data='{"type": "allocation", "amount": "1.00"}',
                content_type="application/json; charset=utf-8")
    assert resp.status_code == 201, resp.get_json()
