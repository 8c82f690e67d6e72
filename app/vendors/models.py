"""Vendors (accounts, payment addresses, contacts, EDI details) and the currency repository."""
from __future__ import annotations

from ..clock import utcnow
from ..extensions import db
from ..text import T
from ..types import Fixed, Percent

ADDRESS_TYPES = ("billing", "payment", "order", "claim", "returns", "shipping")
# How orders, cancellations and claims reach the vendor (app.outgoing); an account may override it.
ORDER_CHANNELS = {"email": T("E-mail"), "edi": T("EDI"), "print": T("Print (PDF to post)"),
                  "none": T("None (ordered by phone or on the vendor's site)")}
VENDOR_STATUSES = {"active": T("Active"), "inactive": T("Inactive")}
# What a contact receives: orders and cancellations, claims, payment notices.
CONTACT_ROLES = {"order": T("Orders"), "claim": T("Claims"), "payment": T("Payment notices")}
# What an address is used for (stored in English, shown translated).
ADDRESS_TYPE_LABELS = {"billing": T("Billing"), "payment": T("Payment"), "order": T("Order"), "claim": T("Claim"),
                       "returns": T("Returns"), "shipping": T("Shipping")}


class Vendor(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(20), nullable=False, unique=True)
    name = db.Column(db.String(200), nullable=False)
    status = db.Column(db.String(10), nullable=False, default="active")
    currency = db.Column(db.String(3), nullable=False)
    financial_sys_code = db.Column(db.String(50), nullable=False, default="")
    additional_code = db.Column(db.String(50), nullable=False, default="")
    national_tax_id = db.Column(db.String(50), nullable=False, default="")
    liable_for_vat = db.Column(db.Boolean, nullable=False, default=False)
    is_governmental = db.Column(db.Boolean, nullable=False, default=False)
    vat_percent = db.Column(Percent())  # the VAT a governmental vendor collects
    governmental_vendor_id = db.Column(db.Integer, db.ForeignKey("vendor.id"))
    notes = db.Column(db.Text, nullable=False, default="")
    language = db.Column(db.String(10))   # letters and PDFs in this language (app.i18n.LANGUAGES); none: the institution's
    # EDI details, used by the EDI issue
    edi_enabled = db.Column(db.Boolean, nullable=False, default=False)
    edi_vendor_id = db.Column(db.String(50), nullable=False, default="")  # SAN, EAN, ...
    edi_id_qualifier = db.Column(db.String(10), nullable=False, default="")
    edi_folder = db.Column(db.String(200), nullable=False, default="")
    order_channel = db.Column(db.String(10), nullable=False, default="none")
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    governmental_vendor = db.relationship("Vendor", remote_side=[id], lazy="joined", join_depth=1)
    accounts = db.relationship("VendorAccount", back_populates="vendor", order_by="VendorAccount.code",
                               cascade="all, delete-orphan")
    addresses = db.relationship("VendorAddress", back_populates="vendor", order_by="VendorAddress.id",
                                cascade="all, delete-orphan")
    contacts = db.relationship("VendorContact", back_populates="vendor", order_by="VendorContact.id",
                               cascade="all, delete-orphan")

    __table_args__ = (
        db.CheckConstraint("status IN ('active','inactive')", name="status_known"),
        db.CheckConstraint("governmental_vendor_id IS NULL OR governmental_vendor_id <> id", name="not_self_linked"),
        db.CheckConstraint("order_channel IN ('email','edi','print','none')", name="order_channel_known"),
    )

    def __str__(self):
        return f"{self.name} ({self.code})"


class VendorPart:
    """The first columns of a vendor's accounts, addresses and contacts: their id and the vendor they
    belong to (deleted with it)."""
    id = db.mapped_column(db.Integer, primary_key=True, sort_order=-2)
    vendor_id = db.mapped_column(db.Integer, db.ForeignKey("vendor.id", ondelete="CASCADE"), nullable=False,
                                 index=True, sort_order=-1)


class VendorAccount(VendorPart, db.Model):
    code = db.Column(db.String(40), nullable=False)
    description = db.Column(db.String(200), nullable=False, default="")
    financial_sys_code = db.Column(db.String(50), nullable=False, default="")
    status = db.Column(db.String(10), nullable=False, default="active")
    order_channel = db.Column(db.String(10))  # NULL: the vendor's

    vendor = db.relationship("Vendor", back_populates="accounts")

    __table_args__ = (
        db.UniqueConstraint("vendor_id", "code"),
        db.CheckConstraint("status IN ('active','inactive')", name="status_known"),
        db.CheckConstraint("order_channel IS NULL OR order_channel IN ('email','edi','print','none')",
                           name="order_channel_known"),
    )


class VendorAddress(VendorPart, db.Model):
    line1 = db.Column(db.String(200), nullable=False)
    line2 = db.Column(db.String(200), nullable=False, default="")
    city = db.Column(db.String(100), nullable=False, default="")
    state = db.Column(db.String(100), nullable=False, default="")
    postal_code = db.Column(db.String(20), nullable=False, default="")
    country = db.Column(db.String(100), nullable=False, default="")
    types = db.Column(db.String(100), nullable=False, default="")  # comma-separated ADDRESS_TYPES
    preferred = db.Column(db.Boolean, nullable=False, default=False)

    vendor = db.relationship("Vendor", back_populates="addresses")

    @property
    def type_list(self) -> list[str]:
        return [t for t in self.types.split(",") if t]

    @property
    def one_line(self) -> str:
        parts = [self.line1, self.line2, self.city, self.state, self.postal_code, self.country]
        return ", ".join(p for p in parts if p)


class VendorContact(VendorPart, db.Model):
    name = db.Column(db.String(200), nullable=False)
    email = db.Column(db.String(200), nullable=False, default="")
    phone = db.Column(db.String(50), nullable=False, default="")
    note = db.Column(db.Text, nullable=False, default="")
    roles = db.Column(db.String(100), nullable=False, default="")  # comma-separated CONTACT_ROLES

    vendor = db.relationship("Vendor", back_populates="contacts")

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split(",") if r]


class ExchangeRate(db.Model):
    """1 unit of ``currency`` = ``rate`` units of the institution's currency, from ``day`` on."""
    id = db.Column(db.Integer, primary_key=True)
    currency = db.Column(db.String(3), nullable=False)
    day = db.Column(db.Date, nullable=False)
    rate = db.Column(Fixed(18, 8), nullable=False)
    actor_id = db.Column(db.Integer, db.ForeignKey("user.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=utcnow)

    actor = db.relationship("User", lazy="joined")

    __table_args__ = (
        db.UniqueConstraint("currency", "day"),
        db.CheckConstraint("rate > 0", name="rate_positive"),
    )
