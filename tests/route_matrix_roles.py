"""Role sets shared by the route matrices (tests/route_matrix.py and tests/<domain>/route_matrix.py)."""
from app.auth.models import Role

ALL = frozenset(Role)
MONEY = frozenset({Role.ADMIN, Role.FUND_MANAGER})
ADMIN = frozenset({Role.ADMIN})
PURCHASING = frozenset({Role.ADMIN, Role.PURCHASING_OPERATOR})
PUBLIC = "public"
