"""Imports every model module so metadata (and Alembic) sees all tables."""
from .auth.models import LoginFailure, LoginSession, RoleAssignment, User  # noqa: F401
from .funds.models import FiscalPeriod, Fund, FundTransaction, FundType, Ledger  # noqa: F401
from .inventory import models as _inventory  # noqa: F401
from .org.models import Institution, Library  # noqa: F401
from .vendors import models as _vendors  # noqa: F401
from .orders import models as _orders  # noqa: F401
from .invoices import models as _invoices  # noqa: F401
from .integrations import models as _integrations  # noqa: F401
from .integrations.edi import models as _edi  # noqa: F401
from . import idempotency as _idempotency  # noqa: F401
from .outgoing import models as _outgoing  # noqa: F401
from .notifications import models as _notifications  # noqa: F401
from . import list_columns as _list_columns  # noqa: F401
