"""Administration forms."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..auth.models import ROLE_LABELS


def role_choices():
    return [(r.value, label) for r, label in ROLE_LABELS.items()]


class UserForm(FlaskForm):
    username = StringField("User name", validators=[DataRequired(), Length(max=64)])
    full_name = StringField("Full name", validators=[Optional(), Length(max=200)])
    email = StringField("E-mail", validators=[Optional(), Length(max=200)])
    password = PasswordField("Password", validators=[Optional(), Length(max=256)],
                             description="At least 12 characters. Leave empty to keep the current password.")
    active = BooleanField("Active", default=True)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=role_choices())
    library = SelectField("Scope", coerce=str)


class LibraryForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=20)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])


class FundTypeForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=20)])
    name = StringField("Name", validators=[DataRequired(), Length(max=100)])


class InstitutionForm(FlaskForm):
    address = TextAreaField("Address", validators=[Optional(), Length(max=1000)], render_kw={"rows": 4},
                            description="Printed on letters to vendors; one line per line. Also the delivery "
                                        "address of libraries that have none.")
    billing_address = TextAreaField("Billing address", validators=[Optional(), Length(max=1000)],
                                    render_kw={"rows": 4}, description="Empty: the address above.")
    email = StringField("E-mail", validators=[Optional(), Length(max=200)],
                        description="Printed on letters; vendors answer to it.")
    edi_id = StringField("EDI id", validators=[Optional(), Length(max=35)],
                         description="The institution in EDI orders (SAN, GLN…).")
    edi_id_qualifier = StringField("EDI id qualifier", validators=[Optional(), Length(max=4)],
                                   description="e.g. 31B for a SAN, 14 for a GLN.")
    # The daily jobs (app.integrations.daily): HH:MM in the scheduler's time zone, empty for none.
    renewals_at = StringField("Process renewals at", validators=[Optional(), Length(max=5)],
                              render_kw={"placeholder": "HH:MM", "inputmode": "numeric"},
                              description="Each day; empty: not scheduled (flask orders renewals still works).")
    packaging_at = StringField("Package and send orders at", validators=[Optional(), Length(max=5)],
                               render_kw={"placeholder": "HH:MM", "inputmode": "numeric"},
                               description="Ready lines marked for automatic packaging; empty: not scheduled.")
    digest_at = StringField("Daily digest of notifications at", validators=[Optional(), Length(max=5)],
                            render_kw={"placeholder": "HH:MM", "inputmode": "numeric"},
                            description="One e-mail per user with their digest notifications; empty: none.")


class LibraryAddressForm(FlaskForm):
    address = TextAreaField("Delivery address", validators=[Optional(), Length(max=1000)], render_kw={"rows": 3})
