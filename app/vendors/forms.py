"""Forms for vendors, their accounts, addresses and contacts, and exchange rates."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms_util import IsoDateField
from ..limits import free_text
from .models import ADDRESS_TYPES, CONTACT_ROLES
from .services import ORDER_CHANNELS

STATUS_CHOICES = [("active", "Active"), ("inactive", "Inactive")]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VendorForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(message="A code is required."), Length(max=20)])
    name = StringField("Name", validators=[DataRequired(message="A name is required."), Length(max=200)])
    status = SelectField("Status", choices=STATUS_CHOICES, id="vendor_status")  # #status: the layout's messages
    currency = StringField("Currency", validators=[DataRequired(message="A currency is required.")], default="EUR")
    financial_sys_code = StringField("Financial-system code", validators=[Optional(), Length(max=50)])
    additional_code = StringField("Additional code", validators=[Optional(), Length(max=50)])
    national_tax_id = StringField("National tax ID", validators=[Optional(), Length(max=50)])
    liable_for_vat = BooleanField("Liable for VAT")
    governmental_vendor = SelectField("Governmental vendor", coerce=str)
    is_governmental = BooleanField("This is a governmental vendor (tax authority)")
    vat_percent = StringField("VAT percent (governmental vendors)", validators=[Optional()])
    notes = TextAreaField("Notes", validators=[Optional(), free_text()])
    edi_enabled = BooleanField("EDI enabled")
    edi_vendor_id = StringField("EDI vendor ID (SAN/EAN)", validators=[Optional(), Length(max=50)])
    edi_id_qualifier = StringField("EDI ID qualifier", validators=[Optional(), Length(max=10)])
    edi_folder = StringField("EDI folder", validators=[Optional(), Length(max=200)])
    order_channel = SelectField("Order channel", choices=list(ORDER_CHANNELS.items()), default="none",
                                description="How orders, cancellations and claims reach this vendor; an "
                                            "account may use another.")


class AccountForm(FlaskForm):
    code = StringField("Account code", validators=[DataRequired(message="An account code is required.")])
    description = StringField("Description", validators=[Optional()])
    financial_sys_code = StringField("Financial-system code", validators=[Optional()])
    status = SelectField("Status", choices=STATUS_CHOICES, id="account_status")
    order_channel = SelectField("Order channel", choices=[("", "The vendor's")] + list(ORDER_CHANNELS.items()),
                                default="")


class AccountChannelForm(FlaskForm):
    order_channel = SelectField("Order channel", choices=[("", "The vendor's")] + list(ORDER_CHANNELS.items()),
                                default="")


class ContactRolesForm(FlaskForm):
    roles = MultiCheckboxField("Receives", choices=list(CONTACT_ROLES.items()))


class AddressForm(FlaskForm):
    line1 = StringField("Address line 1", validators=[DataRequired(message="The first address line is required.")])
    line2 = StringField("Address line 2", validators=[Optional()])
    city = StringField("City", validators=[Optional()])
    state = StringField("State/province", validators=[Optional()])
    postal_code = StringField("Postal code", validators=[Optional()])
    country = StringField("Country", validators=[Optional()])
    types = MultiCheckboxField("Used for", choices=[(t, t.capitalize()) for t in ADDRESS_TYPES])
    preferred = BooleanField("Preferred address")


class ContactForm(FlaskForm):
    name = StringField("Contact name", validators=[DataRequired(message="A contact name is required.")])
    email = StringField("Email", validators=[Optional()])
    phone = StringField("Phone", validators=[Optional()])
    note = StringField("Note", validators=[Optional(), free_text()])
    roles = MultiCheckboxField("Receives", choices=list(CONTACT_ROLES.items()),
                               description="The letters sent to this contact's e-mail.")


class RateForm(FlaskForm):
    currency = StringField("Currency", validators=[DataRequired(message="A currency is required.")])
    rate = StringField("Rate", validators=[DataRequired(message="A rate is required.")])
    date = IsoDateField("Date", validators=[DataRequired(message="Enter a date (YYYY-MM-DD).")])


class RateUploadForm(FlaskForm):
    file = FileField("CSV file (currency,rate,date)")
