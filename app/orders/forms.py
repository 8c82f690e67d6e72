"""Forms for PO lines (create/edit, receive, activate, cancel, vendor change, action notes) and purchase orders.

Amounts, percents and quantities stay text here: the services parse them into Decimal/int and
name the field when they refuse, so the message lands next to what was typed.
"""
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .. import clock
from ..forms_util import IsoDateField
from ..limits import free_text
from .models import ACQUISITION_METHODS, MATERIAL_FORMS, ORDER_TYPES
from .prediction import CHRONOLOGIES, FREQUENCIES

FUND_ROWS = 5


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class POLineForm(FlaskForm):
    vendor = SelectField("Vendor", coerce=str, validators=[DataRequired(message="Choose the vendor.")])
    vendor_account = SelectField("Vendor account", coerce=str, validators=[Optional()])
    order_type = SelectField("Order type", choices=list(ORDER_TYPES.items()), default="one_time")
    material_form = SelectField("Material form", choices=list(MATERIAL_FORMS.items()), default="physical")
    acquisition_method = SelectField("Acquisition method", choices=list(ACQUISITION_METHODS.items()),
                                     default="purchase")
    packaging = SelectField("Packaging", default="auto", choices=[("auto", "Automatic"), ("manual", "Manual")])
    owner_library = SelectField("Owner", coerce=str, validators=[Optional()])
    inventory_library = SelectField("Receiving library", coerce=str, validators=[Optional()])
    location_code = StringField("Location code", validators=[Optional(), Length(max=40)])
    bib_record = StringField("Bibliographic record ID", validators=[Optional(), Length(max=12)])
    title = StringField("Title", validators=[Optional(), Length(max=500)])
    author = StringField("Author", validators=[Optional(), Length(max=300)])
    isbn = StringField("ISBN", validators=[Optional(), Length(max=40)])
    issn = StringField("ISSN", validators=[Optional(), Length(max=20)])
    publisher = StringField("Publisher", validators=[Optional(), Length(max=300)])
    publication_date = StringField("Publication date", validators=[Optional(), Length(max=40)])
    currency = StringField("Currency", validators=[Optional(), Length(max=3)])
    list_price = StringField("List price", validators=[Optional()])   # required for purchases (the service says)
    discount = StringField("Discount %", default="0", validators=[Optional()])
    quantity = StringField("Quantity", default="1", validators=[DataRequired(message="Enter the quantity.")])
    distribution_method = SelectField("Distribution by", default="percent",
                                      choices=[("percent", "Percent of the net price"),
                                               ("amount", "Amount in the line's currency")])
    reporting_code = StringField("Reporting code", validators=[Optional(), Length(max=40)])
    vendor_reference = StringField("Vendor reference number", validators=[Optional(), Length(max=100)])
    note = TextAreaField("Note", validators=[Optional(), free_text()])
    expected_receipt_date = IsoDateField("Expected receipt", validators=[Optional()])
    renewal_date = IsoDateField("Renewal date", validators=[Optional()])
    renewal_period_months = StringField("Renewal period (months)", default="12", validators=[Optional()])
    manual_renewal = BooleanField("Renew by hand (otherwise renewed automatically)")

    def fund_rows(self):
        """(fund select, value field) for each distribution row."""
        return [(self[f"fund_{n}"], self[f"share_{n}"]) for n in range(1, FUND_ROWS + 1)]


for _n in range(1, FUND_ROWS + 1):
    setattr(POLineForm, f"fund_{_n}", SelectField(f"Fund {_n}", coerce=str, validators=[Optional()]))
    setattr(POLineForm, f"share_{_n}", StringField(f"Share {_n}", validators=[Optional()]))


class ReceiveForm(FlaskForm):
    items = MultiCheckboxField("Items", coerce=str, validators=[Optional()])
    received_date = IsoDateField("Received on", default=clock.today,
                              validators=[DataRequired(message="Enter a date (YYYY-MM-DD).")])
    enumeration = StringField("Enumeration", validators=[Optional(), Length(max=100)], description="e.g. v.2 or no.4")
    chronology = StringField("Chronology", validators=[Optional(), Length(max=100)], description="e.g. 2026")


class PatternForm(FlaskForm):
    """A continuous order's publication pattern (the services check the numbers and name the field)."""
    frequency = SelectField("Frequency", default="monthly", choices=[(k, v[0]) for k, v in FREQUENCIES.items()])
    first_date = IsoDateField("Next issue expected on", validators=[Optional()],
                           description="The first issue to predict (not needed for an irregular serial).")
    chronology = SelectField("Chronology", default="month", choices=list(CHRONOLOGIES.items()))
    first_volume = StringField("Its volume", validators=[Optional(), Length(max=6)],
                               description="Empty: issues are numbered without volumes.")
    first_issue = StringField("Its issue number", default="1", validators=[Optional(), Length(max=6)])
    issues_per_volume = StringField("Issues per volume", validators=[Optional(), Length(max=4)],
                                    description="The issue number starts again at 1 in each volume.")
    predict_ahead = StringField("Issues predicted ahead", default="3", validators=[Optional(), Length(max=2)],
                                description="1 to 24; one more is predicted each time an issue is received.")


class ActivateForm(FlaskForm):
    activation_date = IsoDateField("Activated on", default=clock.today,
                                validators=[DataRequired(message="Enter a date (YYYY-MM-DD).")])


class CancelForm(FlaskForm):
    reason = TextAreaField("Reason for cancelling", validators=[
        DataRequired(message="Give the reason for cancelling (it is kept in the line's history)."),
        Length(max=1000)])


class VendorChangeForm(FlaskForm):
    vendor = SelectField("New vendor", coerce=str, validators=[DataRequired(message="Choose the new vendor.")])
    vendor_account = SelectField("Vendor account", coerce=str, validators=[Optional()])


class PackageForm(FlaskForm):
    po = SelectField("Purchase order", coerce=str, validators=[Optional()])


class ActionNoteForm(FlaskForm):
    """The note of the action bar, sent with approve, defer, resume, renew, close and reopen."""
    note = TextAreaField("Note", validators=[Optional(), Length(max=1000, message="The note is longer than 1000 "
                                                                                   "characters.")])
