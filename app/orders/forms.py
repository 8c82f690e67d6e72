"""Forms for PO lines (create/edit, receive, activate, cancel, vendor change, action notes) and purchase orders.

Amounts, percents and quantities stay text here: the services parse them into Decimal/int and
name the field when they refuse, so the message lands next to what was typed.
"""
from flask_babel import lazy_gettext as _l
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
    vendor = SelectField(_l("Vendor"), coerce=str, validators=[DataRequired(message=_l("Choose the vendor."))])
    vendor_account = SelectField(_l("Vendor account"), coerce=str, validators=[Optional()])
    order_type = SelectField(_l("Order type"), choices=list(ORDER_TYPES.items()), default="one_time")
    material_form = SelectField(_l("Material form"), choices=list(MATERIAL_FORMS.items()), default="physical")
    acquisition_method = SelectField(_l("Acquisition method"), choices=list(ACQUISITION_METHODS.items()),
                                     default="purchase")
    packaging = SelectField(_l("Packaging"), default="auto",
                            choices=[("auto", _l("Automatic")), ("manual", _l("Manual"))])
    owner_library = SelectField(_l("Owner"), coerce=str, validators=[Optional()])
    inventory_library = SelectField(_l("Receiving library"), coerce=str, validators=[Optional()])
    location_code = StringField(_l("Location code"), validators=[Optional(), Length(max=40)])
    bib_record = StringField(_l("Bibliographic record ID"), validators=[Optional(), Length(max=12)])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=500)])
    author = StringField(_l("Author"), validators=[Optional(), Length(max=300)])
    isbn = StringField(_l("ISBN"), validators=[Optional(), Length(max=40)])
    issn = StringField(_l("ISSN"), validators=[Optional(), Length(max=20)])
    publisher = StringField(_l("Publisher"), validators=[Optional(), Length(max=300)])
    publication_date = StringField(_l("Publication date"), validators=[Optional(), Length(max=40)])
    currency = StringField(_l("Currency"), validators=[Optional(), Length(max=3)])
    list_price = StringField(_l("List price"), validators=[Optional()])   # required for purchases (the service says)
    discount = StringField(_l("Discount %"), default="0", validators=[Optional()])
    quantity = StringField(_l("Quantity"), default="1", validators=[DataRequired(message=_l("Enter the quantity."))])
    distribution_method = SelectField(_l("Distribution by"), default="percent",
                                      choices=[("percent", _l("Percent of the net price")),
                                               ("amount", _l("Amount in the line's currency"))])
    reporting_code = StringField(_l("Reporting code"), validators=[Optional(), Length(max=40)])
    vendor_reference = StringField(_l("Vendor reference number"), validators=[Optional(), Length(max=100)])
    note = TextAreaField(_l("Note"), validators=[Optional(), free_text()])
    expected_receipt_date = IsoDateField(_l("Expected receipt"), validators=[Optional()])
    renewal_date = IsoDateField(_l("Renewal date"), validators=[Optional()])
    renewal_period_months = StringField(_l("Renewal period (months)"), default="12", validators=[Optional()])
    manual_renewal = BooleanField(_l("Renew by hand (otherwise renewed automatically)"))

    def fund_rows(self):
        """(fund select, value field) for each distribution row."""
        return [(self[f"fund_{n}"], self[f"share_{n}"]) for n in range(1, FUND_ROWS + 1)]


for _n in range(1, FUND_ROWS + 1):
    setattr(POLineForm, f"fund_{_n}", SelectField(_l("Fund %(n)s", n=_n), coerce=str, validators=[Optional()]))
    setattr(POLineForm, f"share_{_n}", StringField(_l("Share %(n)s", n=_n), validators=[Optional()]))


class ReceiveForm(FlaskForm):
    items = MultiCheckboxField(_l("Items"), coerce=str, validators=[Optional()])
    received_date = IsoDateField(_l("Received on"), default=clock.today,
                              validators=[DataRequired(message=_l("Enter a date (YYYY-MM-DD)."))])
    enumeration = StringField(_l("Enumeration"), validators=[Optional(), Length(max=100)],
                              description=_l("e.g. v.2 or no.4"))
    chronology = StringField(_l("Chronology"), validators=[Optional(), Length(max=100)], description=_l("e.g. 2026"))


class PatternForm(FlaskForm):
    """A continuous order's publication pattern (the services check the numbers and name the field)."""
    frequency = SelectField(_l("Frequency"), default="monthly", choices=[(k, v[0]) for k, v in FREQUENCIES.items()])
    first_date = IsoDateField(_l("Next issue expected on"), validators=[Optional()],
                           description=_l("The first issue to predict (not needed for an irregular serial)."))
    chronology = SelectField(_l("Chronology"), default="month", choices=list(CHRONOLOGIES.items()))
    first_volume = StringField(_l("Its volume"), validators=[Optional(), Length(max=6)],
                               description=_l("Empty: issues are numbered without volumes."))
    first_issue = StringField(_l("Its issue number"), default="1", validators=[Optional(), Length(max=6)])
    issues_per_volume = StringField(_l("Issues per volume"), validators=[Optional(), Length(max=4)],
                                    description=_l("The issue number starts again at 1 in each volume."))
    predict_ahead = StringField(_l("Issues predicted ahead"), default="3", validators=[Optional(), Length(max=2)],
                                description=_l("1 to 24; one more is predicted each time an issue is received."))


class ActivateForm(FlaskForm):
    activation_date = IsoDateField(_l("Activated on"), default=clock.today,
                                validators=[DataRequired(message=_l("Enter a date (YYYY-MM-DD)."))])


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Reason for cancelling"), validators=[
        DataRequired(message=_l("Give the reason for cancelling (it is kept in the line's history).")),
        Length(max=1000)])


class VendorChangeForm(FlaskForm):
    vendor = SelectField(_l("New vendor"), coerce=str, validators=[DataRequired(message=_l("Choose the new vendor."))])
    vendor_account = SelectField(_l("Vendor account"), coerce=str, validators=[Optional()])


class PackageForm(FlaskForm):
    po = SelectField(_l("Purchase order"), coerce=str, validators=[Optional()])


class ActionNoteForm(FlaskForm):
    """The note of the action bar, sent with approve, defer, resume, renew, close and reopen."""
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000, message=_l(
        "The note is longer than %(limit)s characters.", limit=1000))])
