"""Administration forms."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
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
