"""Forms for fiscal periods, ledgers, funds, allocations and transfers, and the distribution rows
(fund, share) of the order and invoice forms."""
from flask_babel import lazy_gettext as _l
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
from .models import PERIOD_STATE_WORDS, Fund
from .services import other_period_warning
from ..text import T

STATUS_CHOICES = [("active", _l("Active")), ("inactive", _l("Inactive"))]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class AllocateForm(FlaskForm):
    amount = StringField(_l("Amount"), validators=[DataRequired(message=_l("Enter an amount."))],
                         description=_l("Positive to add money, negative to take it back."))
    reference = StringField(_l("Reference number"), validators=[Optional(), Length(max=100)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class TransferForm(FlaskForm):
    target = SelectField(_l("To fund"), coerce=str, validators=[DataRequired(message=_l("Choose the fund to transfer to."))])
    amount = StringField(_l("Amount"), validators=[DataRequired(message=_l("Enter an amount."))])
    reference = StringField(_l("Reference number"), validators=[Optional(), Length(max=100)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class FiscalPeriodForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    start_date = IsoDateField(_l("Start date"), validators=[DataRequired(message=_l("Enter a date (YYYY-MM-DD)."))])
    end_date = IsoDateField(_l("End date"), validators=[DataRequired(message=_l("Enter a date (YYYY-MM-DD)."))])
    status = SelectField(_l("Status"), choices=STATUS_CHOICES, id="period_status")  # #status: the layout's messages


class LedgerForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    fiscal_period = SelectField(_l("Fiscal period"), coerce=str)
    currency = StringField(_l("Currency"), validators=[DataRequired(), Length(min=3, max=3)], default="EUR")
    owner = SelectField(_l("Owner"), coerce=str)
    available_to_all = BooleanField(_l("Available to all libraries"), default=True)
    libraries = MultiCheckboxField(_l("Available to these libraries"), coerce=str)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), free_text()])


class FundForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    ledger = SelectField(_l("Ledger"), coerce=str)
    kind = SelectField(_l("Type"), choices=[("allocated", _l("Allocated fund (holds money)")),
                                        ("summary", _l("Summary fund (groups other funds)"))])
    parent = SelectField(_l("Parent"), coerce=str)
    external_id = StringField(_l("External ID (ERP)"), validators=[Optional(), Length(max=100)])
    fund_type = SelectField(_l("Fund type"), coerce=str)
    status = SelectField(_l("Status"), choices=STATUS_CHOICES, id="fund_status")
    overencumbrance_allowed = BooleanField(_l("Over-encumbrance allowed"))
    overencumbrance_limit_percent = StringField(_l("Over-encumbrance limit (%(sign)s of allocation)", sign="%"), default="0")
    overexpenditure_allowed = BooleanField(_l("Over-expenditure allowed"))
    overexpenditure_limit = StringField(_l("Over-expenditure limit (amount)"), default="0.00")
    available_to_all = BooleanField(_l("Available to all libraries of the ledger"), default=True)
    libraries = MultiCheckboxField(_l("Available to these libraries"), coerce=str)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), free_text()])


def mark_other_period_funds(rows, on) -> None:
    """Put a warning (the fund field's ``description``, shown next to it) on each distribution row
    whose fund is not of an open fiscal period covering ``on``: chosen on purpose, or kept from before."""
    for fund_field, _ in rows:
        fund_id = parse_id(fund_field.data) if fund_field.data else None
        fund = db.session.get(Fund, fund_id) if fund_id else None
        fund_field.description = other_period_warning(fund, on) if fund is not None and on is not None else ""


def distribution_shares(rows, usable: dict, field: str,
                        missing: str | None = None,
                        refuse_closed: bool = False, kept=()) -> list[Share]:
    """The shares of a form's distribution rows ((fund field, share field) pairs): a row with
    neither is skipped, a share without its fund is refused (``missing``, a sentence with ``{row}`` in
    the reader's language, on ``field``; by default "Choose the fund of distribution row {row}."). ``usable``:
    the funds the form offers, by id; another fund id is looked up (it may be one the line had).
    ``refuse_closed``: such a fund of a closed or inactive fiscal period is refused, unless its id
    is in ``kept`` (the document had it already)."""
    shares = []
    for row, (fund_field, share_field) in enumerate(rows, start=1):
        value = (share_field.data or "").strip()
        if not fund_field.data:
            if value:
                raise InvalidInput(str(missing).format(row=row) if missing is not None else
                                   T("Choose the fund of distribution row %(row)s.", row=row), field)
            continue
        fund = usable.get(fund_field.data) or chosen(Fund, fund_field.data, field, "fund")
        if (refuse_closed and fund_field.data not in usable and not fund.fiscal_period.is_open
                and fund.id not in set(kept)):
            raise RuleViolation(T("Fund %(code)s belongs to fiscal period %(period)s, which is %(status)s: choose a "
                                  "fund of an open period.", code=fund.code, period=fund.fiscal_period.code,
                                  status=PERIOD_STATE_WORDS.get(fund.fiscal_period.status, fund.fiscal_period.status)),
                                field)
        shares.append(Share(fund, value))
    return shares


class RolloverForm(FlaskForm):
    """Fiscal period closure: the periods and the default rules of a rollover (the services take
    overrides per ledger and per fund; the page sets the default for all)."""
    source = SelectField(_l("From fiscal period"), coerce=str, validators=[DataRequired(message=_l("Choose the period to close."))])
    target = SelectField(_l("To fiscal period"), coerce=str,
                         validators=[DataRequired(message=_l("Choose the period to roll over to."))])
    allocation = SelectField(_l("New allocation"), choices=[("same", _l("The same as this year")),
                                                        ("adjust", _l("This year's adjusted by a percent")),
                                                        ("none", _l("None"))], default="same")
    percent = StringField(_l("Adjust by %"), default="0", validators=[Optional(), Length(max=12)],
                          description=_l("For an adjusted allocation: +3 or -5."))
    carry = SelectField(_l("Carry over what is left"), choices=[("none", _l("Nothing")),
                                                             ("cash", _l("The cash balance (allocated − expended)")),
                                                             ("available", _l("The available balance (− encumbered too)"))],
                        default="none")
    one_time = SelectField(_l("One-time PO lines"), choices=[("remaining", _l("Re-encumber the remaining encumbrance")),
                                                         ("initial", _l("Re-encumber the initial amount")),
                                                         ("none", _l("Move without encumbrance"))], default="remaining")
    continuous = SelectField(_l("Continuous PO lines"), choices=[("remaining", _l("Re-encumber the remaining encumbrance")),
                                                             ("initial", _l("Re-encumber the initial amount")),
                                                             ("none", _l("Move without encumbrance"))], default="remaining")
    increase = StringField(_l("Increase continuous lines by %"), default="0", validators=[Optional(), Length(max=12)])
