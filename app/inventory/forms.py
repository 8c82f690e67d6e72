"""Forms for bibliographic records, holdings, items and receiving."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .. import clock
from ..forms_util import IsoDateField


class RecordForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(message=_l("A title is required.")), Length(max=500)])
    author = StringField(_l("Author"), validators=[Optional(), Length(max=300)])
    isbn = StringField(_l("ISBN"), validators=[Optional(), Length(max=40)])
    issn = StringField(_l("ISSN"), validators=[Optional(), Length(max=20)])
    publisher = StringField(_l("Publisher"), validators=[Optional(), Length(max=300)])
    publication_date = StringField(_l("Publication date"), validators=[Optional(), Length(max=40)])


class HoldingForm(FlaskForm):
    library = SelectField(_l("Library"), coerce=str, validators=[DataRequired(message=_l("Choose a library."))])
    location_code = StringField(_l("Location code"),
                                validators=[DataRequired(message=_l("A location code is required.")), Length(max=40)])
    location_name = StringField(_l("Location name"), validators=[Optional(), Length(max=200)])
    call_number = StringField(_l("Call number"), validators=[Optional(), Length(max=100)])


class ItemForm(FlaskForm):
    barcode = StringField(_l("Barcode"), validators=[Optional(), Length(max=60)])
    enumeration = StringField(_l("Enumeration"), validators=[Optional(), Length(max=100)],
                              description=_l("e.g. v.2 or no.4"))
    chronology = StringField(_l("Chronology"), validators=[Optional(), Length(max=100)],
                             description=_l("e.g. %(example)s", example="2026"))
    description = StringField(_l("Description"), validators=[Optional(), Length(max=500)])


class ReceiveForm(FlaskForm):
    received_date = IsoDateField(_l("Received on"), default=clock.today,
                                 validators=[DataRequired(message=_l("Enter a date (YYYY-MM-DD)."))])


class ItemChoiceField(SelectMultipleField):
    """Item ids ticked in a holding's item list (checkboxes tied to the form by their form attribute).

    Any id is accepted here: the binding service says which item cannot be bound, and why."""

    def pre_validate(self, form):
        pass


class BindForm(FlaskForm):
    items = ItemChoiceField(_l("Items to bind"), coerce=int, choices=[])
    barcode = StringField(_l("Barcode of the bound item"), validators=[Optional(), Length(max=60)])
    enumeration = StringField(_l("Enumeration"), validators=[Optional(), Length(max=100)],
                              description=_l("e.g. %(example)s", example="v.1-4"))
    chronology = StringField(_l("Chronology"), validators=[Optional(), Length(max=100)],
                             description=_l("e.g. %(example)s", example="2024-2025"))
    description = StringField(_l("Description"), validators=[Optional(), Length(max=500)])
    note = TextAreaField(_l("Note for the bindery"), validators=[Optional(), Length(max=2000)])


class WorkOrderDoneForm(FlaskForm):
    received_date = IsoDateField(_l("Back on"), default=clock.today, validators=[Optional()],
                                 description=_l("Empty: today."))


class ScanBoundItemForm(FlaskForm):
    barcode = StringField(_l("Barcode of the bound item"),
                          validators=[DataRequired(message=_l("Scan or enter the barcode of the bound item.")),
                                      Length(max=60)])
    received_date = IsoDateField(_l("Back on"), default=clock.today, validators=[Optional()])


def suffix_ids(form, suffix: str):
    """Unique field ids, so several of these forms can be open on one page."""
    for f in form:
        if f.name != "csrf_token":
            f.id = f.label.field_id = f"{f.name}-{suffix}"
    return form
