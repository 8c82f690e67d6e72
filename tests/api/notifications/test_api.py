"""The caller's notifications and preferences through the API: the list (unread or all, paged), one,
read/unread, all read, and the e-mail preferences per kind (PATCH with If-Match)."""
from __future__ import annotations

from app.extensions import db
from app.notifications import services as notes
from app.notifications.models import KINDS, Notification
from tests.api.guards import key_reused, needs_if_match, stale_action, walk_roles
from tests.api.helpers import conforms, each_case, error_of
from tests.api.notifications.route_matrix import API_MATRIX


def make(world, who="fundmgr", n=1) -> list[Notification]:
    made = []
    for i in range(n):
        made += notes.notify("claim_due", [world.user(who)], f"Claim POL-{i + 1}", body="A book",
                             url=f"/orders/lines/POL-{i + 1}")
    db.session.commit()
    return made


def unread(user) -> int:
    return notes.unread_count(user)


def test_list_read_unread_and_all_read(world, api):
    mine = make(world, n=3)
    theirs = make(world, who="viewer")[0]
    client = api("fundmgr")
    page = conforms(client.get("/notifications?per_page=2").get_json(), "NotificationPage")
    assert page["total"] == 3 and [n["title"] for n in page["items"]] == ["Claim POL-3", "Claim POL-2"]
    first = page["items"][1]
    assert (first["kind"], first["url"], first["read_at"], first["body"]) == (
        "claim_due", "/orders/lines/POL-2", None, "A book")
    url = f"/notifications/{mine[0].id}"
    resp = client.get(url)
    assert conforms(resp.get_json(), "Notification")["title"] == "Claim POL-1"
    assert client.get(url, headers={"If-None-Match": resp.headers["ETag"]}).status_code == 304

    done = client.post(f"{url}/actions/read", headers={"If-Match": resp.headers["ETag"]})
    assert done.status_code == 200 and conforms(done.get_json(), "Notification")["read_at"].endswith("Z")
    assert client.get("/notifications").get_json()["total"] == 2            # unread only, as the page
    assert client.get("/notifications?show=all").get_json()["total"] == 3
    assert client.post(f"{url}/actions/unread").get_json()["read_at"] is None
    assert unread(world.user("fundmgr")) == 3

    marked = client.post("/notifications/actions/read_all")
    assert marked.status_code == 200 and conforms(marked.get_json(), "NotificationsMarked") == {"marked": 3}
    assert client.post("/notifications/actions/read_all").get_json() == {"marked": 0}
    assert unread(world.user("fundmgr")) == 0 and unread(world.user("viewer")) == 1
    assert db.session.get(Notification, theirs.id).read_at is None


def test_another_users_notification_is_not_found(world, api):
    theirs = make(world, who="viewer")[0]
    client = api("fundmgr")
    error_of(client.get(f"/notifications/{theirs.id}"), 404, "not_found")
    error_of(client.post(f"/notifications/{theirs.id}/actions/read"), 404, "not_found")
    error_of(client.post(f"/notifications/{theirs.id}/actions/unread"), 404, "not_found")
    error_of(client.get("/notifications/999999"), 404, "not_found")
    assert unread(world.user("viewer")) == 1


def test_bad_requests(world, api):
    mine = make(world)[0]
    client = api("fundmgr")
    error_of(client.get("/notifications?show=some"), 400, "invalid")
    error_of(client.get("/notifications?per_page=101"), 400, "invalid")
    for action in ("read", "unread"):
        error_of(client.post(f"/notifications/{mine.id}/actions/{action}", json={"x": 1}), 400, "invalid")
        stale_action(client, f"/notifications/{mine.id}/actions/{action}")
    error_of(client.post("/notifications/actions/read_all", json={"x": 1}), 400, "invalid")
    assert unread(world.user("fundmgr")) == 1


def test_an_idempotency_key_is_for_one_request(world, api):
    first, second = make(world, n=2)
    client = api("fundmgr")
    for action in ("read", "unread"):
        key_reused(client, (f"/notifications/{first.id}/actions/{action}", None),
                   (f"/notifications/{second.id}/actions/{action}", None))
    key_reused(client, ("/notifications/actions/read_all", None), ("/notifications/actions/read_all", {}))
    assert db.session.get(Notification, second.id).read_at is not None   # the first read_all


def test_preferences(world, api):
    client = api("viewer")
    resp = client.get("/me/notification-preferences")
    prefs = conforms(resp.get_json(), "NotificationPreferences")
    assert prefs == {kind: "now" for kind in KINDS}
    assert client.get("/me/notification-preferences", headers={"If-None-Match": resp.headers["ETag"]}).status_code \
        == 304
    done = client.patch("/me/notification-preferences", json={"claim_due": "digest", "job_ended": "off"},
                        headers={"If-Match": resp.headers["ETag"]})
    assert done.status_code == 200, done.get_json()
    assert conforms(done.get_json(), "NotificationPreferences") == {**prefs, "claim_due": "digest",
                                                                    "job_ended": "off"}
    assert done.headers["ETag"] == client.etag("/me/notification-preferences")
    assert notes.preferences(world.user("viewer"))["claim_due"] == "digest"
    assert notes.preferences(world.user("fundmgr"))["claim_due"] == "now"   # one's own only


def test_preferences_errors(world, api):
    client = api("viewer")
    tag = client.etag("/me/notification-preferences")

    def check(body, field):
        error = error_of(client.patch("/me/notification-preferences", json=body, headers={"If-Match": tag}), 400,
                         "invalid")
        assert error.get("field") == field, error

    each_case([({"claim_due": "weekly"}, "claim_due"), ({"birthday": "now"}, "birthday"), ({}, None),
               ({"claim_due": None}, "claim_due")], check)
    needs_if_match(client, "patch", "/me/notification-preferences", {"claim_due": "off"})
    assert notes.preferences(world.user("viewer")) == {kind: "now" for kind in KINDS}


def test_roles_follow_the_matrix(app, world, api):
    ids = {}
    for username in ("admin", "fundmgr", "viewer", "buyer", "invoicer", "invoicer-ext", "invmanager"):
        ids[username] = make(world, who=username)[0].id
    # every role reaches its own notification; in the walk below an id that is nobody's is not found (404)
    for username, n_id in ids.items():
        client = api(username)
        assert client.get(f"/notifications/{n_id}").status_code == 200
        assert client.post(f"/notifications/{n_id}/actions/read", json={"x": 1}).status_code == 400
    walk_roles(api, API_MATRIX, {
        "api.list_notifications": ("get", "/notifications", None),
        "api.get_notification": ("get", "/notifications/999999", None),
        "api.read_notification": ("post", "/notifications/999999/actions/read", None),
        "api.unread_notification": ("post", "/notifications/999999/actions/unread", None),
        "api.read_all_notifications": ("post", "/notifications/actions/read_all", {"x": 1}),
        "api.get_notification_preferences": ("get", "/me/notification-preferences", None),
        "api.patch_notification_preferences": ("patch", "/me/notification-preferences", {"claim_due": "off"}),
    }, allowed=(200, 400, 404, 428))
    assert all(unread(world.user(u)) == 1 for u in ids)
    error_of(app.test_client().get("/api/v1/notifications"), 401, "unauthorized")
