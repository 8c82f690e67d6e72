"""Vendor pages and the currency repository pages (filled in by the vendors slice)."""
from flask import Blueprint

bp = Blueprint("vendors", __name__)
