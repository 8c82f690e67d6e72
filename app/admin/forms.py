"""Administration forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..auth.models import ROLE_LABELS


def role_choices():
    return [(r.value, label) for r, label in ROLE_LABELS.items()]


class UserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=200)])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=256)],
                             description=_l("At least 12 characters. Leave empty to keep the current password."))
    active = BooleanField(_l("Active"), default=True)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices())
    library = SelectField(_l("Scope"), coerce=str)


class LibraryForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])


class FundTypeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])


class InstitutionForm(FlaskForm):
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=1000)], render_kw={"rows": 4},
                            description=_l("Printed on letters to vendors; one line per line. Also the delivery "
                                        "address of libraries that have none."))
    billing_address = TextAreaField(_l("Billing address"), validators=[Optional(), Length(max=1000)],
                                    render_kw={"rows": 4}, description=_l("Empty: the address above."))
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=200)],
                        description=_l("Printed on letters; vendors answer to it."))
    edi_id = StringField(_l("EDI id"), validators=[Optional(), Length(max=35)],
                         description=_l("The institution in EDI orders (SAN, GLN…)."))
    edi_id_qualifier = StringField(_l("EDI id qualifier"), validators=[Optional(), Length(max=4)],
                                   description=_l("e.g. 31B for a SAN, 14 for a GLN."))
    # The daily jobs (app.integrations.daily): HH:MM in the scheduler's time zone, empty for none.
    renewals_at = StringField(_l("Process renewals at"), validators=[Optional(), Length(max=5)],
                              render_kw={"placeholder": "HH:MM", "inputmode": "numeric"},
                              description=_l("Each day; empty: not scheduled (<code>flask orders renewals</code> still works)."))
    packaging_at = StringField(_l("Package and send orders at"), validators=[Optional(), Length(max=5)],
                               render_kw={"placeholder": "HH:MM", "inputmode": "numeric"},
                               description=_l("Ready lines marked for automatic packaging; empty: not scheduled."))
    digest_at = StringField(_l("Daily digest of notifications at"), validators=[Optional(), Length(max=5)],
                            render_kw={"placeholder": "HH:MM", "inputmode": "numeric"},
                            description=_l("One e-mail per user with their digest notifications; empty: none."))


class LibraryAddressForm(FlaskForm):
    address = TextAreaField(_l("Delivery address"), validators=[Optional(), Length(max=1000)], render_kw={"rows": 3})
