"""invoice numbers unique per vendor whatever their letter case: a unique index on (vendor_id, lower(number))

Existing rows are kept. Invoice numbers that differ from an earlier one of the same vendor only in
letter case (possible before, when only the service checked) are renumbered "<number> (dup <id>)",
with an alert on the invoice and a history entry, so the index can be built; the earliest keeps its
number. The case-sensitive constraint uq_invoice_vendor_number stays (implied by the new index).

Revision ID: 0010_invoice_number_nocase
Revises: 0012_run_owner
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = "0010_invoice_number_nocase"
down_revision = "0012_run_owner"
branch_labels = None
depends_on = None

INDEX = "uq_invoice_vendor_number_nocase"
MAX_NUMBER = 50


def upgrade():
    _renumber_case_duplicates(op.get_bind())
    op.create_index(INDEX, "invoice", ["vendor_id", sa.text("lower(number)")], unique=True)


def downgrade():
    op.drop_index(INDEX, table_name="invoice")


def _renumber_case_duplicates(conn) -> None:
    # lower() of the database itself: the same function the index uses.
    rows = conn.execute(sa.text("SELECT i.id, i.vendor_id, i.number, lower(i.number), i.alert, v.code "
                                "FROM invoice i JOIN vendor v ON v.id = i.vendor_id ORDER BY i.id")).all()
    taken: dict[tuple[int, str], str] = {}
    duplicates = []
    for row in rows:
        key = (row[1], row[3])
        if key in taken:
            duplicates.append((row, taken[key]))
        else:
            taken[key] = row[2]
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for (invoice_id, vendor_id, number, _lower, alert, vendor_code), kept in duplicates:
        suffix = f" (dup {invoice_id})"
        new = number[:MAX_NUMBER - len(suffix)] + suffix
        n = 1
        while (vendor_id, _lower_of(conn, new)) in taken:
            n += 1
            suffix = f" (dup {invoice_id}-{n})"
            new = number[:MAX_NUMBER - len(suffix)] + suffix
        taken[(vendor_id, _lower_of(conn, new))] = new
        note = (f"Invoice number {number} renumbered {new}: vendor {vendor_code} also has invoice {kept}, and "
                "invoice numbers are unique per vendor whatever their letter case. Check which is right.")
        conn.execute(sa.text("UPDATE invoice SET number = :new, alert = :alert WHERE id = :id"),
                     {"new": new, "alert": f"{alert} {note}".strip(), "id": invoice_id})
        conn.execute(sa.text("INSERT INTO invoice_event (invoice_id, invoice_number, vendor_code, at, action, field, "
                             "old_value, new_value, note) VALUES (:id, :new, :vendor, :at, 'renumber', 'number', "
                             ":old, :new_value, :note)"),
                     {"id": invoice_id, "new": new, "new_value": new, "vendor": vendor_code, "at": now, "old": number,
                      "note": note})


def _lower_of(conn, text: str) -> str:
    return conn.execute(sa.text("SELECT lower(:t)"), {"t": text}).scalar_one()
