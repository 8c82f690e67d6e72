"""Domain errors raised by services; views and the API turn them into messages and status codes."""
from .text import T, Text


class DomainError(Exception):
    """Something a person did that the rules refuse. ``field`` names the form field, if any."""
    status = 422
    code = "rule_violation"

    def __init__(self, message: str, field: str | None = None):
        # ``message`` may be a :class:`~app.text.Text`: ``message`` is then the sentence in the
        # language of the request that raised it, and ``text`` keeps it to show later translated.
        self.text, self.field = message, field
        self.message = str(message)
        super().__init__(self.message)


class InvalidInput(DomainError):
    status, code = 400, "invalid"


class Duplicate(DomainError):
    status, code = 409, "duplicate"


class RuleViolation(DomainError):
    status, code = 422, "rule_violation"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class PreconditionFailed(DomainError):
    """The object changed since the client read it (its If-Match no longer matches the ETag)."""
    status, code = 412, "precondition_failed"


class PreconditionRequired(DomainError):
    """An update sent without If-Match: the client must say which version it read."""
    status, code = 428, "precondition_required"


# "No such <what>.": one whole sentence per kind of object, so each reads right once translated.
_NO_SUCH = {
    "fund": T("No such fund."),
    "vendor": T("No such vendor."),
    "vendor account": T("No such vendor account."),
    "library": T("No such library."),
    "invoice": T("No such invoice."),
    "bibliographic record": T("No such bibliographic record."),
    "holding": T("No such holding."),
    "item": T("No such item."),
}


def no_such(what: str) -> Text:
    """The message "No such <what>." for a kind of object named in English (``"vendor account"``)."""
    return _NO_SUCH.get(str(what)) or T("No such %(what)s.", what=what)
