"""API v1 wire format: reading request bodies strictly, and the JSON shapes of what is returned.

Bodies are read against a declared set of fields (:data:`FISCAL_PERIOD_IN`, ...): an unknown or
missing field, a wrong JSON type or a bad value is an ``InvalidInput`` (400) naming the field.
Money and limits travel as decimal strings ("1234.50"); a JSON number is refused, because it
may have been a binary float on the client's side. The same field declarations produce the
request schemas of the OpenAPI document (:mod:`app.api.openapi`), so the two cannot drift.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import request

from ..errors import InvalidInput
from ..ledger import (MAX_AMOUNT, AmountError, Balance, TransactionKind, format_plain, has_percent_precision,
                      parse_amount, quantize_percent)

# The money columns' limit (app.ledger.money, where parse_amount checks it): decimal text fields
# checked before their currency is known use it too.
MAX_MONEY = MAX_AMOUNT
_DECIMAL = re.compile(r"^[+-]?[0-9]{1,15}(\.[0-9]+)?$")   # ASCII digits only
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


# -- reading bodies ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Field:
    """One field of a request body. ``kind``: str, bool, date, decimal, ref, str_list, enum."""
    kind: str
    description: str = ""
    required: bool = False
    nullable: bool = False
    default: Any = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()


class Body(dict):
    """The fields of a request body (absent ones at their default); ``given``: those sent."""

    def __init__(self, values: dict, given: set[str]):
        super().__init__(values)
        self.given = given


def _no_duplicate_keys(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise InvalidInput(f"Field \"{key}\" appears twice in the request body.", key)
        obj[key] = value
    return obj


def json_object() -> dict:
    """The request body, which must be a JSON object sent as application/json."""
    if not request.is_json:
        raise InvalidInput("Send a JSON object with Content-Type: application/json.")
    try:
        data = json.loads(request.get_data(cache=True), object_pairs_hook=_no_duplicate_keys)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError too
        raise InvalidInput("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.")
    return data


def read_body(spec: dict[str, Field]) -> Body:
    data = json_object()
    unknown = sorted(set(data) - set(spec))
    if unknown:
        names = ", ".join(f'"{k}"' for k in unknown)
        raise InvalidInput(f"Unknown field{'s' if len(unknown) > 1 else ''} {names}; "
                           f"allowed: {', '.join(spec)}.", unknown[0])
    missing = [k for k, f in spec.items() if f.required and k not in data]
    if missing:
        names = ", ".join(f'"{k}"' for k in missing)
        raise InvalidInput(f"Missing required field{'s' if len(missing) > 1 else ''} {names}.", missing[0])
    values = {}
    for name, f in spec.items():
        values[name] = _check(name, f, data[name]) if name in data else f.default
    return Body(values, set(data))


def _check(name: str, f: Field, value):
    if value is None:
        if f.nullable:
            return None
        raise InvalidInput(f"Field \"{name}\" must not be null.", name)
    kind = f.kind
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidInput(f"Field \"{name}\" must be true or false.", name)
        return value
    if kind == "ref":
        if isinstance(value, bool) or not isinstance(value, (int, str)) or value == "" or (
                isinstance(value, int) and value <= 0):
            raise InvalidInput(f"Field \"{name}\" must be an id (an integer) or a code (a string).", name)
        return value
    if kind == "str_list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidInput(f"Field \"{name}\" must be a list of codes (strings).", name)
        return value
    if kind == "decimal":
        if not isinstance(value, str):
            raise InvalidInput(f"Field \"{name}\" must be a decimal string such as \"12.50\", "
                               "not a JSON number.", name)
        return value
    if not isinstance(value, str):
        raise InvalidInput(f"Field \"{name}\" must be a string.", name)
    if f.max_length is not None and len(value) > f.max_length:
        raise InvalidInput(f"Field \"{name}\" is longer than {f.max_length} characters.", name)
    if kind == "enum" and value not in f.choices:
        raise InvalidInput(f"Field \"{name}\" must be one of: {', '.join(f.choices)}.", name)
    if kind == "date":
        return parse_date(value, name)
    return value


def parse_date(value: str, name: str) -> date:
    try:
        if not _ISO_DATE.match(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"Field \"{name}\": \"{value}\" is not an ISO date (YYYY-MM-DD).", name) from None


def parse_money(value: str, currency: str, name: str) -> Decimal:
    """A decimal string as an amount in ``currency``: exact, at most the currency's decimals."""
    try:
        amount = parse_amount(value, currency, field=name)
    except AmountError as exc:
        raise InvalidInput(str(exc), name) from None
    return amount


def parse_percent(value: str, name: str) -> Decimal:
    raw = value.strip()
    if not _DECIMAL.match(raw):
        raise InvalidInput(f"{name}: \"{raw}\" is not a decimal number (e.g. 10.5).", name)
    number = Decimal(raw)
    if not has_percent_precision(number):
        raise InvalidInput(f"{name}: at most 2 decimals, got {raw}.", name)
    return quantize_percent(number)


# -- request bodies ----------------------------------------------------------------------------

_CODE = "A code: 1–{n} characters without spaces."
_REF = "An id (integer) or a code (string)."

FISCAL_PERIOD_IN = {
    "code": Field("str", _CODE.format(n=20), required=True, max_length=20),
    "name": Field("str", "A name.", required=True, max_length=200),
    "start_date": Field("date", "First day (YYYY-MM-DD).", required=True),
    "end_date": Field("date", "Last day (YYYY-MM-DD).", required=True),
    "status": Field("enum", "Active or inactive (closed).", default="active", choices=("active", "inactive")),
}

LEDGER_IN = {
    "code": Field("str", _CODE.format(n=40) + " Unique within the fiscal period.", required=True, max_length=40),
    "name": Field("str", "A name.", required=True, max_length=200),
    "fiscal_period": Field("str", "The fiscal period's code.", required=True),
    "currency": Field("str", "A three-letter ISO currency code with at most 2 decimals.", required=True),
    "owner": Field("str", "The owning library's code; null (the default): the institution.", nullable=True),
    "available_to_all": Field("bool", "Whether every library may use it. Default: true unless `libraries` "
                                      "are given. Only for institution ledgers."),
    "libraries": Field("str_list", "Codes of the libraries it is available to, with available_to_all false. "
                                   "Only for institution ledgers.", default=()),
    "notes": Field("str", "Free notes.", default=""),
}

FUND_IN = {
    "code": Field("str", _CODE.format(n=40) + " Unique within the fiscal period.", required=True, max_length=40),
    "name": Field("str", "A name.", required=True, max_length=200),
    "ledger": Field("ref", "The ledger: its id (integer) or its code (string; unique among the ledgers you "
                           "can see, or give fiscal_period).", required=True),
    "fiscal_period": Field("str", "Code of the fiscal period, to resolve a ledger code.", nullable=True),
    "parent": Field("ref", "The parent summary fund (id or code, in the ledger's fiscal period); "
                           "null: directly under the ledger.", nullable=True),
    "type": Field("enum", "Summary funds group funds; allocated funds hold money.", default="allocated",
                  choices=("allocated", "summary")),
    "external_id": Field("str", "An identifier in another system.", default="", max_length=100),
    "fund_type": Field("str", "A fund type code, or null.", nullable=True),
    "status": Field("enum", "Active or inactive.", default="active", choices=("active", "inactive")),
    "notes": Field("str", "Free notes.", default=""),
    "overencumbrance_allowed": Field("bool", "May orders encumber beyond what is available?", default=False),
    "overencumbrance_limit_percent": Field("decimal", "How far, as a percent of the allocation "
                                                      "(decimal string, 0–1000).", default="0"),
    "overexpenditure_allowed": Field("bool", "May invoices expend beyond what is available?", default=False),
    "overexpenditure_limit": Field("decimal", "How far, as an amount (decimal string).", default="0"),
    "available_to_all": Field("bool", "Whether every library may use it (institution ledgers only). "
                                      "Default: the ledger's availability."),
    "libraries": Field("str_list", "Codes of the libraries it is available to, with available_to_all false; "
                                   "within the ledger's.", default=()),
}

TRANSACTION_IN = {
    "type": Field("enum", "An allocation gives money to the fund (negative: takes it back); a transfer "
                          "moves money from this fund to target_fund.", required=True,
                  choices=("allocation", "transfer")),
    "amount": Field("decimal", "A decimal string such as \"250.00\"; a transfer's is positive.", required=True),
    "target_fund": Field("ref", "For a transfer: the receiving fund (id or code in the same fiscal period).",
                         nullable=True),
    "reference": Field("str", "A short reference.", default="", max_length=100),
    "note": Field("str", "A note.", default=""),
}


# -- what the API returns ----------------------------------------------------------------------

def _percent(value: Decimal) -> str:
    return f"{quantize_percent(Decimal(value)):f}"


def _timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat() + ("Z" if value.tzinfo is None else "")


def fiscal_period_json(fp) -> dict:
    return {"id": fp.id, "code": fp.code, "name": fp.name, "start_date": fp.start_date.isoformat(),
            "end_date": fp.end_date.isoformat(), "status": fp.status}


def ledger_json(ledger) -> dict:
    return {"id": ledger.id, "code": ledger.code, "name": ledger.name,
            "fiscal_period": ledger.fiscal_period.code, "currency": ledger.currency,
            "owner": ledger.owner.code if ledger.owner else None,
            "available_to_all": ledger.available_to_all,
            "libraries": [lib.code for lib in ledger.libraries],
            "status": ledger.status, "notes": ledger.notes}


def balances_json(balance: Balance, currency: str) -> dict:
    return {"allocated": format_plain(balance.allocated, currency),
            "encumbered": format_plain(balance.encumbered, currency),
            "expended": format_plain(balance.expended, currency),
            "available": format_plain(balance.available, currency)}


def fund_json(fund, balance: Balance) -> dict:
    currency = fund.currency
    return {"id": fund.id, "code": fund.code, "name": fund.name,
            "fiscal_period": fund.fiscal_period.code,
            "ledger": fund.ledger.code, "ledger_id": fund.ledger_id,
            "parent": fund.parent.code if fund.parent else None, "parent_id": fund.parent_id,
            "type": fund.kind, "status": fund.status, "currency": currency,
            "external_id": fund.external_id,
            "fund_type": fund.fund_type.code if fund.fund_type else None,
            "notes": fund.notes,
            "owner": fund.owner.code if fund.owner else None,
            "available_to_all": fund.available_to_all,
            "libraries": [lib.code for lib in fund.libraries],
            "overencumbrance_allowed": fund.overencumbrance_allowed,
            "overencumbrance_limit_percent": _percent(fund.overencumbrance_limit_percent),
            "overexpenditure_allowed": fund.overexpenditure_allowed,
            "overexpenditure_limit": format_plain(fund.overexpenditure_limit, currency),
            "balances": balances_json(balance, currency)}


def transaction_json(tx) -> dict:
    return {"id": tx.id, "fund": tx.fund_id, "type": TransactionKind(tx.kind).value,
            "amount": format_plain(tx.amount, tx.currency), "currency": tx.currency,
            "date": tx.transaction_date.isoformat(), "reference": tx.reference, "note": tx.note,
            "actor": tx.actor.username if tx.actor else None, "transfer_id": tx.transfer_id,
            "counterpart_fund": tx.counterpart_fund_id, "created_at": _timestamp(tx.created_at)}
