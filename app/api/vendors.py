"""API v1: vendors and currency rates.

Creating vendors and rates needs the role held for the whole institution; a library-scoped
purchasing operator may PUT a vendor whose shared fields stay as they are (the notes change).
"""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..auth.permissions import institution_roles_required, roles_required
from ..errors import InvalidInput, RuleViolation
from ..extensions import db
from ..idempotency import idempotent
from ..vendors import services as vendors
from ..vendors.models import Vendor
from .base import (BOOLEAN, CURRENCY, DATE, INTEGER, PARAMETERS, READ, STATUS, STRING, bp, check_match,
                   choice_arg, commit, deleted, input_schema, object_schema, one, operation, page_args,
                   page_of, param, patch_schema, path_param, per_page_param, query_param, ref, register_openapi,
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
    "order_channel": Field("enum", "How orders, cancellations and claims reach the vendor (an account may use "
                                   "another).", default="none", choices=tuple(vendors.ORDER_CHANNELS)),
    "edi_enabled": Field("bool", "Whether the vendor exchanges EDI messages.", default=False),
    "edi_vendor_id": Field("str", "The vendor's EDI ID (SAN or EAN); needed for EDI.", default="", max_length=50),
    "edi_id_qualifier": Field("str", "The EDI ID qualifier.", default="", max_length=10),
    "edi_folder": Field("str", "The vendor's EDI folder.", default="", max_length=200),
    "language": Field("enum", "The language of the letters and PDFs sent to the vendor (" + ", ".join(
        f"{code}: {name}" for code, name in vendors.letter_languages().items()) + "); null: the institution's "
        "default language.", nullable=True, choices=tuple(vendors.letter_languages()),
        schema={"enum": [*vendors.letter_languages(), None]}),
}
VENDOR_UPDATE = {k: v for k, v in VENDOR_IN.items() if k != "code"}
RATE_IN = {
    "currency": Field("str", "A three-letter ISO currency code (not the institution's).", required=True),
    "rate": Field("decimal", "Units of the institution's currency for 1 unit of `currency`; positive, at most "
                             "8 decimals.", required=True),
    "date": Field("date", "The day the rate applies from (YYYY-MM-DD).", required=True),
}


def _fields(body, vendor=None) -> vendors.VendorFields:
    """The vendor's fields from ``body`` (the vendor form's, EDI included)."""
    vat = parse_percent(body["vat_percent"], "vat_percent") if body["vat_percent"] is not None else None
    fields = vendors.VendorFields.of(vendor) if vendor is not None else vendors.VendorFields()
    fields.name, fields.status, fields.currency = body["name"], body["status"], body["currency"]
    fields.financial_sys_code, fields.additional_code = body["financial_sys_code"], body["additional_code"]
    fields.national_tax_id, fields.liable_for_vat = body["national_tax_id"], body["liable_for_vat"]
    fields.governmental_vendor, fields.is_governmental = body["governmental_vendor"], body["is_governmental"]
    fields.vat_percent, fields.notes = vat, body["notes"]
    fields.order_channel, fields.edi_enabled, fields.edi_vendor_id = (body["order_channel"], body["edi_enabled"],
                                                                      body["edi_vendor_id"])
    fields.edi_id_qualifier, fields.edi_folder = body["edi_id_qualifier"], body["edi_folder"]
    fields.language = body["language"]
    return fields


MAX_LIST = 1000   # vendors and rates per page: by default, every vendor of a library at once


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
            "order_channel": v.order_channel, "edi_enabled": v.edi_enabled, "edi_vendor_id": v.edi_vendor_id,
            "edi_id_qualifier": v.edi_id_qualifier, "edi_folder": v.edi_folder, "language": v.language,
            "accounts": [account_json(a) for a in v.accounts],
            "addresses": [address_json(a) for a in v.addresses],
            "contacts": [contact_json(c) for c in v.contacts]}


def account_json(a) -> dict:
    return {"code": a.code, "description": a.description, "financial_sys_code": a.financial_sys_code,
            "status": a.status, "order_channel": a.order_channel}


def address_json(a) -> dict:
    return {"id": a.id, "line1": a.line1, "line2": a.line2, "city": a.city, "state": a.state,
            "postal_code": a.postal_code, "country": a.country, "types": a.type_list, "preferred": a.preferred}


def contact_json(c) -> dict:
    return {"id": c.id, "name": c.name, "email": c.email, "phone": c.phone, "note": c.note, "roles": c.role_list}


def rate_json(r) -> dict:
    return {"currency": r.currency, "rate": f"{r.rate:f}", "date": r.day.isoformat()}


@bp.get("/vendors")
@roles_required(*READ)
def list_vendors():
    """The vendors list's filters and sort (the page's query), paged (up to 1000 at once)."""
    page = page_args(MAX_LIST, MAX_LIST)
    q = request.args.get("q", "").strip()
    status = choice_arg("status", ("active", "inactive"))
    sort = choice_arg("sort", tuple(vendors.VENDOR_SORTS)) or "code"
    query = vendors.vendors_query(q, status, sort).options(
        selectinload(Vendor.accounts), selectinload(Vendor.addresses), selectinload(Vendor.contacts))
    return page.of(query, vendor_json)   # three queries for the page's accounts, addresses and contacts, not 3 per vendor


@bp.post("/vendors")
@institution_roles_required(*vendors.VENDOR_EDITORS)
@idempotent
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
    """The exchange rates, newest first, paged (up to 1000 at once)."""
    currency = request.args.get("currency")
    if currency:
        currency = vendors.check_currency(currency)
    return page_args(MAX_LIST, MAX_LIST).of(vendors.rates_query(currency), rate_json)


@bp.post("/currency-rates")
@institution_roles_required(*vendors.RATE_EDITORS)
@idempotent
def create_rate():
    body = read_body(RATE_IN)
    row = vendors.add_rate(current_user, body["currency"], body["rate"], body["date"])
    return saved(row, rate_json, 201)


# -- accounts, addresses and contacts -----------------------------------------------------------
# Sub-resources of a vendor, as the vendor page's Accounts and Details tabs change them: accounts
# (by code) and addresses are the institution's (the role held for the whole institution), contacts
# any buyer's.

ACCOUNT_IN = {
    "code": Field("str", "1–40 characters without spaces; unique for the vendor.", required=True, max_length=40),
    "description": Field("str", "A description.", default="", max_length=200),
    "financial_sys_code": Field("str", "Code in the financial system.", default="", max_length=50),
    "status": Field("enum", "Active or inactive.", default="active", choices=("active", "inactive")),
    "order_channel": Field("enum", "How orders on this account reach the vendor; null: the vendor's channel.",
                           nullable=True, choices=tuple(vendors.ORDER_CHANNELS)),
}
ACCOUNT_PATCH = {"order_channel": ACCOUNT_IN["order_channel"]}
ADDRESS_IN = {
    "line1": Field("str", "The first address line.", required=True, max_length=200),
    "line2": Field("str", "The second address line.", default="", max_length=200),
    "city": Field("str", "The city.", default="", max_length=100),
    "state": Field("str", "The state or province.", default="", max_length=100),
    "postal_code": Field("str", "The postal code.", default="", max_length=20),
    "country": Field("str", "The country.", default="", max_length=100),
    "types": Field("str_list", "What it is used for: " + ", ".join(vendors.ADDRESS_TYPES) + ".", default=(),
                   schema={"items": {"type": "string", "enum": list(vendors.ADDRESS_TYPES)}}),
    "preferred": Field("bool", "The vendor's preferred address (the others stop being preferred).", default=False),
}
CONTACT_IN = {
    "name": Field("str", "The contact's name.", required=True, max_length=200),
    "email": Field("str", "An e-mail address.", default="", max_length=200),
    "phone": Field("str", "A phone number.", default="", max_length=50),
    "note": Field("str", "A note.", default=""),
    "roles": Field("str_list", "The letters sent to the contact's e-mail: " + ", ".join(vendors.CONTACT_ROLES) + ".",
                   default=(), schema={"items": {"type": "string", "enum": list(vendors.CONTACT_ROLES)}}),
}
CONTACT_PATCH = {"roles": CONTACT_IN["roles"]}


def _account(code, account_code):
    return vendors.get_account(vendors.find_vendor(code), account_code)


def _address(code, address_id):
    return vendors.get_address(vendors.find_vendor(code), address_id)


def _contact(code, contact_id):
    return vendors.get_contact(vendors.find_vendor(code), contact_id)


def _account_url(a) -> str:
    return url_for("api.get_vendor_account", code=a.vendor.code, account_code=a.code)


@bp.post("/vendors/<code>/accounts")
@institution_roles_required(*vendors.VENDOR_EDITORS)
@idempotent
def create_vendor_account(code):
    vendor = vendors.find_vendor(code)
    body = read_body(ACCOUNT_IN)
    account = vendors.add_account(current_user, vendor, body["code"], body["description"], body["financial_sys_code"],
                                  body["status"], body["order_channel"])
    return saved(account, account_json, 201, _account_url)


@bp.get("/vendors/<code>/accounts/<account_code>")
@roles_required(*READ)
def get_vendor_account(code, account_code):
    return one(_account(code, account_code), account_json)


@bp.patch("/vendors/<code>/accounts/<account_code>")
@institution_roles_required(*vendors.VENDOR_EDITORS)
def patch_vendor_account(code, account_code):
    account = _account(code, account_code)
    check_match(account, account_json)
    body = read_patch(ACCOUNT_PATCH, {"order_channel": account.order_channel})
    vendors.set_account_channel(current_user, account.vendor, account.id, body["order_channel"])
    return saved(account, account_json)


@bp.delete("/vendors/<code>/accounts/<account_code>")
@institution_roles_required(*vendors.VENDOR_EDITORS)
def delete_vendor_account(code, account_code):
    account = _account(code, account_code)
    check_match(account, account_json)
    vendors.remove_account(current_user, account.vendor, account.id)
    return deleted()


@bp.post("/vendors/<code>/addresses")
@institution_roles_required(*vendors.VENDOR_EDITORS)
@idempotent
def create_vendor_address(code):
    vendor = vendors.find_vendor(code)
    address = vendors.add_address(current_user, vendor, vendors.AddressFields(**read_body(ADDRESS_IN)))
    return saved(address, address_json, 201,
                 lambda a: url_for("api.get_vendor_address", code=a.vendor.code, address_id=a.id))


@bp.get("/vendors/<code>/addresses/<int:address_id>")
@roles_required(*READ)
def get_vendor_address(code, address_id):
    return one(_address(code, address_id), address_json)


@bp.delete("/vendors/<code>/addresses/<int:address_id>")
@institution_roles_required(*vendors.VENDOR_EDITORS)
def delete_vendor_address(code, address_id):
    address = _address(code, address_id)
    check_match(address, address_json)
    vendors.remove_address(current_user, address.vendor, address.id)
    return deleted()


@bp.post("/vendors/<code>/contacts")
@roles_required(*vendors.VENDOR_EDITORS)
@idempotent
def create_vendor_contact(code):
    vendor = vendors.find_vendor(code)
    body = read_body(CONTACT_IN)
    contact = vendors.add_contact(current_user, vendor, body["name"], body["email"], body["phone"], body["note"],
                                  roles=body["roles"])
    return saved(contact, contact_json, 201,
                 lambda c: url_for("api.get_vendor_contact", code=c.vendor.code, contact_id=c.id))


@bp.get("/vendors/<code>/contacts/<int:contact_id>")
@roles_required(*READ)
def get_vendor_contact(code, contact_id):
    return one(_contact(code, contact_id), contact_json)


@bp.patch("/vendors/<code>/contacts/<int:contact_id>")
@roles_required(*vendors.VENDOR_EDITORS)
def patch_vendor_contact(code, contact_id):
    contact = _contact(code, contact_id)
    check_match(contact, contact_json)
    body = read_patch(CONTACT_PATCH, {"roles": contact.role_list})
    vendors.set_contact_roles(current_user, contact.vendor, contact.id, body["roles"])
    return saved(contact, contact_json)


@bp.delete("/vendors/<code>/contacts/<int:contact_id>")
@roles_required(*vendors.VENDOR_EDITORS)
def delete_vendor_contact(code, contact_id):
    contact = _contact(code, contact_id)
    check_match(contact, contact_json)
    vendors.remove_contact(current_user, contact.vendor, contact.id)
    return deleted()


# -- currency rates from a CSV file --------------------------------------------------------------

@bp.post("/currency-rates/upload")
@institution_roles_required(*vendors.RATE_EDITORS)
def upload_rates():
    """The rates page's upload: all rows of the CSV are loaded, or none with an error per bad row."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidInput("Send the CSV file as the multipart/form-data part \"file\" (currency,rate,date).",
                           "file")
    report = vendors.load_rates_csv(current_user, upload.read(vendors.MAX_CSV_BYTES + 1))
    if not report.ok:
        db.session.rollback()
        rows = [{"row": e.row, "message": e.message} for e in report.errors]
        return jsonify(error={"code": RuleViolation.code, "message": "Nothing was loaded: " + "; ".join(
            (f"row {r['row']}: " if r["row"] else "") + r["message"] for r in rows[:3]) + (
            f" (and {len(rows) - 3} more)" if len(rows) > 3 else ""), "field": "file"}, rows=rows), 422
    commit()
    return jsonify(loaded=report.loaded), 201


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
            "order_channel": {"type": "string", "enum": list(vendors.ORDER_CHANNELS)}, "edi_enabled": BOOLEAN,
            "edi_vendor_id": STRING, "edi_id_qualifier": STRING, "edi_folder": STRING,
            "language": {"type": ["string", "null"], "enum": [*vendors.letter_languages(), None],
                         "description": "The language of the vendor's letters and PDFs; null: the institution's "
                                        "default."},
            "accounts": {"type": "array", "items": ref("VendorAccount")},
            "addresses": {"type": "array", "items": ref("VendorAddress")},
            "contacts": {"type": "array", "items": ref("VendorContact")}}),
        "VendorList": page_of("Vendor", "Vendors"),
        "VendorPatch": patch_schema(VENDOR_UPDATE, "Some of the vendor's fields; those not sent stay as they are."),
        "VendorInput": input_schema(VENDOR_IN, "A new vendor."),
        "VendorUpdate": input_schema(VENDOR_UPDATE, "The vendor's fields (all of them are replaced; absent "
                                                    "optional fields take their defaults)."),
        "CurrencyRate": object_schema({"currency": STRING, "rate": {"type": "string", "pattern": r"^\d+\.\d{8}$"},
                                       "date": DATE}, "1 unit of currency = rate units of the institution's currency."),
        "CurrencyRateList": page_of("CurrencyRate", "Rates"),
        "CurrencyRateInput": input_schema(RATE_IN, "A new exchange rate."),
    },
    parameters={
        "VendorCode": path_param("code", "The vendor's code.", STRING),
        "CurrencyFilter": query_param("currency", STRING, "Only rates of this currency."),
        "VendorPerPage": per_page_param(MAX_LIST, MAX_LIST),
        "VendorQuery": query_param("q", STRING, "Only vendors with this in their code or name (case-insensitive)."),
        "VendorStatusFilter": query_param("status", STATUS, "Only active, or only inactive, vendors."),
        "VendorSort": query_param("sort", {"type": "string", "enum": list(vendors.VENDOR_SORTS), "default": "code"},
                                  "The order; a leading minus reverses it."),
    },
    paths={
        "/api/v1/vendors": {
            "get": operation("listVendors", "List vendors (by code, unless sorted otherwise)", "any role",
                             ("200", "VendorList", "One page of vendors."), ("400",),
                             params=("VendorQuery", "VendorStatusFilter", "VendorSort", "Page", "VendorPerPage")),
            "post": operation("createVendor", "Create a vendor", _CREATE, ("201", "Vendor", "Created."),
                              ("400", "409", "422"), body="VendorInput", location="The new vendor's URL.",
                              idempotent=True),
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
            "get": operation("listCurrencyRates", "Exchange rates, newest first, paged", "any role",
                             ("200", "CurrencyRateList", "One page of rates."), ("400",),
                             params=("CurrencyFilter", "Page", "VendorPerPage")),
            "post": operation("createCurrencyRate", "Add an exchange rate", _RATES,
                              ("201", "CurrencyRate", "Created."), ("400", "409", "422"), body="CurrencyRateInput",
                              idempotent=True),
        },
    })


_SHARED = "admin or purchasing_operator, held for the whole institution"
_CONTACTS = "admin or purchasing_operator (a library-scoped one too)"
_DELETED = ("204", None, "Deleted.")
_KEY_REUSED = "422: the Idempotency-Key was used for another request."
_UPLOAD = {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "contentMediaType": "application/octet-stream",
                            "description": "A UTF-8 CSV file: the header currency,rate,date, then one rate a row."}}}}}


register_openapi(parameters={
    "VendorAccountCode": path_param("account_code", "The account's code.", STRING),
    "VendorAddressId": path_param("address_id", "The address's id."),
    "VendorContactId": path_param("contact_id", "The contact's id."),
})


def _sub(base: str, name: str, key_param: str, what: str, get_id: str, create: tuple, delete: tuple,
         patch: tuple | None = None) -> dict:
    """The collection (POST) and the item (GET, [PATCH,] DELETE) paths of a vendor's sub-resource."""
    create_id, create_roles, create_errors = create
    delete_id, delete_roles = delete
    item = {"parameters": [param("VendorCode"), param(key_param)],
            "get": operation(get_id, f"One {what} of a vendor", "any role", ("200", name, f"The {what}."), ("404",),
                             etag=True),
            "delete": operation(delete_id, f"Remove a {what} of a vendor", delete_roles, _DELETED, ("404",),
                                if_match="required")}
    if patch is not None:
        patch_id, patch_roles, summary, body = patch
        item["patch"] = operation(patch_id, summary, patch_roles, ("200", name, "Saved."), ("400", "404"), body=body,
                                  if_match="required", note="Only the fields sent change.")
    return {
        f"/api/v1/vendors/{{code}}/{base}": {
            "parameters": [param("VendorCode")],
            "post": operation(create_id, f"Add a {what} to a vendor", create_roles, ("201", name, "Created."),
                              (*create_errors, "422"), body=f"{name}Input", location=f"The new {what}'s URL.",
                              idempotent=True, note=_KEY_REUSED)},
        f"/api/v1/vendors/{{code}}/{base}/{{{PARAMETERS[key_param]['name']}}}": item,
    }


register_openapi(
    schemas={
        "VendorAccount": object_schema({
            "code": STRING, "description": STRING, "financial_sys_code": STRING, "status": STATUS,
            "order_channel": {"type": ["string", "null"], "enum": [*vendors.ORDER_CHANNELS, None],
                              "description": "null: orders go by the vendor's channel."}}),
        "VendorAddress": object_schema({
            "id": INTEGER, "line1": STRING, "line2": STRING, "city": STRING, "state": STRING, "postal_code": STRING,
            "country": STRING, "types": {"type": "array", "items": {"type": "string",
                                                                     "enum": list(vendors.ADDRESS_TYPES)}},
            "preferred": BOOLEAN}),
        "VendorContact": object_schema({
            "id": INTEGER, "name": STRING, "email": STRING, "phone": STRING, "note": STRING,
            "roles": {"type": "array", "items": {"type": "string", "enum": list(vendors.CONTACT_ROLES)},
                      "description": "The letters sent to the contact's e-mail."}}),
        "VendorAccountInput": input_schema(ACCOUNT_IN, "A new account of the vendor."),
        "VendorAccountPatch": patch_schema(ACCOUNT_PATCH, "The account's order channel (the page's channel choice)."),
        "VendorAddressInput": input_schema(ADDRESS_IN, "A new address of the vendor."),
        "VendorContactInput": input_schema(CONTACT_IN, "A new contact of the vendor."),
        "VendorContactPatch": patch_schema(CONTACT_PATCH, "What the contact receives."),
        "CurrencyRateUpload": object_schema({"loaded": {"type": "integer", "description": "The rates added."}}),
        "CurrencyRateUploadRefused": object_schema({
            "error": {"type": "object", "additionalProperties": False, "required": ["code", "message"],
                      "properties": {"code": {"type": "string", "const": "rule_violation"}, "message": STRING,
                                     "field": STRING}},
            "rows": {"type": "array", "items": object_schema({
                "row": {"type": "integer", "description": "The file's row (the header is row 1); 0: the file."},
                "message": STRING})}}, "Nothing was loaded: the problem of each refused row."),
    },
    paths={
        **_sub("accounts", "VendorAccount", "VendorAccountCode", "account", "getVendorAccount",
               ("createVendorAccount", _SHARED, ("400", "404", "409")), ("deleteVendorAccount", _SHARED),
               ("patchVendorAccount", _SHARED, "Set the account's order channel", "VendorAccountPatch")),
        **_sub("addresses", "VendorAddress", "VendorAddressId", "address", "getVendorAddress",
               ("createVendorAddress", _SHARED, ("400", "404")), ("deleteVendorAddress", _SHARED)),
        **_sub("contacts", "VendorContact", "VendorContactId", "contact", "getVendorContact",
               ("createVendorContact", _CONTACTS, ("400", "404")), ("deleteVendorContact", _CONTACTS),
               ("patchVendorContact", _CONTACTS, "Set what the contact receives", "VendorContactPatch")),
        "/api/v1/currency-rates/upload": {
            "post": {**operation(
                "uploadCurrencyRates", "Load exchange rates from a CSV file (all rows or none)", _RATES,
                ("201", "CurrencyRateUpload", "Loaded."), ("400",),
                note="As the rates page's upload: the same parser and checks. 400: no file part. 422: nothing was "
                     "loaded; each refused row is named.",
                responses={"422": {"description": "Nothing was loaded.", "content": {"application/json": {
                    "schema": ref("CurrencyRateUploadRefused")}}}}),
                     "requestBody": {"required": True, "content": _UPLOAD}},
        },
    })
