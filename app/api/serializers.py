"""API v1 wire format: reading request bodies strictly, and the plain texts answers are made of.

Bodies are read against a declared set of fields (each module's ``*_IN``): an unknown or
missing field, a wrong JSON type or a bad value is an ``InvalidInput`` (400) naming the field.
Money and limits travel as decimal strings ("1234.50"); a JSON number is refused, because it
may have been a binary float on the client's side. The same field declarations produce the
request schemas of the OpenAPI document (:func:`app.api.base.field_schema`), so the two cannot drift.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import request

from ..errors import InvalidInput
from ..ledger import MAX_AMOUNT, AmountError, has_percent_precision, parse_amount, quantize_percent

# The money columns' limit (app.ledger.money, where parse_amount checks it): decimal text fields
# checked before their currency is known use it too.
MAX_MONEY = MAX_AMOUNT
DECIMAL = re.compile(r"^[+-]?[0-9]{1,15}(\.[0-9]+)?$")   # ASCII digits only
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


# -- reading bodies ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Field:
    """One field of a request body, read by :func:`read_object` and documented by
    :func:`app.api.base.field_schema`.

    ``kind``: str, bool, date, enum, ref (an id or a code), str_list, int, int_list, decimal (a
    decimal string the service parses), number (a decimal string checked at once: digits, below
    :data:`MAX_MONEY`), amounts (code → number), shares (fund rows with a percent or an amount),
    object (``spec`` nested), objects (a list of ``spec``, each reported as "``label`` n").
    ``component``: the OpenAPI schema(s) an object's, or a list's items, refer to. ``schema``:
    JSON Schema keywords the service enforces (documented here, checked there)."""
    kind: str
    description: str = ""
    required: bool = False
    nullable: bool = False
    default: Any = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    spec: dict | None = None
    label: str = ""
    component: str | tuple[str, ...] = ""
    schema: dict | None = None


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


def read_body(spec: dict[str, Field], *, optional: bool = False) -> Body:
    """The request body read against ``spec``; ``optional``: an empty body reads as {}."""
    data = {} if optional and not request.get_data(cache=True).strip() else json_object()
    return read_object(data, spec)


def read_patch(spec: dict[str, Field], current: dict) -> Body:
    """A PATCH body: the fields sent are read against ``spec`` (none is required) and replace those
    of ``current`` (the object as the same spec would read it); the rest stay as they are.
    ``given`` names the fields sent. An empty object is refused: it would change nothing."""
    data = json_object()
    if not data:
        raise InvalidInput(f"Send at least one field to change; allowed: {', '.join(spec)}.")
    body = read_object(data, {name: replace(f, required=False) for name, f in spec.items()})
    return Body({name: body[name] if name in body.given else current[name] for name in spec}, body.given)


def read_object(data, spec: dict[str, Field], where: str | None = None, field: str | None = None) -> Body:
    """Check an object against ``spec``. A nested one (``where`` "Line 2", ``field`` "lines")
    reports its problems prefixed with where it is, on the top-level field."""
    def refuse(message: str, name: str):
        raise InvalidInput(f"{where}: {message}" if where else message, field or name)

    if not isinstance(data, dict):
        refuse("must be a JSON object.", "")
    unknown = sorted(set(data) - set(spec))
    if unknown:
        names = ", ".join(f'"{k}"' for k in unknown)
        allowed = f"allowed: {', '.join(spec)}" if spec else "this action takes no fields"
        refuse(f"Unknown field{'s' if len(unknown) > 1 else ''} {names}; {allowed}.", unknown[0])
    missing = [k for k, f in spec.items() if f.required and k not in data]
    if missing:
        names = ", ".join(f'"{k}"' for k in missing)
        refuse(f"Missing required field{'s' if len(missing) > 1 else ''} {names}.", missing[0])
    values = {}
    for name, f in spec.items():
        if name not in data:
            values[name] = f.default
            continue
        value = data[name]
        if value is None and f.nullable:
            values[name] = None
            continue
        try:
            values[name] = _check(name, f, value)
        except InvalidInput as exc:
            refuse(exc.message, name)
        if f.kind == "number":  # reported as it is, outside any nesting
            values[name] = number_text(values[name], name)
    return Body(values, set(data))


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check(name: str, f: Field, value):
    if value is None:
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
    if kind == "int":
        if not _whole(value):
            raise InvalidInput(f"Field \"{name}\" must be a whole number (a JSON integer).", name)
        return value
    if kind == "int_list":
        if not isinstance(value, list) or not all(_whole(v) for v in value):
            raise InvalidInput(f"Field \"{name}\" must be a list of ids (JSON integers).", name)
        return value
    if kind == "shares":
        return _share_rows(name, value)
    if kind == "amounts":
        return _amounts(name, value)
    if kind == "object":
        return read_object(value, f.spec, name, name)
    if kind == "objects":
        if not isinstance(value, list):
            raise InvalidInput(f"Field \"{name}\" must be a list of {f.label.lower()} objects.", name)
        return [read_object(item, f.spec, f"{f.label} {n}", name) for n, item in enumerate(value, 1)]
    if kind in ("decimal", "number"):
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


def number_text(value: str, name: str) -> str:
    """A decimal string, stripped, refused unless it is digits below :data:`MAX_MONEY`."""
    text = value.strip()
    if not DECIMAL.match(text):
        raise InvalidInput(f"Field \"{name}\": \"{value}\" is not a decimal number such as \"12.50\".", name)
    if abs(Decimal(text)) >= MAX_MONEY:
        raise InvalidInput(f"Field \"{name}\" must be below {MAX_MONEY:f}.", name)
    return text


def _amounts(name: str, value) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InvalidInput(f"Field \"{name}\" must be an object of charge type code → amount, such as "
                           "{\"shipment\": \"10.00\"}.", name)
    for code, amount in value.items():
        if not isinstance(amount, str):
            raise InvalidInput(f"Charge \"{code}\" must be a decimal string such as \"10.00\", not a JSON "
                               "number.", name)
        number_text(amount, name)
    return {code: amount.strip() for code, amount in value.items()}


def _share_rows(name: str, value) -> list[dict]:
    """Check the shape of each row: {"fund": id or code, "percent" or "amount": decimal string}."""
    if not isinstance(value, list):
        raise InvalidInput(f"Field \"{name}\" must be a list of {{\"fund\", \"percent\" or \"amount\"}} objects.",
                           name)
    for n, row in enumerate(value, 1):
        if not isinstance(row, dict):
            raise InvalidInput(f"Distribution row {n} must be an object such as {{\"fund\": \"SHARED\", "
                               "\"percent\": \"100\"}.", name)
        unknown = sorted(set(row) - {"fund", "percent", "amount"})
        if unknown:
            raise InvalidInput(f"Distribution row {n}: unknown field \"{unknown[0]}\"; allowed: fund, percent, "
                               "amount.", name)
        fund = row.get("fund")
        if isinstance(fund, bool) or not isinstance(fund, (int, str)) or fund == "" or (
                isinstance(fund, int) and fund <= 0):
            raise InvalidInput(f"Distribution row {n}: \"fund\" must be a fund id (an integer) or code (a string).",
                               name)
        given = [k for k in ("percent", "amount") if k in row]
        if len(given) != 1:
            raise InvalidInput(f"Distribution row {n}: give either \"percent\" or \"amount\".", name)
        share = row[given[0]]
        if not isinstance(share, str):
            raise InvalidInput(f"Distribution row {n}: \"{given[0]}\" must be a decimal string such as \"50\", "
                               "not a JSON number.", name)
        if not DECIMAL.match(share.strip()):
            raise InvalidInput(f"Distribution row {n}: \"{share}\" is not a decimal number.", name)
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
    if not DECIMAL.match(raw):
        raise InvalidInput(f"{name}: \"{raw}\" is not a decimal number (e.g. 10.5).", name)
    number = Decimal(raw)
    if not has_percent_precision(number):
        raise InvalidInput(f"{name}: at most 2 decimals, got {raw}.", name)
    return quantize_percent(number)


# -- what the API returns ----------------------------------------------------------------------

def percent_text(value: Decimal | None) -> str | None:
    """A percent as the API shows it ("12.50"); None stays None."""
    return f"{quantize_percent(Decimal(value)):f}" if value is not None else None


def timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat() + ("Z" if value.tzinfo is None else "")


def iso_day(value) -> str | None:
    return value.isoformat() if value is not None else None
