"""Forms for vendors, their accounts, addresses and contacts, and exchange rates."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms_util import IsoDateField
from ..limits import free_text
from .models import ADDRESS_TYPE_LABELS, ADDRESS_TYPES, CONTACT_ROLES
from .services import ORDER_CHANNELS, letter_languages

STATUS_CHOICES = [("active", _l("Active")), ("inactive", _l("Inactive"))]


def language_choices() -> list:
    """The vendor's language of letters: none (the institution's default), then each language by its own name."""
    return [("", _l("The institution's default"))] + list(letter_languages().items())


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VendorForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(message=_l("A code is required.")), Length(max=20)])
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("A name is required.")), Length(max=200)])
    status = SelectField(_l("Status"), choices=STATUS_CHOICES, id="vendor_status")  # #status: the layout's messages
    currency = StringField(_l("Currency"), validators=[DataRequired(message=_l("A currency is required."))],
                           default="EUR")
    financial_sys_code = StringField(_l("Financial-system code"), validators=[Optional(), Length(max=50)])
    additional_code = StringField(_l("Additional code"), validators=[Optional(), Length(max=50)])
    national_tax_id = StringField(_l("National tax ID"), validators=[Optional(), Length(max=50)])
    liable_for_vat = BooleanField(_l("Liable for VAT"))
    governmental_vendor = SelectField(_l("Governmental vendor"), coerce=str)
    is_governmental = BooleanField(_l("This is a governmental vendor (tax authority)"))
    vat_percent = StringField(_l("VAT percent (governmental vendors)"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), free_text()])
    edi_enabled = BooleanField(_l("EDI enabled"))
    edi_vendor_id = StringField(_l("EDI vendor ID (SAN/EAN)"), validators=[Optional(), Length(max=50)])
    edi_id_qualifier = StringField(_l("EDI ID qualifier"), validators=[Optional(), Length(max=10)])
    edi_folder = StringField(_l("EDI folder"), validators=[Optional(), Length(max=200)])
    order_channel = SelectField(_l("Order channel"), choices=list(ORDER_CHANNELS.items()), default="none",
                                description=_l("How orders, cancellations and claims reach this vendor; an "
                                               "account may use another."))
    # Not sent (an older form, a script): the institution's default; the service refuses an unknown code.
    language = SelectField(_l("Language of letters"), choices=language_choices(), default="", validate_choice=False,
                           description=_l("The language of the orders, claims and other letters sent to this "
                                          "vendor, and of their PDFs."))


class AccountForm(FlaskForm):
    code = StringField(_l("Account code"), validators=[DataRequired(message=_l("An account code is required."))])
    description = StringField(_l("Description"), validators=[Optional()])
    financial_sys_code = StringField(_l("Financial-system code"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=STATUS_CHOICES, id="account_status")
    order_channel = SelectField(_l("Order channel"),
                                choices=[("", _l("The vendor's"))] + list(ORDER_CHANNELS.items()), default="")


class AccountChannelForm(FlaskForm):
    order_channel = SelectField(_l("Order channel"),
                                choices=[("", _l("The vendor's"))] + list(ORDER_CHANNELS.items()), default="")


class ContactRolesForm(FlaskForm):
    roles = MultiCheckboxField(_l("Receives"), choices=list(CONTACT_ROLES.items()))


class AddressForm(FlaskForm):
    line1 = StringField(_l("Address line 1"),
                        validators=[DataRequired(message=_l("The first address line is required."))])
    line2 = StringField(_l("Address line 2"), validators=[Optional()])
    city = StringField(_l("City"), validators=[Optional()])
    state = StringField(_l("State/province"), validators=[Optional()])
    postal_code = StringField(_l("Postal code"), validators=[Optional()])
    country = StringField(_l("Country"), validators=[Optional()])
    types = MultiCheckboxField(_l("Used for"), choices=[(t, ADDRESS_TYPE_LABELS[t]) for t in ADDRESS_TYPES])
    preferred = BooleanField(_l("Preferred address"))


class ContactForm(FlaskForm):
    name = StringField(_l("Contact name"), validators=[DataRequired(message=_l("A contact name is required."))])
    email = StringField(_l("Email"), validators=[Optional()])
    phone = StringField(_l("Phone"), validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), free_text()])
    roles = MultiCheckboxField(_l("Receives"), choices=list(CONTACT_ROLES.items()),
                               description=_l("The letters sent to this contact's e-mail."))


class RateForm(FlaskForm):
    currency = StringField(_l("Currency"), validators=[DataRequired(message=_l("A currency is required."))])
    rate = StringField(_l("Rate"), validators=[DataRequired(message=_l("A rate is required."))])
    date = IsoDateField(_l("Date"), validators=[DataRequired(message=_l("Enter a date (YYYY-MM-DD)."))])


class RateUploadForm(FlaskForm):
    file = FileField(_l("CSV file"))
