"""Every change to vendors and exchange rates goes through these functions.

They take an explicit ``actor``, check the rules, flush, and raise :mod:`app.errors` exceptions with
messages meant for people. Callers commit.

Vendors and exchange rates are the institution's, shared by every library: creating a vendor,
changing its :data:`SHARED_VENDOR_FIELDS`, its accounts and addresses, and adding rates need the role
held for the whole institution (:func:`app.auth.permissions.require_institution_role`). A
library-scoped buyer may still change a vendor's notes and its contacts.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import or_, select

from ..auth.models import Role
from ..auth.permissions import can_change_institution_data, has_any_role, require_institution_role
from ..errors import Duplicate, Forbidden, InvalidInput, NotFound, RuleViolation
from ..extensions import db
from ..i18n import LANGUAGES
from ..funds.services import check_currency  # noqa: F401  (one currency rule for every domain)
from ..ledger.money import RATE_SCALE, Rate, has_percent_precision, quantize_rate
from ..org.models import Institution
from ..ids import parse_id
from ..listing import by_language
from ..text import T, Text
from .models import ADDRESS_TYPES, CONTACT_ROLES, ExchangeRate, Vendor, VendorAccount, VendorAddress, VendorContact

VENDOR_EDITORS = frozenset({Role.ADMIN, Role.PURCHASING_OPERATOR})
RATE_EDITORS = frozenset({Role.ADMIN, Role.FUND_MANAGER, Role.INVOICE_MANAGER})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_RATE = re.compile(r"^[0-9]{1,10}(\.[0-9]+)?$")   # ASCII digits: Decimal() would read any script's


# What every library shares: these go into the ERP's order and payment files (name, the codes, the
# tax ID, VAT liability; the accounts and the addresses too) or decide how every library's orders and
# invoices are handled (status, currency, the governmental vendor and its VAT, the EDI exchange).
# The language of the letters (app.i18n.LANGUAGES; None: the institution's default) is shared too.
SHARED_VENDOR_FIELDS = {
    "name": T("name"), "status": T("status"), "currency": T("currency"),
    "financial_sys_code": T("financial-system code"), "additional_code": T("additional code"),
    "national_tax_id": T("national tax ID"), "liable_for_vat": T("VAT liability"),
    "is_governmental": T("governmental vendor mark"), "vat_percent": T("VAT percent"),
    "governmental_vendor": T("governmental vendor"), "edi_enabled": T("EDI settings"),
    "edi_vendor_id": T("EDI vendor ID"), "edi_id_qualifier": T("EDI ID qualifier"), "edi_folder": T("EDI folder"),
    "order_channel": T("order channel"), "language": T("language of letters"),
}
# How orders, cancellations and claims reach a vendor (app.outgoing delivers them); an account may differ.
ORDER_CHANNELS = {"email": T("E-mail (to the order contact)"), "edi": T("EDI (EDIFACT ORDERS)"),
                  "print": T("Print (a PDF to post)"), "none": T("None (ordered by phone or on the vendor's site)")}
# The same in the middle of a sentence ("The vendor's (none (ordered by phone …))").
ORDER_CHANNELS_IN_SENTENCE = {
    "email": T("e-mail (to the order contact)"), "edi": T("EDI (EDIFACT ORDERS)"), "print": T("print (a PDF to post)"),
    "none": T("none (ordered by phone or on the vendor's site)")}


def letter_languages() -> dict:
    """The languages a vendor's letters may be written in (code → name): :data:`app.i18n.LANGUAGES`."""
    return LANGUAGES


def may_change_shared_vendor_data(user) -> bool:
    """Create vendors, change their shared fields, accounts and addresses."""
    return can_change_institution_data(user, VENDOR_EDITORS)


def may_add_rates(user) -> bool:
    return can_change_institution_data(user, RATE_EDITORS)


def _require_shared(actor, what: Text) -> None:
    _require(actor, VENDOR_EDITORS, what)
    require_institution_role(actor, VENDOR_EDITORS, what)


class MissingRate(RuleViolation):
    """No exchange rate on or before the day: never silently 1."""


def _require(actor, roles, what: Text):
    """``what`` completes "You may not …" (a :func:`T` text: "create vendors")."""
    if actor is None or not has_any_role(actor, roles):
        raise Forbidden(T("You may not %(what)s.", what=what))


def _text(value, name: str, max_len: int, required: bool = False, label: Text | None = None) -> str:
    """``label`` names the field at the start of a sentence (a :func:`T` text: "The city")."""
    value = (value or "").strip()
    label = label or name.replace('_', ' ').capitalize()
    if required and not value:
        raise InvalidInput(T("%(field)s is required.", field=label), name)
    if len(value) > max_len:
        raise InvalidInput(T("%(field)s is at most %(max)s characters.", field=label, max=max_len), name)
    return value


def _status(value, name="status") -> str:
    if value not in ("active", "inactive"):
        raise InvalidInput(T("Status is active or inactive."), name)
    return value


def _language(value) -> str | None:
    """A vendor's language of letters: a key of :func:`letter_languages`, or None (the institution's)."""
    if value in (None, ""):
        return None
    if value not in letter_languages():
        raise InvalidInput(T("Choose a language of letters from the list (%(codes)s), or none for the "
                             "institution's default.", codes=", ".join(letter_languages())), "language")
    return value


# -- vendors -------------------------------------------------------------------------------------

@dataclass
class VendorFields:
    name: str = ""
    status: str = "active"
    currency: str = ""
    financial_sys_code: str = ""
    additional_code: str = ""
    national_tax_id: str = ""
    liable_for_vat: bool = False
    is_governmental: bool = False
    vat_percent: Decimal | None = None
    governmental_vendor: str | None = None  # the governmental vendor's code
    notes: str = ""
    edi_enabled: bool = False
    edi_vendor_id: str = ""
    edi_id_qualifier: str = ""
    edi_folder: str = ""
    order_channel: str = "none"
    language: str | None = None   # the letters' language (app.i18n.LANGUAGES); None: the institution's default

    @classmethod
    def of(cls, vendor: Vendor) -> "VendorFields":
        values = {f.name: getattr(vendor, f.name) for f in fields(cls) if f.name != "governmental_vendor"}
        return cls(governmental_vendor=vendor.governmental_vendor.code if vendor.governmental_vendor else None,
                   **values)


def get_vendor(vendor_id) -> Vendor:
    vendor_id = parse_id(vendor_id) if isinstance(vendor_id, int) else None
    vendor = db.session.get(Vendor, vendor_id) if vendor_id else None
    if vendor is None:
        raise NotFound(T("No such vendor."))
    return vendor


def find_vendor(code: str) -> Vendor:
    vendor = db.session.scalar(select(Vendor).where(Vendor.code == str(code)))
    if vendor is None:
        raise NotFound(T("No vendor %(code)s.", code=code))
    return vendor


def _check_code(code) -> str:
    code = (code or "").strip()
    if not code or len(code) > 20 or any(c.isspace() for c in code):
        raise InvalidInput(T("A vendor code is 1–20 characters without spaces."), "code")
    return code


def create_vendor(actor, code: str, data: VendorFields) -> Vendor:
    _require_shared(actor, T("create vendors"))
    code = _check_code(code)
    if db.session.scalar(select(Vendor.id).where(Vendor.code == code)):
        raise Duplicate(T("A vendor with code %(code)s already exists.", code=code), "code")
    vendor = Vendor(code=code)
    _apply(vendor, data)
    db.session.add(vendor)
    db.session.flush()
    return vendor


def _comparable(name: str, value):
    if isinstance(value, str):
        value = value.strip().upper() if name == "currency" else value.strip()
    if name in ("governmental_vendor", "language"):
        return value or None
    return value


def changed_shared_fields(vendor: Vendor, data: VendorFields) -> list[str]:
    """The shared fields whose value ``data`` would change."""
    current = VendorFields.of(vendor)
    return [name for name in SHARED_VENDOR_FIELDS
            if _comparable(name, getattr(data, name)) != _comparable(name, getattr(current, name))]


def update_vendor(actor, vendor: Vendor, data: VendorFields) -> Vendor:
    _require(actor, VENDOR_EDITORS, T(T("change vendors")))
    if not may_change_shared_vendor_data(actor):
        changed = changed_shared_fields(vendor, data)
        if changed:
            require_institution_role(actor, VENDOR_EDITORS,
                                     T("change a vendor's %(field)s", field=SHARED_VENDOR_FIELDS[changed[0]]))
    _apply(vendor, data)
    db.session.flush()
    return vendor


def _apply(vendor: Vendor, d: VendorFields) -> None:
    name = _text(d.name, "name", 200, required=True, label=T("A name"))
    status = _status(d.status)
    currency = check_currency(d.currency)
    vat = d.vat_percent
    if vat is not None:
        if not isinstance(vat, Decimal) or not vat.is_finite() or vat < 0 or vat > 100 \
                or not has_percent_precision(vat):
            raise InvalidInput(T("The VAT percent is a number from 0 to 100 with at most 2 decimals."),
                               "vat_percent")
    if d.is_governmental and vat is None:
        raise InvalidInput(T("A governmental vendor needs its VAT percent."), "vat_percent")
    linked = None
    if d.governmental_vendor:
        linked = db.session.scalar(select(Vendor).where(Vendor.code == d.governmental_vendor))
        if linked is None:
            raise InvalidInput(T("No vendor %(code)s.", code=d.governmental_vendor), "governmental_vendor")
        if vendor.id is not None and linked.id == vendor.id or linked.code == vendor.code:
            raise RuleViolation(T("A vendor cannot be its own governmental vendor."), "governmental_vendor")
        if not linked.is_governmental:
            raise RuleViolation(T("Vendor %(code)s is not marked as a governmental vendor.", code=linked.code),
                                "governmental_vendor")
        if d.is_governmental:
            raise RuleViolation(T("A governmental vendor cannot link to another governmental vendor."),
                                "governmental_vendor")
    if not d.is_governmental and vendor.is_governmental and vendor.id is not None:
        dependants = db.session.scalar(select(Vendor.code).where(Vendor.governmental_vendor_id == vendor.id))
        if dependants:
            raise RuleViolation(T("Vendor %(code)s links to this governmental vendor; unlink it first.",
                                  code=dependants),
                                "is_governmental")
    vendor.name, vendor.status, vendor.currency = name, status, currency
    vendor.financial_sys_code = _text(d.financial_sys_code, "financial_sys_code", 50,
                                      label=T("The financial-system code"))
    vendor.additional_code = _text(d.additional_code, "additional_code", 50, label=T("The additional code"))
    vendor.national_tax_id = _text(d.national_tax_id, "national_tax_id", 50, label=T("The national tax ID"))
    vendor.liable_for_vat = bool(d.liable_for_vat)
    vendor.is_governmental = bool(d.is_governmental)
    vendor.vat_percent = vat
    vendor.governmental_vendor = linked
    vendor.notes = (d.notes or "").strip()
    vendor.edi_enabled = bool(d.edi_enabled)
    vendor.edi_vendor_id = _text(d.edi_vendor_id, "edi_vendor_id", 50, label=T("The EDI vendor ID"))
    vendor.edi_id_qualifier = _text(d.edi_id_qualifier, "edi_id_qualifier", 10, label=T("The EDI ID qualifier"))
    vendor.edi_folder = _text(d.edi_folder, "edi_folder", 200, label=T("The EDI folder"))
    if vendor.edi_enabled and not vendor.edi_vendor_id:
        raise InvalidInput(T("EDI needs the vendor's EDI ID (SAN or EAN)."), "edi_vendor_id")
    vendor.order_channel = _channel(d.order_channel or "none", "order_channel")
    if vendor.order_channel == "edi" and not vendor.edi_vendor_id:
        raise InvalidInput(T("EDI orders need the vendor's EDI ID (SAN or EAN)."), "edi_vendor_id")
    vendor.language = _language(d.language)


def _channel(value: str | None, field: str) -> str | None:
    if value is not None and value not in ORDER_CHANNELS:
        raise InvalidInput(T("Choose an order channel from the list."), field)
    return value


VENDOR_SORTS = {"code": (Vendor.code,), "-code": (Vendor.code.desc(),),
                "name": (by_language(Vendor.name), Vendor.code), "-name": (by_language(Vendor.name, True), Vendor.code)}


def vendors_query(q: str = "", status: str = "", sort: str = "code"):
    """The vendors list's select: ``q`` in the code or the name (case-insensitive), of ``status``
    (active, inactive; "": both), in the order ``sort`` (:data:`VENDOR_SORTS`)."""
    query = select(Vendor)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Vendor.code.ilike(like), Vendor.name.ilike(like)))
    if status:
        query = query.where(Vendor.status == status)
    return query.order_by(*VENDOR_SORTS[sort])


def governmental_vendors() -> list[Vendor]:
    return db.session.scalars(select(Vendor).where(Vendor.is_governmental).order_by(Vendor.code)).all()


# -- accounts, addresses, contacts ---------------------------------------------------------------

def _child(model, vendor: Vendor, child_id):
    child_id = parse_id(child_id) if isinstance(child_id, int) else None
    row = db.session.get(model, child_id) if child_id else None
    if row is None or row.vendor_id != vendor.id:
        if model is VendorAccount:
            raise NotFound(T("No such account for vendor %(code)s.", code=vendor.code))
        if model is VendorAddress:
            raise NotFound(T("No such address for vendor %(code)s.", code=vendor.code))
        raise NotFound(T("No such contact for vendor %(code)s.", code=vendor.code))
    return row


def get_account(vendor: Vendor, code: str) -> VendorAccount:
    """The vendor's account with this code (NotFound when it has none)."""
    account = next((a for a in vendor.accounts if a.code == code), None)
    if account is None:
        raise NotFound(T("Vendor %(vendor)s has no account %(code)s.", vendor=vendor.code, code=code))
    return account


def get_address(vendor: Vendor, address_id) -> VendorAddress:
    return _child(VendorAddress, vendor, address_id)


def get_contact(vendor: Vendor, contact_id) -> VendorContact:
    return _child(VendorContact, vendor, contact_id)


def _account_fields(account, vendor, code, description, financial_sys_code, status, order_channel=None):
    code = (code or "").strip()
    if not code or len(code) > 40 or any(c.isspace() for c in code):
        raise InvalidInput(T("An account code is 1–40 characters without spaces."), "code")
    clash = db.session.scalar(select(VendorAccount.id).where(VendorAccount.vendor_id == vendor.id,
                                                             VendorAccount.code == code))
    if clash and clash != account.id:
        raise Duplicate(T("Vendor %(vendor)s already has an account %(code)s.", vendor=vendor.code, code=code), "code")
    account.code = code
    account.description = _text(description, "description", 200, label=T("The description"))
    account.financial_sys_code = _text(financial_sys_code, "financial_sys_code", 50,
                                       label=T("The financial-system code"))
    account.status = _status(status)
    account.order_channel = _channel(order_channel or None, "order_channel")


def add_account(actor, vendor: Vendor, code: str, description: str = "", financial_sys_code: str = "",
                status: str = "active", order_channel: str | None = None) -> VendorAccount:
    """``order_channel`` None: the vendor's."""
    _require_shared(actor, T("change a vendor's accounts"))
    account = VendorAccount()
    _account_fields(account, vendor, code, description, financial_sys_code, status, order_channel)
    vendor.accounts.append(account)
    db.session.flush()
    return account


def update_account(actor, vendor: Vendor, account_id: int, code: str, description: str = "",
                   financial_sys_code: str = "", status: str = "active") -> VendorAccount:
    _require_shared(actor, T("change a vendor's accounts"))
    account = _child(VendorAccount, vendor, account_id)
    _account_fields(account, vendor, code, description, financial_sys_code, status)
    db.session.flush()
    return account


def remove_account(actor, vendor: Vendor, account_id: int) -> None:
    _require_shared(actor, T("change a vendor's accounts"))
    vendor.accounts.remove(_child(VendorAccount, vendor, account_id))
    db.session.flush()


@dataclass
class AddressFields:
    line1: str = ""
    line2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""
    types: list[str] = field(default_factory=list)
    preferred: bool = False


def _address_fields(address: VendorAddress, vendor: Vendor, d: AddressFields) -> None:
    address.line1 = _text(d.line1, "line1", 200, required=True, label=T("The first address line"))
    address.line2 = _text(d.line2, "line2", 200, label=T("The second address line"))
    address.city = _text(d.city, "city", 100, label=T("The city"))
    address.state = _text(d.state, "state", 100, label=T("The state or province"))
    address.postal_code = _text(d.postal_code, "postal_code", 20, label=T("The postal code"))
    address.country = _text(d.country, "country", 100, label=T("The country"))
    unknown = [t for t in d.types if t not in ADDRESS_TYPES]
    if unknown:
        raise InvalidInput(T("Unknown address type %(type)s; use %(types)s.", type=unknown[0],
                             types=", ".join(ADDRESS_TYPES)), "types")
    address.types = ",".join(t for t in ADDRESS_TYPES if t in d.types)
    address.preferred = bool(d.preferred)
    if address.preferred:  # one preferred address per vendor
        for other in vendor.addresses:
            if other is not address:
                other.preferred = False


def add_address(actor, vendor: Vendor, data: AddressFields) -> VendorAddress:
    _require_shared(actor, T("change a vendor's addresses"))
    address = VendorAddress()
    _address_fields(address, vendor, data)
    vendor.addresses.append(address)
    db.session.flush()
    return address


def update_address(actor, vendor: Vendor, address_id: int, data: AddressFields) -> VendorAddress:
    _require_shared(actor, T("change a vendor's addresses"))
    address = _child(VendorAddress, vendor, address_id)
    _address_fields(address, vendor, data)
    db.session.flush()
    return address


def remove_address(actor, vendor: Vendor, address_id: int) -> None:
    _require_shared(actor, T("change a vendor's addresses"))
    vendor.addresses.remove(_child(VendorAddress, vendor, address_id))
    db.session.flush()


def _contact_fields(contact, name, email, phone, note):
    contact.name = _text(name, "name", 200, required=True, label=T("A contact name"))
    email = _text(email, "email", 200, label=T("The email address"))
    if email and not _EMAIL.match(email):
        raise InvalidInput(T("\"%(email)s\" is not an email address.", email=email), "email")
    contact.email = email
    contact.phone = _text(phone, "phone", 50, label=T("The phone number"))
    contact.note = (note or "").strip()


def set_account_channel(actor, vendor: Vendor, account_id: int, order_channel: str | None) -> VendorAccount:
    """The account's own order channel (None or "": the vendor's)."""
    _require_shared(actor, T("change a vendor's accounts"))
    account = _child(VendorAccount, vendor, account_id)
    account.order_channel = _channel(order_channel or None, "order_channel")
    if account.order_channel == "edi" and not vendor.edi_vendor_id:
        raise InvalidInput(T("EDI orders need the vendor's EDI ID (SAN or EAN): set it on the vendor first."),
                           "order_channel")
    db.session.flush()
    return account


def _roles(roles) -> str:
    roles = [r for r in (roles or ()) if r]
    unknown = [r for r in roles if r not in CONTACT_ROLES]
    if unknown:
        raise InvalidInput(T("Unknown contact role %(role)s.", role=repr(unknown[0])), "roles")
    return ",".join(r for r in CONTACT_ROLES if r in roles)


def add_contact(actor, vendor: Vendor, name: str, email: str = "", phone: str = "", note: str = "",
                roles=()) -> VendorContact:
    """``roles``: what the contact receives (CONTACT_ROLES: orders, claims, payment notices)."""
    _require(actor, VENDOR_EDITORS, T("change vendors"))
    contact = VendorContact()
    _contact_fields(contact, name, email, phone, note)
    contact.roles = _roles(roles)
    vendor.contacts.append(contact)
    db.session.flush()
    return contact


def update_contact(actor, vendor: Vendor, contact_id: int, name: str, email: str = "", phone: str = "",
                   note: str = "") -> VendorContact:
    _require(actor, VENDOR_EDITORS, T("change vendors"))
    contact = _child(VendorContact, vendor, contact_id)
    _contact_fields(contact, name, email, phone, note)
    db.session.flush()
    return contact


def set_contact_roles(actor, vendor: Vendor, contact_id: int, roles) -> VendorContact:
    _require(actor, VENDOR_EDITORS, T("change vendors"))
    contact = _child(VendorContact, vendor, contact_id)
    contact.roles = _roles(roles)
    db.session.flush()
    return contact


def remove_contact(actor, vendor: Vendor, contact_id: int) -> None:
    _require(actor, VENDOR_EDITORS, T("change vendors"))
    vendor.contacts.remove(_child(VendorContact, vendor, contact_id))
    db.session.flush()


# -- currency repository -------------------------------------------------------------------------

def institution_currency() -> str:
    return Institution.current().currency


def parse_rate(value, field_name: str = "rate") -> Decimal:
    """A positive decimal with at most 8 decimals; anything else is refused, never rounded."""
    if isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise InvalidInput(T("Give the rate as a decimal number such as 1.0825."), field_name)
    if not _RATE.match(text):
        raise InvalidInput(T("\"%(value)s\" is not a rate: give a positive decimal number such as 1.0825.",
                             value=text), field_name)
    try:
        rate = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(T("\"%(value)s\" is not a number.", value=text), field_name) from None
    if rate <= 0:
        raise InvalidInput(T("A rate must be greater than zero."), field_name)
    if rate != quantize_rate(rate):
        raise InvalidInput(T("A rate has at most %(scale)s decimals; got %(value)s.", scale=RATE_SCALE, value=text),
                           field_name)
    return rate


def _check_new_rate(currency, rate, day) -> tuple[str, Decimal, date]:
    currency = check_currency(currency)
    if currency == institution_currency():
        raise InvalidInput(T("%(currency)s is the institution's currency: its rate is always 1.", currency=currency),
                           "currency")
    rate = parse_rate(rate)
    if not isinstance(day, date):
        raise InvalidInput(T("A date is required (YYYY-MM-DD)."), "date")
    return currency, rate, day


def _existing(currency: str, day: date) -> ExchangeRate | None:
    return db.session.scalar(select(ExchangeRate).where(ExchangeRate.currency == currency, ExchangeRate.day == day))


def add_rate(actor, currency: str, rate, day: date) -> ExchangeRate:
    _require(actor, RATE_EDITORS, T("add exchange rates"))
    require_institution_role(actor, RATE_EDITORS, T("add exchange rates"))
    currency, rate, day = _check_new_rate(currency, rate, day)
    existing = _existing(currency, day)
    if existing is not None:
        raise Duplicate(_rate_exists(currency, day, existing), "date")
    row = ExchangeRate(currency=currency, rate=rate, day=day, actor_id=actor.id)
    db.session.add(row)
    db.session.flush()
    return row


def rate_on(currency: str, day: date) -> Decimal:
    """Units of the institution's currency for 1 unit of ``currency``: the latest rate on or before ``day``."""
    currency = check_currency(currency)
    if currency == institution_currency():
        return Decimal(1)
    rate = db.session.scalar(select(ExchangeRate.rate).where(ExchangeRate.currency == currency,
                                                             ExchangeRate.day <= day)
                             .order_by(ExchangeRate.day.desc()).limit(1))
    if rate is None:
        raise MissingRate(T("No exchange rate for %(currency)s on or before %(day)s.", currency=currency,
                            day=day.isoformat()), "currency")
    return rate


def exchange(from_currency: str, to_currency: str, day: date, explicit_ratio: Decimal | None = None) -> Rate:
    """The rate :func:`convert` applies: ``explicit_ratio`` when given, otherwise through the
    institution's currency, rate(from) / rate(to) on ``day`` (:class:`MissingRate` without one)."""
    from_currency, to_currency = check_currency(from_currency), check_currency(to_currency)
    if explicit_ratio is not None:
        if not isinstance(explicit_ratio, Decimal) or not explicit_ratio.is_finite() or explicit_ratio <= 0:
            raise InvalidInput(T("The explicit ratio must be a positive decimal."), "explicit_ratio")
        return Rate(explicit_ratio)
    if from_currency == to_currency:
        return Rate(Decimal(1))
    return Rate(rate_on(from_currency, day), rate_on(to_currency, day))


def convert(amount: Decimal, from_currency: str, to_currency: str, day: date,
            explicit_ratio: Decimal | None = None) -> Decimal:
    """``amount`` in ``to_currency``, rounded half-up to its minor unit.

    With ``explicit_ratio``: amount × ratio. Otherwise through the institution's currency:
    amount × rate(from) / rate(to), rounded once at the end."""
    if not isinstance(amount, Decimal):
        raise TypeError("amount must be a Decimal")
    return exchange(from_currency, to_currency, day, explicit_ratio).convert(amount, check_currency(to_currency))


@dataclass
class RowError:
    row: int
    message: str   # a Text: shown in the reader's language, English in the API


def _rate_exists(currency: str, day: date, existing: ExchangeRate) -> Text:
    return T("There is already a rate for %(currency)s on %(day)s: %(rate)s.", currency=currency,
             day=day.isoformat(), rate=f"{existing.rate.normalize():f}")


def _sentences(texts: list) -> Text:
    """Several sentences as one text (each translated when shown)."""
    if len(texts) == 1:
        return texts[0]
    return T("%(sentence)s %(more)s", sentence=texts[0], more=_sentences(texts[1:]))


@dataclass
class LoadReport:
    loaded: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


MAX_CSV_BYTES = 2_000_000


def load_rates_csv(actor, data: bytes) -> LoadReport:
    """Load ``currency,rate,date`` rows: all of them, or none with an error per bad row.

    Row numbers count the header as row 1 (as a spreadsheet shows them)."""
    _require(actor, RATE_EDITORS, T("add exchange rates"))
    require_institution_role(actor, RATE_EDITORS, T("add exchange rates"))
    report = LoadReport()
    if len(data) > MAX_CSV_BYTES:
        report.errors.append(RowError(0, T("The file is larger than 2 MB.")))
        return report
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):   # .xlsx (zip) or .xls: never parsed here
        report.errors.append(RowError(0, T("This is an Excel workbook; rates are loaded from a CSV file "
                                           "(currency,rate,date). Save the sheet as CSV and upload that.")))
        return report
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.errors.append(RowError(0, T("The file is not UTF-8 text.")))
        return report
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip().lower() for h in header] != ["currency", "rate", "date"]:
        report.errors.append(RowError(1, T("The first row must be the header currency,rate,date.")))
        return report
    own = institution_currency()
    seen: dict[tuple[str, date], int] = {}
    rows = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != 3:
            report.errors.append(RowError(number, T("Expected 3 values (currency,rate,date), found %(found)s.",
                                                    found=len(cells))))
            continue
        raw_currency, raw_rate, raw_day = (c.strip() for c in cells)
        problems = []
        try:
            currency = check_currency(raw_currency)
            if currency == own:
                problems.append(T("%(currency)s is the institution's currency: its rate is always 1.",
                                  currency=currency))
        except InvalidInput as exc:
            currency, _ = None, problems.append(exc.text)
        try:
            rate = parse_rate(raw_rate)
        except InvalidInput as exc:
            rate, _ = None, problems.append(exc.text)
        try:
            day = date.fromisoformat(raw_day) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw_day) else None
        except ValueError:
            day = None
        if day is None:
            problems.append(T("\"%(value)s\" is not a date (YYYY-MM-DD).", value=raw_day))
        if currency and day and not problems:
            if (currency, day) in seen:
                problems.append(T("Duplicate of row %(row)s (%(currency)s on %(day)s).", row=seen[(currency, day)],
                                  currency=currency, day=day.isoformat()))
            else:
                existing = _existing(currency, day)
                if existing is not None:
                    problems.append(_rate_exists(currency, day, existing))
            seen.setdefault((currency, day), number)
        if problems:
            report.errors.append(RowError(number, _sentences(problems)))
        else:
            rows.append((currency, rate, day))
    if not rows and not report.errors:
        report.errors.append(RowError(0, T("The file has no rates.")))
    if report.errors:
        return report
    for currency, rate, day in rows:
        db.session.add(ExchangeRate(currency=currency, rate=rate, day=day, actor_id=actor.id))
    db.session.flush()
    report.loaded = len(rows)
    return report


def rates_query(currency: str | None = None):
    q = select(ExchangeRate)
    if currency:
        q = q.where(ExchangeRate.currency == currency.strip().upper())
    return q.order_by(ExchangeRate.day.desc(), ExchangeRate.currency, ExchangeRate.id.desc())


def vendor_select_choices(keep: Vendor | None = None, keep_account_id: int | None = None):
    """Choices for a vendor select and its account select: active vendors (plus ``keep``, the one
    a record already has) and their active accounts (plus ``keep_account_id``)."""
    vendors = db.session.scalars(select(Vendor).where(Vendor.status == "active").order_by(Vendor.code)).all()
    if keep is not None and keep not in vendors:
        vendors.append(keep)
    vendor_choices = [("", T("Choose a vendor…"))] + [(str(v.id), f"{v.code} — {v.name} ({v.currency})")
                                                      for v in vendors]
    account_choices = [("", T("None"))] + [
        (str(a.id), f"{v.code} / {a.code}" + (f" — {a.description}" if a.description else ""))
        for v in vendors for a in v.accounts if a.status == "active" or a.id == keep_account_id]
    return vendor_choices, account_choices
