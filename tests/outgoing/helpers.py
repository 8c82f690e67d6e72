"""Letters test data: the institution's letterhead, vendors on each channel with their contacts and
addresses, an EDI set-up on a local connection, ways to read the messages made, and messages made
directly (with their stored files) for the pages' tests."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.integrations.edi.models import VendorEdiSetting
from app.integrations.models import Connection
from app.letters.data import demo_order
from app.orders import services as os_
from app.orders.models import POLineEvent
from app.org.models import Institution
from app.outgoing import files, snapshot
from app.outgoing.models import LetterTemplate, VendorMessage
from app.vendors import services as vs
from app.vendors.models import Vendor
from tests.orders.helpers import line, sent_line as sent  # noqa: F401  (tests import sent from here)


@dataclass
class Channels:
    mail: Vendor     # MAILV: e-mail, an order contact and a payment contact, an order address
    edi: Vendor      # EDIV: EDI, set up on a local connection
    paper: Vendor    # PRTV: print
    phone: Vendor    # PHNV: none (orders by phone)


def letterhead() -> Institution:
    institution = Institution.current()
    institution.name = "Test University"
    institution.address = "1 College Road\n1000 Testville"
    institution.billing_address = "Accounts Payable\nPO Box 9\n1000 Testville"
    institution.email = "acq@test.example"
    institution.edi_id, institution.edi_id_qualifier = "5412345000013", "14"
    return institution


def contact(admin, vendor, name, email, roles=""):
    c = vs.add_contact(admin, vendor, name, email=email)
    c.roles = roles
    return c


def make_channels(world, tmp_path) -> Channels:
    admin = world.user("admin")
    letterhead()
    world.lib_a.address = "Library A, Goods In\n2 College Road\n1000 Testville"

    def vendor(code, name, channel):
        v = vs.create_vendor(admin, code, vs.VendorFields(name=name, currency="EUR"))
        v.order_channel = channel
        return v

    mail = vendor("MAILV", "Mail Books", "email")
    contact(admin, mail, "Accounts", "pay@mail.example", "payment")
    contact(admin, mail, "Orders desk", "orders@mail.example", "order")
    vs.add_address(admin, mail, vs.AddressFields(line1="5 Market Street", city="Vendortown", postal_code="2000",
                                                 country="Ruritania", types=["order"]))
    vs.add_account(admin, mail, "MAIN", "Main account")
    edi = vendor("EDIV", "EDI Books", "edi")
    edi.edi_vendor_id, edi.edi_id_qualifier = "4012345000009", "14"
    conn = Connection(code="LOCAL", name="Local drop", kind="local", root_path=str(tmp_path))
    db.session.add(conn)
    db.session.add(VendorEdiSetting(vendor=edi, connection=conn, folder="ediv"))
    paper = vendor("PRTV", "Paper Books", "print")
    phone = vendor("PHNV", "Phone Books", "none")
    db.session.commit()
    return Channels(mail, edi, paper, phone)


def switch(kind: str, active: bool) -> None:
    row = db.session.scalar(select(LetterTemplate).filter_by(kind=kind))
    if row is None:
        row = LetterTemplate(kind=kind)
        db.session.add(row)
    row.active = active
    db.session.flush()




def messages(**where) -> list[VendorMessage]:
    return db.session.scalars(select(VendorMessage).filter_by(**where).order_by(VendorMessage.id)).all()


def letter_of(message: VendorMessage):
    return snapshot.load_order(message.payload)


def notes(pol, action="letter") -> list[str]:
    return [e.note for e in db.session.scalars(select(POLineEvent).filter_by(po_line_id=pol.id, action=action)
                                               .order_by(POLineEvent.id))]


def sent_po(world, vendor, *, library="a", actor=None, title="A lettered book"):
    """A PO of ``vendor`` with one sent line (owner ``library``: "a", "b" or None)."""
    actor = actor or world.user("admin")
    pol = line(world, actor, vendor, library=library, title=title)
    os_.approve_po_line(actor, pol)
    os_.send_po_line(actor, pol)
    db.session.commit()
    return pol.po


def message(po, *, kind="po", channel="email", status="sent", pdf: bytes | None = None, edi: bytes | None = None,
            last_error="", to_address="orders@vendor.example", reason="PO sent", created_by=None) -> VendorMessage:
    """A message about ``po`` naming its lines; ``pdf`` / ``edi`` are stored as its files."""
    m = VendorMessage(kind=kind, channel=channel, status=status, vendor_id=po.vendor_id, po_id=po.id,
                      po_number=po.number, owner_library_id=po.owner_library_id, reason=reason,
                      to_address=to_address, payload=snapshot.dump_order(demo_order()), last_error=last_error,
                      subject=f"Order {po.number}", created_by_id=created_by.id if created_by else None,
                      pdf_file=files.store(pdf) if pdf is not None else None,
                      edi_file=files.store(edi) if edi is not None else None,
                      edi_name="ORDERS-test.edi" if edi is not None else None)
    m.lines = list(po.lines)
    db.session.add(m)
    db.session.commit()
    return m
