"""Putting a service's refusal next to the form field it concerns, and focus on the first to fix."""
from .errors import DomainError

FIELD_ALIASES = {"type": "kind", "target_fund": "target"}


def attach_error(form, exc: DomainError) -> None:
    name = FIELD_ALIASES.get(exc.field, exc.field) if exc.field else None
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        field.errors.append(exc.message)
    else:
        form.form_errors.append(exc.message)


def first_invalid(form, default: str) -> str:
    """Name of the first field with an error (it gets the focus), else ``default``."""
    return next((f.name for f in form if f.errors), default)
