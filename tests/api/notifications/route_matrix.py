"""Role rows for the notifications API (app/api/notifications.py): every role reads and marks its own and
sets its own preferences (merged into tests/route_matrix.py)."""
from tests.route_matrix_roles import ALL

MATRIX: dict = {}

API_MATRIX = {
    "api.list_notifications": ALL,
    "api.get_notification": ALL,
    "api.read_notification": ALL,
    "api.unread_notification": ALL,
    "api.read_all_notifications": ALL,
    "api.get_notification_preferences": ALL,
    "api.patch_notification_preferences": ALL,
}
