"""Forms for fiscal periods, ledgers, funds, allocations and transfers, and the distribution rows
(fund, share) of the order and invoice forms."""
from flask_wtf import FlaskForm
from wtforms import (BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..errors import InvalidInput, RuleViolation
from ..extensions import db
from ..forms_util import IsoDateField, chosen
from ..ids import parse_id
from ..limits import free_text
from .distribution import Share
from .models import Fund
from .services import other_period_warning

STATUS_CHOICES = [("active", "Active"), ("inactive", "Inactive")]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AllocateForm(FlaskForm):
    amount = StringField("Amount", validators=[DataRequired(message="Enter an amount.")],
                         description="Positive to add money, negative to take it back.")
    reference = StringField("Reference number", validators=[Optional(), Length(max=100)])
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class TransferForm(FlaskForm):
    target = SelectField("To fund", coerce=str, validators=[DataRequired(message="Choose the fund to transfer to.")])
    amount = StringField("Amount", validators=[DataRequired(message="Enter an amount.")])
    reference = StringField("Reference number", validators=[Optional(), Length(max=100)])
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class FiscalPeriodForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=20)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    start_date = IsoDateField("Start date", validators=[DataRequired(message="Enter a date (YYYY-MM-DD).")])
    end_date = IsoDateField("End date", validators=[DataRequired(message="Enter a date (YYYY-MM-DD).")])
    status = SelectField("Status", choices=STATUS_CHOICES, id="period_status")  # #status: the layout's messages


class LedgerForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=40)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    fiscal_period = SelectField("Fiscal period", coerce=str)
    currency = StringField("Currency", validators=[DataRequired(), Length(min=3, max=3)], default="EUR")
    owner = SelectField("Owner", coerce=str)
    available_to_all = BooleanField("Available to all libraries", default=True)
    libraries = MultiCheckboxField("Available to these libraries", coerce=str)
    notes = TextAreaField("Notes", validators=[Optional(), free_text()])


class FundForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=40)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    ledger = SelectField("Ledger", coerce=str)
    kind = SelectField("Type", choices=[("allocated", "Allocated fund (holds money)"),
                                        ("summary", "Summary fund (groups other funds)")])
    parent = SelectField("Parent", coerce=str)
    external_id = StringField("External ID (ERP)", validators=[Optional(), Length(max=100)])
    fund_type = SelectField("Fund type", coerce=str)
    status = SelectField("Status", choices=STATUS_CHOICES, id="fund_status")
    overencumbrance_allowed = BooleanField("Over-encumbrance allowed")
    overencumbrance_limit_percent = StringField("Over-encumbrance limit (% of allocation)", default="0")
    overexpenditure_allowed = BooleanField("Over-expenditure allowed")
    overexpenditure_limit = StringField("Over-expenditure limit (amount)", default="0.00")
    available_to_all = BooleanField("Available to all libraries of the ledger", default=True)
    libraries = MultiCheckboxField("Available to these libraries", coerce=str)
    notes = TextAreaField("Notes", validators=[Optional(), free_text()])


def mark_other_period_funds(rows, on) -> None:
    """Put a warning (the fund field's ``description``, shown next to it) on each distribution row
    whose fund is not of an open fiscal period covering ``on``: chosen on purpose, or kept from before."""
    for fund_field, _ in rows:
        fund_id = parse_id(fund_field.data) if fund_field.data else None
        fund = db.session.get(Fund, fund_id) if fund_id else None
        fund_field.description = other_period_warning(fund, on) if fund is not None and on is not None else ""


def distribution_shares(rows, usable: dict, field: str,
                        missing: str = "Choose the fund of distribution row {row}.",
                        refuse_closed: bool = False, kept=()) -> list[Share]:
    """The shares of a form's distribution rows ((fund field, share field) pairs): a row with
    neither is skipped, a share without its fund is refused (``missing`` on ``field``). ``usable``:
    the funds the form offers, by id; another fund id is looked up (it may be one the line had).
    ``refuse_closed``: such a fund of a closed or inactive fiscal period is refused, unless its id
    is in ``kept`` (the document had it already)."""
    shares = []
    for row, (fund_field, share_field) in enumerate(rows, start=1):
        value = (share_field.data or "").strip()
        if not fund_field.data:
            if value:
                raise InvalidInput(missing.format(row=row), field)
            continue
        fund = usable.get(fund_field.data) or chosen(Fund, fund_field.data, field, "fund")
        if (refuse_closed and fund_field.data not in usable and not fund.fiscal_period.is_open
                and fund.id not in set(kept)):
            raise RuleViolation(f"Fund {fund.code} belongs to fiscal period {fund.fiscal_period.code}, which is "
                                f"{fund.fiscal_period.status_label.lower()}: choose a fund of an open period.", field)
        shares.append(Share(fund, value))
    return shares


class RolloverForm(FlaskForm):
    """Fiscal period closure: the periods and the default rules of a rollover (the services take
    overrides per ledger and per fund; the page sets the default for all)."""
    source = SelectField("From fiscal period", coerce=str, validators=[DataRequired(message="Choose the period to close.")])
    target = SelectField("To fiscal period", coerce=str,
                         validators=[DataRequired(message="Choose the period to roll over to.")])
    allocation = SelectField("New allocation", choices=[("same", "The same as this year"),
                                                        ("adjust", "This year's adjusted by a percent"),
                                                        ("none", "None")], default="same")
    percent = StringField("Adjust by %", default="0", validators=[Optional(), Length(max=12)],
                          description="For an adjusted allocation: +3 or -5.")
    carry = SelectField("Carry over what is left", choices=[("none", "Nothing"),
                                                             ("cash", "The cash balance (allocated − expended)"),
                                                             ("available", "The available balance (− encumbered too)")],
                        default="none")
    one_time = SelectField("One-time PO lines", choices=[("remaining", "Re-encumber the remaining encumbrance"),
                                                         ("initial", "Re-encumber the initial amount"),
                                                         ("none", "Move without encumbrance")], default="remaining")
    continuous = SelectField("Continuous PO lines", choices=[("remaining", "Re-encumber the remaining encumbrance"),
                                                             ("initial", "Re-encumber the initial amount"),
                                                             ("none", "Move without encumbrance")], default="remaining")
    increase = StringField("Increase continuous lines by %", default="0", validators=[Optional(), Length(max=12)])
