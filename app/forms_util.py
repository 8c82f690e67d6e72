"""Form helpers: the object a select names, the row an edit form shows, a service's refusal next
to the form field it concerns, focus on the first field to fix, and the date field."""
from markupsafe import Markup
from wtforms import DateField
from wtforms.widgets import HiddenInput, TextInput

from .errors import DomainError, InvalidInput, no_such
from .extensions import db
from .ids import parse_id
from .text import T

FIELD_ALIASES = {"type": "kind", "target_fund": "target"}
# What every date input carries: typed as the pages show dates (YYYY-MM-DD), not in the browser's
# own format (a native date input shows 12/05/2026 in one browser and 05.12.2026 in another).
DATE_INPUT = {"inputmode": "numeric", "pattern": r"\d{4}-\d{2}-\d{2}", "placeholder": "YYYY-MM-DD", "size": 10,
              "autocomplete": "off", "title": T("A date as YYYY-MM-DD, e.g. 2026-12-31")}


class IsoDateField(DateField):
    """A date typed as YYYY-MM-DD in a text input (see :data:`DATE_INPUT`)."""
    widget = TextInput()

    def __init__(self, *args, render_kw=None, **kwargs):
        super().__init__(*args, render_kw={**DATE_INPUT, **(render_kw or {})}, **kwargs)


def hidden_fields(form) -> Markup:
    """``form.hidden_tag()`` with no id on the CSRF field: a page holds several forms, and an id is
    unique on a page (a hidden field has no label to point at it)."""
    return Markup("".join(str(f(id=False) if f.type == "CSRFTokenField" else f())
                          for f in form if isinstance(f.widget, HiddenInput)))


def chosen(model, value, field: str, what: str):
    """The ``model`` row a form's choice ``value`` names; None when nothing is chosen; refused
    ("No such <what>.", on ``field``) when it names nothing."""
    if not value:
        return None
    obj = db.session.get(model, parse_id(value)) if parse_id(value) else None
    if obj is None:
        raise InvalidInput(no_such(what), field)
    return obj


def edit_form(form_class, model, row_id, key: str):
    """The ``model`` row ``row_id`` names (404 when none; None for a new one) and its form, whose
    ``key`` field is read-only once the row exists."""
    row = db.get_or_404(model, row_id) if row_id else None
    form = form_class(obj=row)
    if row:
        getattr(form, key).render_kw = {**(getattr(form, key).render_kw or {}), "readonly": True}
    return row, form


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
