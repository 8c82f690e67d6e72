"""Forms for bibliographic records, holdings, items and receiving."""
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .. import clock
from ..forms_util import IsoDateField


class RecordForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(message="A title is required."), Length(max=500)])
    author = StringField("Author", validators=[Optional(), Length(max=300)])
    isbn = StringField("ISBN", validators=[Optional(), Length(max=40)])
    issn = StringField("ISSN", validators=[Optional(), Length(max=20)])
    publisher = StringField("Publisher", validators=[Optional(), Length(max=300)])
    publication_date = StringField("Publication date", validators=[Optional(), Length(max=40)])


class HoldingForm(FlaskForm):
    library = SelectField("Library", coerce=str, validators=[DataRequired(message="Choose a library.")])
    location_code = StringField("Location code", validators=[DataRequired(message="A location code is required."),
                                                             Length(max=40)])
    location_name = StringField("Location name", validators=[Optional(), Length(max=200)])
    call_number = StringField("Call number", validators=[Optional(), Length(max=100)])


class ItemForm(FlaskForm):
    barcode = StringField("Barcode", validators=[Optional(), Length(max=60)])
    enumeration = StringField("Enumeration", validators=[Optional(), Length(max=100)],
                              description="e.g. v.2 or no.4")
    chronology = StringField("Chronology", validators=[Optional(), Length(max=100)], description="e.g. 2026")
    description = StringField("Description", validators=[Optional(), Length(max=500)])


class ReceiveForm(FlaskForm):
    received_date = IsoDateField("Received on", default=clock.today,
                              validators=[DataRequired(message="Enter a date (YYYY-MM-DD).")])


class ItemChoiceField(SelectMultipleField):
    """Item ids ticked in a holding's item list (checkboxes tied to the form by their form attribute).

    Any id is accepted here: the binding service says which item cannot be bound, and why."""

    def pre_validate(self, form):
        pass


class BindForm(FlaskForm):
    items = ItemChoiceField("Items to bind", coerce=int, choices=[])
    barcode = StringField("Barcode of the bound item", validators=[Optional(), Length(max=60)])
    enumeration = StringField("Enumeration", validators=[Optional(), Length(max=100)], description="e.g. v.1-4")
    chronology = StringField("Chronology", validators=[Optional(), Length(max=100)], description="e.g. 2024-2025")
    description = StringField("Description", validators=[Optional(), Length(max=500)])
    note = TextAreaField("Note for the bindery", validators=[Optional(), Length(max=2000)])


class WorkOrderDoneForm(FlaskForm):
    received_date = IsoDateField("Back on", default=clock.today, validators=[Optional()],
                              description="Empty: today.")


class ScanBoundItemForm(FlaskForm):
    barcode = StringField("Barcode of the bound item",
                          validators=[DataRequired(message="Scan or enter the barcode of the bound item."),
                                      Length(max=60)])
    received_date = IsoDateField("Back on", default=clock.today, validators=[Optional()])


def suffix_ids(form, suffix: str):
    """Unique field ids, so several of these forms can be open on one page."""
    for f in form:
        if f.name != "csrf_token":
            f.id = f.label.field_id = f"{f.name}-{suffix}"
    return form
