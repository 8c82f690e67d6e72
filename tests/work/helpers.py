"""My work test data: invoices and PO lines in every section, in library A and in library B, and
the count of rows a list page shows."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from lxml import html

from app import clock
from app.auth.models import Role
from app.auth.services import create_user
from app.extensions import db
from app.invoices import services as invoices
from app.orders import services as os_
from tests.helpers import PASSWORD
from tests.orders.helpers import line, sent_line
from testkit.invoices import invoice

# The table each list a section links to shows its rows in.
LIST_ROWS = {"/invoices/": "invoice-table", "/orders/lines/": "pol-table", "/orders/claims": "claims-list",
             "/invoices/edi/": "edi-messages", "/admin/erp/jobs": "history"}


def list_rows(page: bytes, path: str) -> list[str]:
    """The rows (their text) of the list at ``path`` on ``page``, leaving out its "nothing here" row."""
    doc = html.fromstring(page)
    rows = doc.xpath(f'//*[@id="{LIST_ROWS[path]}"]//tbody/tr[not(td[contains(@class, "empty")])]')
    return [" ".join(r.text_content().split()) for r in rows]


@dataclass
class Work:
    """What waits, per library ("A", "B"): invoice numbers and PO line numbers by section."""
    invoices: dict = field(default_factory=dict)   # section key -> {"A": number, "B": number}
    lines: dict = field(default_factory=dict)      # section key -> {"A": POL number, "B": POL number}


def scoped_users(world) -> None:
    """invoicer-a and invmanager-a: library A only (buyer-a: the ``buyer_a`` fixture)."""
    for name, role in (("invoicer-a", Role.INVOICE_OPERATOR), ("invmanager-a", Role.INVOICE_MANAGER)):
        world.users[name] = create_user(None, name, PASSWORD, full_name=name.title(), roles=[(role, world.lib_a)]).id
    db.session.commit()


def make_work(world, orders) -> Work:
    """In A and in B: an invoice In Review (failing a review rule), one In Approval, one Ready to be
    Paid, one Waiting for Payment for 40 days and one for 2, one the ERP rejected; PO lines In
    Review, Ready, due for a claim and waiting for renewal."""
    manager, buyer, admin = world.user("invmanager"), world.user("buyer"), world.user("admin")
    work = Work()
    today = clock.today()
    amounts = (f"{n}.00" for n in range(101, 200))   # a total of its own each: no possible duplicates
    for lib in ("a", "b"):
        L = lib.upper()
        work.invoices.setdefault("invoices_review", {})[L] = invoice(
            world, manager, orders.eur, number=f"REV-{L}", library=lib, amounts=(next(amounts),), total="999.00",
            process=True).number
        work.invoices.setdefault("invoices_approval", {})[L] = invoice(
            world, manager, orders.eur, number=f"APP-{L}", library=lib, amounts=(next(amounts),), process=True).number
        ready = invoice(world, manager, orders.eur, number=f"RDY-{L}", library=lib, amounts=(next(amounts),), process=True)
        invoices.approve_invoice(manager, ready)
        work.invoices.setdefault("invoices_ready", {})[L] = ready.number
        for number, days in ((f"WAIT-{L}", 40), (f"RECENT-{L}", 2), (f"ERP-{L}", 40)):
            inv = invoice(world, manager, orders.eur, number=number, library=lib, amounts=(next(amounts),), process=True)
            invoices.approve_invoice(manager, inv)
            invoices.mark_exported(manager, inv)
            inv.exported_at -= timedelta(days=days)
        db.session.commit()
        work.invoices.setdefault("invoices_waiting", {})[L] = f"WAIT-{L}"
        erp = db.session.scalar(db.select(invoices.Invoice).filter_by(number=f"ERP-{L}"))
        invoices.send_back_to_review(admin, erp, "unknown cost centre", erp=True)
        db.session.commit()
        work.invoices.setdefault("invoices_erp_rejected", {})[L] = f"ERP-{L}"

        work.lines.setdefault("lines_review", {})[L] = line(world, buyer, orders.eur, library=lib,
                                                            title=f"Review {L}").number
        ready_line = line(world, buyer, orders.eur, library=lib, title=f"Ready {L}")
        os_.approve_po_line(buyer, ready_line)
        work.lines.setdefault("lines_ready", {})[L] = ready_line.number
        work.lines.setdefault("claims", {})[L] = sent_line(
            world, buyer, orders.eur, library=lib, title=f"Late {L}",
            expected_receipt_date=today - timedelta(days=10)).number
        work.lines.setdefault("renewals", {})[L] = sent_line(
            world, buyer, orders.eur, library=lib, title=f"Journal {L}", order_type="continuous",
            renewal_date=today + timedelta(days=5), manual_renewal=True,
            expected_receipt_date=today + timedelta(days=60)).number
    os_.process_renewals(admin)
    db.session.commit()
    return work
