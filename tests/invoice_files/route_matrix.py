"""Role rows for loading invoices from Excel files (merged into tests/route_matrix.py): the invoice
operators (and extended), invoice managers and administrators; their library scope is checked by
the invoice services for each invoice of the file."""
from tests.invoices.route_matrix import OPERATORS

MATRIX = {
    "invoice_files.upload": OPERATORS,
    "invoice_files.template": OPERATORS,
    "invoice_files.preview": OPERATORS,
    "invoice_files.load": OPERATORS,
}
API_MATRIX: dict = {}


def url_args(world) -> dict:
    return {}
