"""The invoice form: header, options, charges, VAT, and its lines with their fund rows.

Amounts, percents and quantities stay text here: the services parse them into Decimal/int and
name the field (or the line) when they refuse, so the message lands next to what was typed.
Choices (vendors, owners, funds, line types) are filled per request by the view.
"""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from ..forms_util import IsoDateField
from ..limits import free_text
from .models import PAYMENT_METHODS

FUND_ROWS = 4
LINE_ROWS = 3          # empty lines a new invoice starts with
LINE_PREFIX = "lines"  # line fields are named lines-<n>-<field>
DISTRIBUTION_METHODS = [("percent", _l("Percent of the line")), ("amount", _l("Amount in the invoice currency"))]
VAT_LEVELS = [("none", _l("No VAT")), ("invoice", _l("On the invoice")), ("line", _l("On each line"))]


class InvoiceLineForm(Form):
    """One invoice line (a sub-form: the invoice form carries the CSRF token)."""
    line_type = SelectField(_l("Type"), coerce=str, default="regular", validate_choice=False)
    po_line = StringField(_l("PO line"), validators=[Optional(), Length(max=20)], description=_l("e.g. POL-000012"))
    quantity = StringField(_l("Quantity"), default="1")
    unit_price = StringField(_l("Unit price"))
    total = StringField(_l("Total"), description=_l("Empty: quantity × unit price"))
    fully_invoiced = BooleanField(_l("Fully invoiced"), default=True)
    price_note = StringField(_l("Price note"), validators=[Optional(), Length(max=300)])
    subscription_from = IsoDateField(_l("Subscription from"), validators=[Optional()])
    subscription_to = IsoDateField(_l("Subscription to"), validators=[Optional()])
    reporting_code = StringField(_l("Reporting code"), validators=[Optional(), Length(max=40)])
    vat_code = StringField(_l("VAT code"), validators=[Optional(), Length(max=20)])
    vat_percent = StringField(_l("VAT %"))
    vat_amount = StringField(_l("VAT amount"))
    distribution_method = SelectField(_l("Distribution by"), default="percent", choices=DISTRIBUTION_METHODS)

    def fund_rows(self):
        """(fund select, value field) for each distribution row."""
        return [(self[f"fund_{n}"], self[f"share_{n}"]) for n in range(1, FUND_ROWS + 1)]

    def is_empty(self) -> bool:
        """No price, no total and no PO line: the line is ignored."""
        return not any((self[name].data or "").strip() for name in ("unit_price", "total", "po_line"))


for _n in range(1, FUND_ROWS + 1):
    setattr(InvoiceLineForm, f"fund_{_n}", SelectField(_l("Fund %(n)s", n=_n), coerce=str, validate_choice=False))
    setattr(InvoiceLineForm, f"share_{_n}", StringField(_l("Share %(n)s", n=_n)))


class InvoiceForm(FlaskForm):
    number = StringField(_l("Invoice number"), validators=[Length(max=50)])
    vendor = SelectField(_l("Vendor"), coerce=str, validate_choice=False)
    vendor_account = SelectField(_l("Vendor account"), coerce=str, validate_choice=False)
    invoice_date = IsoDateField(_l("Invoice date"), validators=[Optional()])
    due_date = IsoDateField(_l("Due date"), validators=[Optional()])
    currency = StringField(_l("Currency"), validators=[Optional(), Length(max=3)],
                           description=_l("Empty: the vendor's"))
    total_amount = StringField(_l("Total amount"), description=_l("As printed on the invoice; negative for a refund."))
    owner_library = SelectField(_l("Owner"), coerce=str, validate_choice=False)  # the service checks the scope
    payment_method = SelectField(_l("Payment method"), default="bank_transfer", choices=list(PAYMENT_METHODS.items()))
    reference_number = StringField(_l("Reference number"), validators=[Optional(), Length(max=100)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), free_text()])
    prepaid = BooleanField(_l("Prepaid"))
    export_prepaid = BooleanField(_l("Export to the ERP although prepaid"))
    internal_copy = BooleanField(_l("Internal copy (never exported to the ERP)"))
    explicit_ratio = StringField(_l("Explicit ratio"), validators=[Optional()],
                                 description=_l("1 unit of the invoice currency = this many units of a fund's "
                                                "currency. Empty: the exchange rate of the invoice date."))
    pro_rata = SelectField(_l("Pro rata"), default="",
                           choices=[("", _l("Setting default")), ("on", _l("On")), ("off", _l("Off"))])
    vat_level = SelectField(_l("VAT"), default="none", choices=VAT_LEVELS)
    vat_inclusive = BooleanField(_l("Prices include VAT"))
    vat_code = StringField(_l("VAT code"), validators=[Optional(), Length(max=20)])
    vat_percent = StringField(_l("VAT %"))
    vat_amount = StringField(_l("VAT amount"), description=_l("Empty: computed from the percent."))
    vat_separate_line = BooleanField(_l("Post the VAT as a separate adjustment line"))
    vat_fund = SelectField(_l("VAT fund"), coerce=str, validate_choice=False)   # the service checks the fund
    lines = FieldList(FormField(InvoiceLineForm), min_entries=0)
