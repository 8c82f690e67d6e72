"""The invoice form: header, options, charges, VAT, and its lines with their fund rows.

Amounts, percents and quantities stay text here: the services parse them into Decimal/int and
name the field (or the line) when they refuse, so the message lands next to what was typed.
Choices (vendors, owners, funds, line types) are filled per request by the view.
"""
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from ..forms_util import IsoDateField
from ..limits import free_text
from .models import PAYMENT_METHODS

FUND_ROWS = 4
LINE_ROWS = 3          # empty lines a new invoice starts with
LINE_PREFIX = "lines"  # line fields are named lines-<n>-<field>
DISTRIBUTION_METHODS = [("percent", "Percent of the line"), ("amount", "Amount in the invoice currency")]
VAT_LEVELS = [("none", "No VAT"), ("invoice", "On the invoice"), ("line", "On each line")]


class InvoiceLineForm(Form):
    """One invoice line (a sub-form: the invoice form carries the CSRF token)."""
    line_type = SelectField("Type", coerce=str, default="regular", validate_choice=False)
    po_line = StringField("PO line", validators=[Optional(), Length(max=20)], description="e.g. POL-000012")
    quantity = StringField("Quantity", default="1")
    unit_price = StringField("Unit price")
    total = StringField("Total", description="Empty: quantity × unit price")
    fully_invoiced = BooleanField("Fully invoiced", default=True)
    price_note = StringField("Price note", validators=[Optional(), Length(max=300)])
    subscription_from = IsoDateField("Subscription from", validators=[Optional()])
    subscription_to = IsoDateField("Subscription to", validators=[Optional()])
    reporting_code = StringField("Reporting code", validators=[Optional(), Length(max=40)])
    vat_code = StringField("VAT code", validators=[Optional(), Length(max=20)])
    vat_percent = StringField("VAT %")
    vat_amount = StringField("VAT amount")
    distribution_method = SelectField("Distribution by", default="percent", choices=DISTRIBUTION_METHODS)

    def fund_rows(self):
        """(fund select, value field) for each distribution row."""
        return [(self[f"fund_{n}"], self[f"share_{n}"]) for n in range(1, FUND_ROWS + 1)]

    def is_empty(self) -> bool:
        """No price, no total and no PO line: the line is ignored."""
        return not any((self[name].data or "").strip() for name in ("unit_price", "total", "po_line"))


for _n in range(1, FUND_ROWS + 1):
    setattr(InvoiceLineForm, f"fund_{_n}", SelectField(f"Fund {_n}", coerce=str, validate_choice=False))
    setattr(InvoiceLineForm, f"share_{_n}", StringField(f"Share {_n}"))


class InvoiceForm(FlaskForm):
    number = StringField("Invoice number", validators=[Length(max=50)])
    vendor = SelectField("Vendor", coerce=str, validate_choice=False)
    vendor_account = SelectField("Vendor account", coerce=str, validate_choice=False)
    invoice_date = IsoDateField("Invoice date", validators=[Optional()])
    due_date = IsoDateField("Due date", validators=[Optional()])
    currency = StringField("Currency", validators=[Optional(), Length(max=3)], description="Empty: the vendor's")
    total_amount = StringField("Total amount", description="As printed on the invoice; negative for a refund.")
    owner_library = SelectField("Owner", coerce=str, validate_choice=False)  # the service checks the scope
    payment_method = SelectField("Payment method", default="bank_transfer", choices=list(PAYMENT_METHODS.items()))
    reference_number = StringField("Reference number", validators=[Optional(), Length(max=100)])
    notes = TextAreaField("Notes", validators=[Optional(), free_text()])
    prepaid = BooleanField("Prepaid")
    export_prepaid = BooleanField("Export to the ERP although prepaid")
    internal_copy = BooleanField("Internal copy (never exported to the ERP)")
    explicit_ratio = StringField("Explicit ratio", validators=[Optional()],
                                 description="1 unit of the invoice currency = this many units of a fund's currency. "
                                             "Empty: the exchange rate of the invoice date.")
    pro_rata = SelectField("Pro rata", default="", choices=[("", "Setting default"), ("on", "On"), ("off", "Off")])
    vat_level = SelectField("VAT", default="none", choices=VAT_LEVELS)
    vat_inclusive = BooleanField("Prices include VAT")
    vat_code = StringField("VAT code", validators=[Optional(), Length(max=20)])
    vat_percent = StringField("VAT %")
    vat_amount = StringField("VAT amount", description="Empty: computed from the percent.")
    vat_separate_line = BooleanField("Post the VAT as a separate adjustment line")
    vat_fund = SelectField("VAT fund", coerce=str, validate_choice=False)   # the service checks the fund
    lines = FieldList(FormField(InvoiceLineForm), min_entries=0)
