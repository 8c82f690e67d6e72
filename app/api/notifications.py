"""API v1: the caller's own notifications (the bell's list: unread or all, newest first, paged), marking
one read or unread, marking all read, and the caller's e-mail preferences per kind — the services of
/notifications and /me/notifications. Every role; another user's notification is not found (404)."""
from __future__ import annotations

from flask import current_app
from flask_login import current_user

from ..auth.permissions import ALL_ROLES, roles_required
from ..idempotency import idempotent
from ..notifications import services as notes
from ..notifications.models import KINDS, MODES
from .base import (INTEGER, MOMENT, NULLABLE_MOMENT, STRING, action_routes, bp, choice_arg, commit,
                   etag_of, match, object_schema, one, operation, page_args, page_of, param, patch_schema,
                   path_param, per_page_param, query_param, register_openapi)
from .serializers import Field, read_body, read_patch, timestamp

MAX_PER_PAGE = 100
SHOW = ("unread", "all")
PREFERENCES_IN = {kind: Field("enum", f"{label}: " + "; ".join(f"{m}: {t}" for m, t in MODES.items()) + ".",
                              choices=tuple(MODES)) for kind, label in KINDS.items()}


def notification_json(n) -> dict:
    return {"id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "url": n.url,
            "object_type": n.object_type, "object_id": n.object_id, "created_at": timestamp(n.created_at),
            "read_at": timestamp(n.read_at)}


@bp.get("/notifications")
@roles_required(*ALL_ROLES)
def list_notifications():
    page = page_args(current_app.config["PAGE_SIZE"], MAX_PER_PAGE)
    show = choice_arg("show", SHOW) or "unread"
    return page.of(notes.for_user(current_user, unread_only=show == "unread"), notification_json)


@bp.get("/notifications/<int:id>")
@roles_required(*ALL_ROLES)
def get_notification(id):  # noqa: A002 - the path parameter is {id}
    return one(notes.get(current_user, id), notification_json)


action_routes("/notifications/<int:id>/actions", lambda id: notes.get(current_user, id), notification_json, {
    "read": ("read_notification", ALL_ROLES, {},
             lambda n, body: notes.mark(current_user, n, read=True)),
    "unread": ("unread_notification", ALL_ROLES, {},
               lambda n, body: notes.mark(current_user, n, read=False)),
})


@bp.post("/notifications/actions/read_all")
@roles_required(*ALL_ROLES)
@idempotent
def read_all_notifications():
    read_body({}, optional=True)
    marked = notes.mark_all_read(current_user)
    commit()
    return {"marked": marked}


# -- preferences -------------------------------------------------------------------------------

def _preferences() -> dict:
    return notes.preferences(current_user)


@bp.get("/me/notification-preferences")
@roles_required(*ALL_ROLES)
def get_notification_preferences():
    return one(current_user, lambda user: notes.preferences(user))


@bp.patch("/me/notification-preferences")
@roles_required(*ALL_ROLES)
def patch_notification_preferences():
    match(_preferences)
    body = read_patch(PREFERENCES_IN, _preferences())
    notes.set_preferences(current_user, {kind: body[kind] for kind in body.given})
    commit()
    data = _preferences()
    return data, 200, {"ETag": etag_of(data)}


# -- OpenAPI -----------------------------------------------------------------------------------

_ROLES = "any role; your own notifications only (another user's is not found)"
_MODE = {"type": "string", "enum": list(MODES)}
_KEY_REUSED = "422: the Idempotency-Key was used for another request."

register_openapi(
    schemas={
        "Notification": object_schema({
            "id": INTEGER, "kind": {"type": "string", "enum": list(KINDS)}, "title": STRING, "body": STRING,
            "url": {"type": "string", "description": "Where to look: a path in the application (may be empty)."},
            "object_type": {"type": "string", "description": "What it is about: invoice, po_line, job_run, ..."},
            "object_id": {"type": ["integer", "null"]}, "created_at": MOMENT, "read_at": NULLABLE_MOMENT}),
        "NotificationPage": page_of("Notification", "Notifications"),
        "NotificationsMarked": object_schema({"marked": {"type": "integer",
                                                         "description": "How many were unread and are now read."}}),
        "NotificationPreferences": object_schema({kind: {**_MODE, "description": label}
                                                  for kind, label in KINDS.items()},
                                                 "How you hear of each kind by e-mail: " + "; ".join(
                                                     f"{m}: {t}" for m, t in MODES.items()) + "."),
        "NotificationPreferencesPatch": patch_schema(PREFERENCES_IN, "Some kinds' modes; the others stay."),
        "NotificationActionInput": {"type": "object", "additionalProperties": False, "properties": {},
                                    "description": "Nothing to give."},
    },
    parameters={
        "NotificationId": path_param("id", "The notification's id."),
        "NotificationShow": query_param("show", {"type": "string", "enum": list(SHOW), "default": "unread"},
                                        "unread (the default) or all."),
        "NotificationPerPage": per_page_param(MAX_PER_PAGE, 50),
    },
    paths={
        "/api/v1/notifications": {
            "get": operation("listNotifications", "Your notifications, newest first, paged", _ROLES,
                             ("200", "NotificationPage", "One page."), ("400",),
                             params=("NotificationShow", "Page", "NotificationPerPage")),
        },
        "/api/v1/notifications/{id}": {
            "parameters": [param("NotificationId")],
            "get": operation("getNotification", "One of your notifications", _ROLES,
                             ("200", "Notification", "It."), ("404",), etag=True),
        },
        **{f"/api/v1/notifications/{{id}}/actions/{action}": {
            "parameters": [param("NotificationId")],
            "post": operation(op_id, summary, _ROLES, ("200", "Notification", "The notification."),
                              ("400", "404", "422"), body="NotificationActionInput", idempotent=True,
                              body_required=False, if_match="optional", note="The body is optional. " + _KEY_REUSED)}
           for action, op_id, summary in (("read", "readNotification", "Mark a notification read"),
                                          ("unread", "unreadNotification", "Mark a notification unread"))},
        "/api/v1/notifications/actions/read_all": {
            "post": operation("readAllNotifications", "Mark all your notifications read", "any role",
                              ("200", "NotificationsMarked", "Done."), ("400", "422"), body="NotificationActionInput",
                              body_required=False, idempotent=True, note=_KEY_REUSED),
        },
        "/api/v1/me/notification-preferences": {
            "get": operation("getNotificationPreferences", "How you hear of each kind of notification by e-mail",
                             "any role", ("200", "NotificationPreferences", "Your preferences."), etag=True),
            "patch": operation("patchNotificationPreferences", "Change how you hear of some kinds", "any role",
                               ("200", "NotificationPreferences", "Saved."), ("400",),
                               body="NotificationPreferencesPatch", if_match="required",
                               note="Only the kinds sent change."),
        },
    })
