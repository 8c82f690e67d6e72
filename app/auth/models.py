"""Users and their role assignments, each scoped to the institution or to one library."""
from enum import Enum

from flask_login import UserMixin
from sqlalchemy.orm import declared_attr

from ..clock import utcnow
from ..extensions import db
from ..text import T


class Role(str, Enum):
    ADMIN = "admin"
    FUND_MANAGER = "fund_manager"
    PURCHASING_OPERATOR = "purchasing_operator"
    INVOICE_OPERATOR = "invoice_operator"
    INVOICE_OPERATOR_EXTENDED = "invoice_operator_extended"
    INVOICE_MANAGER = "invoice_manager"
    VIEWER = "viewer"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: T("General system administrator"),
    Role.FUND_MANAGER: T("Fund manager"),
    Role.PURCHASING_OPERATOR: T("Purchasing operator"),
    Role.INVOICE_OPERATOR: T("Invoice operator"),
    Role.INVOICE_OPERATOR_EXTENDED: T("Invoice operator extended"),
    Role.INVOICE_MANAGER: T("Invoice manager"),
    Role.VIEWER: T("Viewer"),
}
# The same, inside a sentence ("Only a fund manager … may …").
ROLE_NAMES = {
    Role.ADMIN: T("general system administrator"),
    Role.FUND_MANAGER: T("fund manager"),
    Role.PURCHASING_OPERATOR: T("purchasing operator"),
    Role.INVOICE_OPERATOR: T("invoice operator"),
    Role.INVOICE_OPERATOR_EXTENDED: T("invoice operator extended"),
    Role.INVOICE_MANAGER: T("invoice manager"),
    Role.VIEWER: T("viewer"),
}


class User(UserMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(64), nullable=False, unique=True)
    full_name = db.Column(db.String(200), nullable=False, default="")
    email = db.Column(db.String(200), nullable=False, default="")
    password_hash = db.Column(db.String(255), nullable=False)
    active = db.Column(db.Boolean, nullable=False, default=True)
    # Bumped on password or role change: sessions carrying an older epoch are logged out.
    session_epoch = db.Column(db.Integer, nullable=False, default=0)
    api_token_hash = db.Column(db.String(64), unique=True)
    home = db.Column(db.String(10), nullable=False, default="work")   # after login: "work" (My work) or "funds"
    language = db.Column(db.String(10))   # a key of app.i18n.LANGUAGES; None: the browser's, else the institution's
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    assignments = db.relationship("RoleAssignment", back_populates="user", cascade="all, delete-orphan",
                                  lazy="selectin", order_by="RoleAssignment.id")

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    def __str__(self):
        return self.full_name or self.username


class HistoryEntry:
    """The columns of a history table's entry: who did what when, and for a field change old → new."""
    at = db.Column(db.DateTime, nullable=False, default=utcnow)
    actor_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    action = db.Column(db.String(40), nullable=False)
    field = db.Column(db.String(60), nullable=False, default="")
    old_value = db.Column(db.Text, nullable=False, default="")
    new_value = db.Column(db.Text, nullable=False, default="")
    note = db.Column(db.Text, nullable=False, default="")

    @declared_attr
    def actor(cls):
        return db.relationship("User", lazy="joined")


class RoleAssignment(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    role = db.Column(db.String(32), nullable=False)
    library_id = db.Column(db.Integer, db.ForeignKey("library.id"))  # NULL: the whole institution

    user = db.relationship("User", back_populates="assignments")
    library = db.relationship("Library", lazy="joined")

    __table_args__ = (
        db.CheckConstraint("role IN ('admin','fund_manager','purchasing_operator','invoice_operator',"
                           "'invoice_operator_extended','invoice_manager','viewer')", name="role_known"),
    )

    @property
    def scope_label(self) -> str:
        return str(self.library) if self.library else T("Institution")


class LoginSession(db.Model):
    """One login in one browser. The session cookie carries a random token and this row only its
    SHA-256. Logging out deletes the row, so every copy of that cookie stops working at once."""
    id = db.Column(db.Integer, primary_key=True)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = db.Column(db.DateTime, nullable=False, index=True)


class LoginFailure(db.Model):
    """Failed logins, kept for throttling (app/auth/services.py: authenticate). An attempt is
    recorded before its password is checked and deleted when the password was right."""
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(64), nullable=False, index=True)
    remote_addr = db.Column(db.String(64), nullable=False, index=True)
    at = db.Column(db.DateTime, nullable=False, default=utcnow, index=True)
