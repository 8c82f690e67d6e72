"""The bell, the list and the preferences on screen: each user sees and changes only their own
notifications (another user's: 404), HTMX gets the changed row with the bell out of band, opening
one marks it read and goes to its object, preferences save per kind."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.notifications import services as notes
from app.notifications.models import Notification, NotificationPreference

HX = {"HX-Request": "true"}


def _bell(html: str) -> str:
    return re.search(r'<a id="bell".*?</a>', html, re.S).group(0)


def _make(world, who="fundmgr", n=1, **kw):
    made = []
    for i in range(n):
        made += notes.notify(kw.get("kind", "claim_due"), [world.user(who)], f"Claim POL-{i + 1}",
                             body="A book\n\nMore.", url=kw.get("url", f"/orders/lines/POL-{i + 1}"))
    db.session.commit()
    return made


def test_the_bell_counts_the_users_unread_on_every_page(app, world, login_as):
    client = login_as("fundmgr")
    bell = _bell(client.get("/funds/").get_data(as_text=True))
    assert 'aria-label="Notifications, 0 unread"' in bell and '<span class="count" hidden>' in bell and 'href="/notifications"' in bell
    _make(world, n=2)
    _make(world, who="buyer")
    bell = _bell(client.get("/vendors/").get_data(as_text=True))
    assert 'aria-label="Notifications, 2 unread"' in bell and '<span class="count">2</span>' in bell
    polled = client.get("/notifications/bell", headers=HX).get_data(as_text=True)
    assert 'aria-label="Notifications, 2 unread"' in polled and 'hx-trigger="every 60s"' in polled
    assert "<main" not in polled, "the poll gets the bell alone"


def test_the_list_is_the_users_own_newest_first_unread_or_all(app, world, login_as):
    first, second = _make(world, n=2)
    [other] = _make(world, who="buyer")
    notes.mark(world.user("fundmgr"), first)
    db.session.commit()
    client = login_as("fundmgr")
    html = client.get("/notifications").get_data(as_text=True)
    assert "Claim POL-2" in html and "Claim POL-1" not in html, "unread by default"
    html = client.get("/notifications?show=all").get_data(as_text=True)
    assert html.index("Claim POL-2") < html.index("Claim POL-1") and "A claim is due" in html
    assert f"notification-{other.id}" not in html
    fragment = client.get("/notifications?show=all", headers=HX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="notifications"') and "<main" not in fragment


def test_another_users_notification_is_not_found(app, world, login_as):
    [other] = _make(world, who="buyer")
    client = login_as("fundmgr")
    assert client.post(f"/notifications/{other.id}/read").status_code == 404
    assert client.post(f"/notifications/{other.id}/open").status_code == 404
    assert client.post("/notifications/999999/read").status_code == 404
    db.session.refresh(other)
    assert other.read_at is None


def test_mark_read_and_unread_answer_the_row_and_the_bell(app, world, login_as):
    [n, _] = _make(world, n=2)
    client = login_as("fundmgr")
    resp = client.post(f"/notifications/{n.id}/read", data={"read": "1"}, headers=HX)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and f'id="notification-{n.id}"' in html and "Mark unread" in html
    assert 'hx-swap-oob="outerHTML"' in _bell(html) and "Notifications, 1 unread" in html
    db.session.refresh(n)
    assert n.read_at is not None
    resp = client.post(f"/notifications/{n.id}/read", data={"read": "0"})
    assert resp.status_code == 302
    db.session.refresh(n)
    assert n.read_at is None and notes.unread_count(world.user("fundmgr")) == 2


def test_mark_all_read(app, world, login_as):
    _make(world, n=3)
    _make(world, who="buyer")
    client = login_as("fundmgr")
    html = client.post("/notifications/read-all", data={"show": "unread"}, headers=HX).get_data(as_text=True)
    assert "Nothing unread." in html and "Notifications, 0 unread" in html
    assert notes.unread_count(world.user("fundmgr")) == 0 and notes.unread_count(world.user("buyer")) == 1


def test_opening_marks_read_and_goes_to_the_object_only_inside_the_app(app, world, login_as):
    [n] = _make(world)
    [evil] = _make(world, url="//evil.example/x")
    client = login_as("fundmgr")
    resp = client.post(f"/notifications/{n.id}/open")
    assert resp.status_code == 302 and resp.headers["Location"] == "/orders/lines/POL-1"
    resp = client.post(f"/notifications/{evil.id}/open")
    assert resp.headers["Location"] == "/notifications?show=all"
    assert db.session.scalar(select(Notification).where(Notification.read_at.is_(None))) is None


def test_preferences_per_kind(app, world, login_as):
    client = login_as("buyer")
    html = client.get("/me/notifications").get_data(as_text=True)
    assert 'id="claim_due-now" aria-labelledby="kind-claim_due claim_due-now-label" checked' in html
    resp = client.post("/me/notifications", data={"claim_due": "off", "approval_waiting": "digest"})
    assert resp.status_code == 302
    assert notes.preferences(world.user("buyer"))["claim_due"] == "off"
    assert notes.preferences(world.user("buyer"))["approval_waiting"] == "digest"
    assert notes.preferences(world.user("buyer"))["renewal_due"] == "now"
    resp = client.post("/me/notifications", data={"claim_due": "hourly", "renewal_due": "off"}, headers=HX)
    assert resp.status_code == 422 and "Choose" in resp.get_data(as_text=True)
    assert notes.preferences(world.user("buyer"))["renewal_due"] == "now", "nothing saved"
    assert db.session.scalar(select(db.func.count()).select_from(NotificationPreference).where(
        NotificationPreference.user_id == world.users["fundmgr"])) == 0, "another user's untouched"


def test_the_users_page_shows_the_preferences_beside_the_home_choice(app, world, login_as):
    html = login_as("buyer").get("/me").get_data(as_text=True)
    assert 'id="home-setting"' in html and 'id="notification-preferences"' in html
