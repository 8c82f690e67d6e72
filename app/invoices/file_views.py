"""Invoices from Excel files: placeholder."""
from flask import Blueprint

bp = Blueprint("invoice_files", __name__, url_prefix="/invoices/files")
