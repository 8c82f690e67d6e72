"""API v1: vendors and currency rates.

Creating vendors and rates needs the role held for the whole institution; a library-scoped
purchasing operator may PUT a vendor whose shared fields stay as they are (the notes change).
"""
from __future__ import annotations

from flask import request, url_for
from flask_login import current_user

from ..auth.permissions import institution_roles_required, roles_required
from ..extensions import db
from ..vendors import services as vendors
from .base import (BOOLEAN, CURRENCY, DATE, INTEGER, READ, STATUS, STRING, bp, check_match, input_schema,
                   list_of, object_schema, one, operation, patch_schema, param, path_param, query_param, register_openapi,
                   saved)
from .serializers import Field, parse_percent, read_body, read_patch

VENDOR_IN = {
    "code": Field("str", "1–20 characters without spaces; unique.", required=True, max_length=20),
    "name": Field("str", "A name.", required=True, max_length=200),
    "status": Field("enum", "Active or inactive.", default="active", choices=("active", "inactive")),
    "currency": Field("str", "A three-letter ISO currency code.", required=True),
    "financial_sys_code": Field("str", "Code in the financial system.", default="", max_length=50),
    "additional_code": Field("str", "Another code.", default="", max_length=50),
    "national_tax_id": Field("str", "National tax ID.", default="", max_length=50),
    "liable_for_vat": Field("bool", "Whether the vendor charges VAT.", default=False),
    "governmental_vendor": Field("str", "Code of the linked governmental vendor; null: none.", nullable=True),
    "is_governmental": Field("bool", "Whether this vendor is a governmental vendor (tax authority).", default=False),
    "vat_percent": Field("decimal", "The VAT percent a governmental vendor collects (decimal string).",
                         nullable=True),
    "notes": Field("str", "Free notes.", default=""),
}
VENDOR_UPDATE = {k: v for k, v in VENDOR_IN.items() if k != "code"}
RATE_IN = {
    "currency": Field("str", "A three-letter ISO currency code (not the institution's).", required=True),
    "rate": Field("decimal", "Units of the institution's currency for 1 unit of `currency`; positive, at most "
                             "8 decimals.", required=True),
    "date": Field("date", "The day the rate applies from (YYYY-MM-DD).", required=True),
}


def _fields(body, vendor=None) -> vendors.VendorFields:
    """The vendor's fields from ``body``; those the API does not carry (EDI) stay as ``vendor`` has them."""
    vat = parse_percent(body["vat_percent"], "vat_percent") if body["vat_percent"] is not None else None
    fields = vendors.VendorFields.of(vendor) if vendor is not None else vendors.VendorFields()
    fields.name, fields.status, fields.currency = body["name"], body["status"], body["currency"]
    fields.financial_sys_code, fields.additional_code = body["financial_sys_code"], body["additional_code"]
    fields.national_tax_id, fields.liable_for_vat = body["national_tax_id"], body["liable_for_vat"]
    fields.governmental_vendor, fields.is_governmental = body["governmental_vendor"], body["is_governmental"]
    fields.vat_percent, fields.notes = vat, body["notes"]
    return fields


def _as_input(v) -> dict:
    """The vendor as :data:`VENDOR_UPDATE` reads it: what a PATCH leaves as it is."""
    data = vendor_json(v)
    return {name: data[name] for name in VENDOR_UPDATE}


def vendor_json(v) -> dict:
    return {"id": v.id, "code": v.code, "name": v.name, "status": v.status, "currency": v.currency,
            "financial_sys_code": v.financial_sys_code, "additional_code": v.additional_code,
            "national_tax_id": v.national_tax_id, "liable_for_vat": v.liable_for_vat,
            "governmental_vendor": v.governmental_vendor.code if v.governmental_vendor else None,
            "is_governmental": v.is_governmental,
            "vat_percent": f"{v.vat_percent:f}" if v.vat_percent is not None else None, "notes": v.notes,
            "accounts": [{"code": a.code, "description": a.description,
                          "financial_sys_code": a.financial_sys_code, "status": a.status} for a in v.accounts],
            "addresses": [{"line1": a.line1, "line2": a.line2, "city": a.city, "state": a.state,
                           "postal_code": a.postal_code, "country": a.country, "types": a.type_list,
                           "preferred": a.preferred} for a in v.addresses],
            "contacts": [{"name": c.name, "email": c.email, "phone": c.phone, "note": c.note}
                         for c in v.contacts]}


def rate_json(r) -> dict:
    return {"currency": r.currency, "rate": f"{r.rate:f}", "date": r.day.isoformat()}


@bp.get("/vendors")
@roles_required(*READ)
def list_vendors():
    rows = db.session.scalars(db.select(vendors.Vendor).order_by(vendors.Vendor.code)).all()
    return {"items": [vendor_json(v) for v in rows]}


@bp.post("/vendors")
@institution_roles_required(*vendors.VENDOR_EDITORS)
def create_vendor():
    body = read_body(VENDOR_IN)
    vendor = vendors.create_vendor(current_user, body["code"], _fields(body))
    return saved(vendor, vendor_json, 201, lambda v: url_for("api.get_vendor", code=v.code))


@bp.get("/vendors/<code>")
@roles_required(*READ)
def get_vendor(code):
    return one(vendors.find_vendor(code), vendor_json)


@bp.put("/vendors/<code>")
@roles_required(*vendors.VENDOR_EDITORS)
def update_vendor(code):
    vendor = vendors.find_vendor(code)
    body = read_body(VENDOR_UPDATE)
    check_match(vendor, vendor_json)
    vendors.update_vendor(current_user, vendor, _fields(body, vendor))
    return saved(vendor, vendor_json)


@bp.patch("/vendors/<code>")
@roles_required(*vendors.VENDOR_EDITORS)
def patch_vendor(code):
    vendor = vendors.find_vendor(code)
    check_match(vendor, vendor_json)
    body = read_patch(VENDOR_UPDATE, _as_input(vendor))
    vendors.update_vendor(current_user, vendor, _fields(body, vendor))
    return saved(vendor, vendor_json)


@bp.get("/currency-rates")
@roles_required(*READ)
def list_rates():
    currency = request.args.get("currency")
    if currency:
        currency = vendors.check_currency(currency)
    return {"items": [rate_json(r) for r in db.session.scalars(vendors.rates_query(currency).limit(1000))]}


@bp.post("/currency-rates")
@institution_roles_required(*vendors.RATE_EDITORS)
def create_rate():
    body = read_body(RATE_IN)
    row = vendors.add_rate(current_user, body["currency"], body["rate"], body["date"])
    return saved(row, rate_json, 201)


# -- OpenAPI -------------------------------------------------------------------------------------

_CREATE = "admin or purchasing_operator, held for the whole institution"
_EDIT = ("admin or purchasing_operator; one scoped to a library may change only the notes (a change of any other "
         "field is a 403)")
_RATES = "admin, fund_manager or invoice_manager, held for the whole institution"

register_openapi(
    schemas={
        "Vendor": object_schema({
            "id": INTEGER, "code": STRING, "name": STRING, "status": STATUS, "currency": CURRENCY,
            "financial_sys_code": STRING, "additional_code": STRING, "national_tax_id": STRING,
            "liable_for_vat": BOOLEAN,
            "governmental_vendor": {"type": ["string", "null"], "description": "The governmental vendor's code."},
            "is_governmental": BOOLEAN,
            "vat_percent": {"type": ["string", "null"], "description": "Decimal string."}, "notes": STRING,
            "accounts": {"type": "array", "items": object_schema({"code": STRING, "description": STRING,
                                                                  "financial_sys_code": STRING, "status": STATUS})},
            "addresses": {"type": "array", "items": object_schema({
                "line1": STRING, "line2": STRING, "city": STRING, "state": STRING, "postal_code": STRING,
                "country": STRING, "types": {"type": "array", "items": STRING}, "preferred": BOOLEAN})},
            "contacts": {"type": "array", "items": object_schema({"name": STRING, "email": STRING, "phone": STRING,
                                                                  "note": STRING})}}),
        "VendorList": list_of("Vendor"),
        "VendorPatch": patch_schema(VENDOR_UPDATE, "Some of the vendor's fields; those not sent stay as they are."),
        "VendorInput": input_schema(VENDOR_IN, "A new vendor."),
        "VendorUpdate": input_schema(VENDOR_UPDATE, "The vendor's fields (all of them are replaced; absent "
                                                    "optional fields take their defaults)."),
        "CurrencyRate": object_schema({"currency": STRING, "rate": {"type": "string", "pattern": r"^\d+\.\d{8}$"},
                                       "date": DATE}, "1 unit of currency = rate units of the institution's currency."),
        "CurrencyRateList": list_of("CurrencyRate"),
        "CurrencyRateInput": input_schema(RATE_IN, "A new exchange rate."),
    },
    parameters={
        "VendorCode": path_param("code", "The vendor's code.", STRING),
        "CurrencyFilter": query_param("currency", STRING, "Only rates of this currency."),
    },
    paths={
        "/api/v1/vendors": {
            "get": operation("listVendors", "List vendors by code", "any role", ("200", "VendorList", "The vendors.")),
            "post": operation("createVendor", "Create a vendor", _CREATE, ("201", "Vendor", "Created."),
                              ("400", "409", "422"), body="VendorInput"),
        },
        "/api/v1/vendors/{code}": {
            "parameters": [param("VendorCode")],
            "get": operation("getVendor", "One vendor with accounts, addresses and contacts", "any role",
                             ("200", "Vendor", "The vendor."), ("404",), etag=True),
            "put": operation("updateVendor", "Replace a vendor's fields", _EDIT, ("200", "Vendor", "Saved."),
                             ("400", "404", "422"), body="VendorUpdate", if_match="required"),
            "patch": operation("patchVendor", "Change some of a vendor's fields", _EDIT, ("200", "Vendor", "Saved."),
                               ("400", "404", "422"), body="VendorPatch", if_match="required",
                               note="Only the fields sent change."),
        },
        "/api/v1/currency-rates": {
            "get": operation("listCurrencyRates", "Exchange rates, newest first (at most 1000)", "any role",
                             ("200", "CurrencyRateList", "The rates."), ("400",), params=("CurrencyFilter",)),
            "post": operation("createCurrencyRate", "Add an exchange rate", _RATES,
                              ("201", "CurrencyRate", "Created."), ("400", "409"), body="CurrencyRateInput"),
        },
    })
