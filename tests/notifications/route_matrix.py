"""Role rows for the notifications (app/notifications/views.py): every role reads and marks its own
(merged into tests/route_matrix.py)."""
from tests.route_matrix_roles import ALL

MATRIX = {
    "notifications.index": ALL,
    "notifications.bell": ALL,
    "notifications.mark": ALL,
    "notifications.mark_all": ALL,
    "notifications.open_": ALL,
    "notifications.preferences": ALL,
}
