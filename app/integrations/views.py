"""Connections, finance integration profiles and Monitor Jobs: placeholder."""
from flask import Blueprint

bp = Blueprint("integrations", __name__, url_prefix="/admin/erp")
