"""API v1 bibliographic records: search, one record with holdings in scope, create, errors."""
from __future__ import annotations

from app.extensions import db
from app.inventory.models import BibRecord
from tests.api.helpers import conforms, error_of
from tests.inventory.helpers import record


def test_search_paged(app, world, stock, api):
    admin = world.user("admin")
    for n in range(5):
        record(admin, f"Hobbit studies {n}")
    db.session.commit()
    client = api("viewer-b")
    body = conforms(client.get("/bib-records?q=HOBBIT&per_page=4").get_json(), "BibRecordPage")
    assert body["total"] == 6 and body["page"] == 1 and body["per_page"] == 4
    assert [r["title"] for r in body["items"]] == ["Hobbit studies 0", "Hobbit studies 1", "Hobbit studies 2",
                                                   "Hobbit studies 3"]
    body = conforms(client.get("/bib-records?q=hobbit&page=2&per_page=4").get_json(), "BibRecordPage")
    assert [r["title"] for r in body["items"]] == ["Hobbit studies 4", "The Hobbit"]
    body = client.get("/bib-records?q=9780261102217").get_json()
    assert [r["title"] for r in body["items"]] == ["The Hobbit"] and body["items"][0]["isbn"] == "978-0-261-10221-7"
    assert client.get("/bib-records").get_json()["total"] == 6
    error_of(client.get("/bib-records?per_page=101"), 400, "invalid")
    error_of(client.get("/bib-records?page=0"), 400, "invalid")


def test_get_record_with_holdings_in_scope(app, world, stock, api):
    url = f"/bib-records/{stock.record.id}"
    body = conforms(api("viewer").get(url).get_json(), "BibRecordWithHoldings")
    assert [h["library"] for h in body["holdings"]] == ["LIBA", "LIBB"]
    assert body["holdings"][0]["items"][0] == {"id": stock.item.id, "barcode": "A0001", "enumeration": "v.1",
                                               "chronology": "", "description": "", "status": "not_in_place",
                                               "received_date": None}
    body = conforms(api("viewer-a").get(url).get_json(), "BibRecordWithHoldings")
    assert [h["library"] for h in body["holdings"]] == ["LIBA"]
    error_of(api("viewer").get("/bib-records/999999"), 404, "not_found")


def test_create_record(app, world, api):
    resp = api("buyer").post("/bib-records", json={"title": "Nature", "issn": "0028-0836", "publisher": "Springer"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = conforms(resp.get_json(), "BibRecordWithHoldings")
    assert body["holdings"] == [] and body["author"] == "" and body["issn"] == "0028-0836"
    assert resp.headers["Location"] == f"/api/v1/bib-records/{body['id']}"
    assert db.session.get(BibRecord, body["id"]).issn_key == "00280836"
    assert api("admin").get("/bib-records?q=00280836").get_json()["total"] == 1


def test_create_errors(app, world, api):
    client = api("admin")
    error = error_of(client.post("/bib-records", json={"author": "Nobody"}), 400, "invalid")
    assert error["field"] == "title"
    assert error_of(client.post("/bib-records", json={"title": " "}), 400, "invalid")["field"] == "title"
    assert error_of(client.post("/bib-records", json={"title": "X", "isbn": "12"}), 400, "invalid")["field"] == "isbn"
    assert error_of(client.post("/bib-records", json={"title": "X", "colour": "red"}), 400,
                    "invalid")["field"] == "colour"
    assert error_of(client.post("/bib-records", json={"title": 7}), 400, "invalid")["field"] == "title"
    error_of(client.post("/bib-records", data="nope", content_type="application/json"), 400, "invalid")
    error_of(api("viewer").post("/bib-records", json={"title": "X"}), 403, "forbidden")
    error_of(api("fundmgr").post("/bib-records", json={"title": "X"}), 403, "forbidden")
    assert db.session.query(BibRecord).count() == 0
