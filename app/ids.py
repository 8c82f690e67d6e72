"""Row ids as they come from URLs, forms and JSON: parsed strictly, never guessed."""

MAX_ID = 2**31 - 1  # INTEGER primary keys: a bigger id cannot exist (and would fail the query)


def parse_id(value) -> int | None:
    """An id from a URL, form or JSON value; None when it cannot be one (so: not found)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and 0 < value <= MAX_ID else None
