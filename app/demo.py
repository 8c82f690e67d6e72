"""The demo institution: three libraries, two fiscal periods, a fund tree with money, a user per role.

Idempotent: running it again finds what exists and creates nothing twice.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from . import clock
from .auth.models import Role, User
from .auth.services import create_user, password_matches
from .extensions import db
from .funds import services as funds
from .funds.models import FiscalPeriod, Fund, FundTransaction, FundType, Ledger
from .ledger import TransactionKind
from .ledger.money import to_cents
from .org.models import Library
from .setup import ensure_institution

DEMO_PASSWORD = "library-demo-2026"

LIBRARIES = [("MAIN", "Main Library"), ("LAW", "Law Library"), ("MED", "Medical Library")]
FUND_TYPES = [("ENDOW", "Endowment"), ("GIFT", "Gift"), ("GRANT", "Grant"), ("STATE", "State budget")]
PERIODS = [("FY2025", "Fiscal year 2025/26", date(2025, 9, 1), date(2026, 8, 31)),
           ("FY2026", "Fiscal year 2026/27", date(2026, 9, 1), date(2027, 8, 31))]
USERS = [
    ("admin", "Ada Admin", Role.ADMIN, None),
    ("fundmanager", "Farid Funds", Role.FUND_MANAGER, None),
    ("law-fundmanager", "Lena Law", Role.FUND_MANAGER, "LAW"),
    ("buyer", "Pia Purchasing", Role.PURCHASING_OPERATOR, "MAIN"),
    ("invoicer", "Ivo Invoices", Role.INVOICE_OPERATOR, None),
    ("invoicer-extended", "Iris Extended", Role.INVOICE_OPERATOR_EXTENDED, None),
    ("invoice-manager", "Mona Manager", Role.INVOICE_MANAGER, None),
    ("viewer", "Victor Viewer", Role.VIEWER, None),
    ("med-viewer", "Mia Medical", Role.VIEWER, "MED"),
]
# ledger code, name, owner library (None: institution), [(code, name, parent, kind, fund type, allocation)]
TREE = [
    ("GEN", "General ledger", None, [
        ("BOOKS", "Monographs", None, "summary", None, None),
        ("HUM-BKS", "Humanities books", "BOOKS", "allocated", "STATE", "42000.00"),
        ("SCI-BKS", "Science books", "BOOKS", "allocated", "STATE", "38500.00"),
        ("SOC-BKS", "Social sciences books", "BOOKS", "allocated", "GRANT", "21000.00"),
        ("SERIALS", "Serials", None, "summary", None, None),
        ("EJOURNALS", "E-journal packages", "SERIALS", "allocated", "STATE", "185000.00"),
        ("PRINT-SER", "Print subscriptions", "SERIALS", "allocated", "STATE", "24000.00"),
        ("DATABASES", "Databases", None, "allocated", "STATE", "96000.00"),
        ("RARE-GIFT", "Rare books gift", None, "allocated", "GIFT", "15000.00"),
    ]),
    ("LAW", "Law library ledger", "LAW", [
        ("LAW-BKS", "Law books", None, "allocated", "STATE", "18000.00"),
        ("LAW-SER", "Law serials", None, "allocated", "ENDOW", "27500.00"),
    ]),
    ("MED", "Medical library ledger", "MED", [
        ("MED-EJ", "Medical e-journals", None, "allocated", "STATE", "64000.00"),
        ("MED-BKS", "Medical books", None, "allocated", "GRANT", "12500.00"),
    ]),
]
# fund code -> (encumbered, expended) share of the allocation in the earlier period
SPENDING = {"HUM-BKS": ("0.12", "0.71"), "SCI-BKS": ("0.20", "0.64"), "SOC-BKS": ("0.05", "0.93"),
            "EJOURNALS": ("0.00", "0.97"), "PRINT-SER": ("0.08", "0.81"), "DATABASES": ("0.00", "0.99"),
            "LAW-BKS": ("0.15", "0.66"), "LAW-SER": ("0.02", "0.90"), "MED-EJ": ("0.00", "0.95"),
            "MED-BKS": ("0.31", "0.42"), "RARE-GIFT": ("0.00", "0.30")}


def _get_or_create(model, lookup: dict, **values):
    obj = db.session.scalar(select(model).filter_by(**lookup))
    if obj is None:
        obj = model(**lookup, **values)
        db.session.add(obj)
        db.session.flush()
    return obj


def load_demo(erp_dir: str | None = None) -> list[tuple[str, str]]:
    """Everything above, idempotent; ``erp_dir``: the folder of the demo ERP exchange
    (default instance/erp)."""
    ensure_institution()
    libs = {code: _get_or_create(Library, {"code": code}, name=name) for code, name in LIBRARIES}
    types = {code: _get_or_create(FundType, {"code": code}, name=name) for code, name in FUND_TYPES}
    listing = []
    for username, full_name, role, lib in USERS:
        note = ""
        existing = db.session.scalar(select(User).filter_by(username=username))
        if existing is None:
            # an e-mail each, so "send a test to me" works (the demo's mail stays in instance/mail/)
            create_user(None, username, DEMO_PASSWORD, full_name=full_name, email=f"{username}@library.example",
                        roles=[(role, libs.get(lib))])
        elif not password_matches(existing, DEMO_PASSWORD):
            note = " (existed before the demo: its own password)"
        listing.append((username, f"{role.label} — {lib or 'whole institution'}{note}"))
    admin = db.session.scalar(select(User).filter_by(username="admin"))
    _vendors_and_rates(admin)
    _inventory(admin, libs)
    for index, (pcode, pname, start, end) in enumerate(PERIODS):
        period = db.session.scalar(select(FiscalPeriod).filter_by(code=pcode)) or \
            funds.create_fiscal_period(admin, pcode, pname, start, end)
        for lcode, lname, owner, fund_rows in TREE:
            ledger = db.session.scalar(select(Ledger).filter_by(code=lcode, fiscal_period_id=period.id)) or \
                funds.create_ledger(admin, lcode, lname, period, "EUR", owner=libs.get(owner))
            for code, name, parent, kind, ftype, amount in fund_rows:
                if db.session.scalar(select(Fund).filter_by(code=code, fiscal_period_id=period.id)):
                    continue
                parent_fund = db.session.scalar(select(Fund).filter_by(code=parent, fiscal_period_id=period.id)) \
                    if parent else None
                fund = funds.create_fund(admin, ledger, code, funds.FundFields(
                    name=name, kind=kind, parent=parent_fund, external_id=f"ERP-{pcode[-4:]}-{code}",
                    fund_type=types.get(ftype), overencumbrance_allowed=code == "EJOURNALS",
                    overencumbrance_limit_percent=Decimal("5") if code == "EJOURNALS" else Decimal("0"),
                    overexpenditure_allowed=code == "DATABASES",
                    overexpenditure_limit=Decimal("500.00") if code == "DATABASES" else Decimal("0"),
                    notes="Demo fund."))
                if amount:
                    _fund_it(admin, fund, Decimal(amount), start, earlier=index == 0)
    _erp(admin, erp_dir)   # before the orders: the POs the demo sends are then exported to the ERP folder
    _letters(admin, libs, erp_dir)   # before the orders too: sending them makes their letters
    _orders(admin, libs)
    _work_waiting(admin)
    return listing


ERP_SECTIONS = {   # job: (folder, schedule, time, options)
    "import_payments": ("payments/in", "hourly", "", {}),
    "export_invoices": ("invoices/out", "hourly", "", {}),
    "load_allocations": ("allocations/in", "daily", "06:00", {"file_type": "csv"}),
    "export_orders": ("orders/out", "none", "", {}),
    "export_po_lines": ("polines/out", "daily", "22:00", {"batch_size": 1000}),
}
ERP_README = """Demo ERP exchange (profile DEMO-ERP, connection DEMO-LOCAL).

  invoices/out     Export invoices for payment writes payment_data XML here (one file per invoice).
  payments/in      Import payment confirmation reads payment_confirmation_data XML from here;
                   a handled file is renamed .handled.
  allocations/in   The funds allocation loader reads .csv files with the columns
                   FUND_EXTERNAL_ID,FISCAL_PERIOD_ID,AMOUNT,TRANSACTION_REFERENCE_NUMBER,TRANSACTION_NOTE
                   (FISCAL_PERIOD_ID 25 = FY2025, 26 = FY2026). Try: cp samples/allocations.csv allocations/in/
  orders/out       Every PO sent to a vendor is exported here as XML.
  polines/out      Closed and cancelled PO lines are exported here in batches.
  edi/coutts       The EDI vendor's folder: its EDIFACT ORDERS files go to edi/coutts/orders.

Run any job from Administration > ERP integration > DEMO-ERP ("Run now"), or with
  flask --app wsgi jobs run export-invoices --profile DEMO-ERP
"""


def _erp(admin, erp_dir: str | None) -> None:
    """A local-folder connection and a finance profile with all five sections, so the whole
    exchange with the ERP can be watched on one machine."""
    import os

    from flask import current_app

    from .integrations import services as integrations
    from .integrations.models import Connection, IntegrationProfile

    root = os.path.abspath(erp_dir or os.path.join(current_app.instance_path, "erp"))
    for folder, *_ in ERP_SECTIONS.values():
        os.makedirs(os.path.join(root, folder), exist_ok=True)
    os.makedirs(os.path.join(root, "samples"), exist_ok=True)
    with open(os.path.join(root, "README.txt"), "w") as fh:
        fh.write(ERP_README)
    with open(os.path.join(root, "samples", "allocations.csv"), "w") as fh:
        fh.write("FUND_EXTERNAL_ID,FISCAL_PERIOD_ID,AMOUNT,TRANSACTION_REFERENCE_NUMBER,TRANSACTION_NOTE\n"
                 "ERP-2026-HUM-BKS,26,1500.00,DEMO-ALLOC-1,Extra money for humanities\n"
                 "SCI-BKS,26,-250.00,DEMO-ALLOC-2,Money back to the university\n")
    conn = db.session.scalar(select(Connection).filter_by(code="DEMO-LOCAL"))
    if conn is None:
        conn = integrations.create_connection(admin, integrations.ConnectionFields(
            code="DEMO-LOCAL", name="Demo ERP folder", kind="local", root_path=root))
    elif conn.root_path != root:
        integrations.update_connection(admin, conn, integrations.ConnectionFields(
            name=conn.name, kind="local", root_path=root))
    if db.session.scalar(select(IntegrationProfile).filter_by(code="DEMO-ERP")) is None:
        profile = integrations.create_profile(admin, integrations.ProfileFields(
            code="DEMO-ERP", name="Demo finance system", connection_id=conn.id, financial_system="SAP",
            description="Files go to a folder on this server; look at them there."))
        integrations.update_sections(admin, profile, {
            job: integrations.SectionFields(active=True, path=folder, schedule=schedule, schedule_time=at, **options)
            for job, (folder, schedule, at, options) in ERP_SECTIONS.items()})
    for code, erp_id in (("FY2025", 25), ("FY2026", 26)):
        period = db.session.scalar(select(FiscalPeriod).filter_by(code=code))
        integrations.set_fiscal_period_mapping(admin, period, erp_id)


# title, author, vendor, owner library, fund, price, quantity, order type, form, what happens to it
ORDERS = [
    ("Metadata for digital collections", "S. Miller", "HARRASS", "MAIN", "HUM-BKS", "64.90", 1, "one_time",
     "physical", "review"),
    ("The academic library budget handbook", "R. Okafor", "HARRASS", "MAIN", "SOC-BKS", "39.50", 2, "one_time",
     "physical", "sent"),
    ("Physics of quantum materials", "L. Chen", "COUTTS", "MAIN", "SCI-BKS", "112.00", 1, "one_time",
     "physical", "received"),
    ("Journal of Library Administration", "", "EBSCO", None, "EJOURNALS", "1480.00", 1, "continuous",
     "electronic", "late"),
    ("Comparative constitutional law", "T. Ginsburg", "HARRASS", "LAW", "LAW-BKS", "145.00", 1, "one_time",
     "physical", "late"),
    ("Atlas of human anatomy", "F. Netter", "COUTTS", "MED", "MED-BKS", "89.99", 1, "one_time",
     "physical", "cancelled"),
]


def _orders(admin, libs) -> None:
    """A few PO lines in the current period, one in each stage of their life."""
    from datetime import timedelta

    from .orders import services as orders
    from .orders.models import POLine
    from .vendors.models import Vendor
    period = funds.current_fiscal_period()
    if period is None or db.session.scalar(select(POLine.id).limit(1)):
        return
    today = clock.today()
    for title, author, vcode, lib, fcode, price, quantity, order_type, form, stage in ORDERS:
        vendor = db.session.scalar(select(Vendor).filter_by(code=vcode))
        fund = db.session.scalar(select(Fund).filter_by(code=fcode, fiscal_period_id=period.id))
        pol = orders.create_po_line(admin, orders.POLineFields(
            vendor=vendor, title=title, author=author, currency=vendor.currency, list_price=price,
            quantity=quantity, order_type=order_type, material_form=form, owner_library=libs.get(lib),
            inventory_library=libs.get(lib or "MAIN"), distribution=[orders.Share(fund, "100")],
            renewal_date=today + timedelta(days=200) if order_type == "continuous" else None,
            expected_receipt_date=today + (timedelta(days=-12) if stage == "late" else timedelta(days=30))))
        if stage == "review":
            continue
        orders.approve_po_line(admin, pol)
        orders.send_po_line(admin, pol)
        if stage == "received":
            orders.receive_po_line(admin, pol)
        elif stage == "cancelled":
            orders.cancel_po_line(admin, pol, "The publisher cancelled this edition.")


DEMO_INVOICE = "DEMO-APPROVE-1"


def _work_waiting(admin) -> None:
    """Work waiting for the demo users, so "My work" and the notifications show something: an
    invoice In Approval that the invoice manager may approve (the late PO lines above have claims
    due), and a failed ERP run that told the administrator (DEMO-ERP's recipient on failure)."""
    from .integrations.models import IntegrationProfile, JobEvent, JobRun
    from .invoices import services as invoices
    from .invoices.models import Invoice
    from .notifications import job_mail
    from .vendors.models import Vendor
    period = funds.current_fiscal_period()
    vendor = db.session.scalar(select(Vendor).filter_by(code="EBSCO"))   # not liable for VAT: no question asked
    fund = db.session.scalar(select(Fund).filter_by(code="DATABASES", fiscal_period_id=period.id)) if period else None
    if fund is not None and vendor is not None and \
            db.session.scalar(select(Invoice.id).filter_by(number=DEMO_INVOICE)) is None:
        inv = invoices.create_invoice(admin, invoices.InvoiceFields(
            number=DEMO_INVOICE, vendor=vendor, invoice_date=clock.today(), total_amount="250.00",
            currency=vendor.currency, lines=[invoices.LineFields(
                unit_price="250.00", distribution=[funds_share(fund)])]))
        invoices.process_invoice(admin, inv)
    profile = db.session.scalar(select(IntegrationProfile).filter_by(code="DEMO-ERP"))
    if profile is None:
        return
    if profile.notify_when == "off" and not profile.recipients:
        job_mail.set_recipients(admin, profile, "failure", [admin.id])
    if db.session.scalar(select(JobRun.id).filter_by(profile_id=profile.id, status="failed").limit(1)) is None:
        from .clock import utcnow
        run = JobRun(job="export_invoices", profile_id=profile.id, profile_code=profile.code, trigger="schedule",
                     status="failed", files=0, records=1, records_failed=1, ended_at=utcnow(),
                     message="The ERP folder invoices/out could not be written: permission denied (demo).")
        db.session.add(run)
        db.session.flush()
        db.session.add(JobEvent(run_id=run.id, level="error", record="DEMO-INV-7",
                                message="Not exported: the vendor has no ERP vendor code (demo)."))
        db.session.add(JobEvent(run_id=run.id, level="error", message=run.message))
        db.session.flush()
        job_mail.run_ended(run)


def funds_share(fund: Fund):
    from .funds.distribution import Share
    return Share(fund, "100")


def _fund_it(admin, fund: Fund, amount: Decimal, start: date, earlier: bool) -> None:
    if db.session.scalar(select(FundTransaction.id).where(FundTransaction.fund_id == fund.id).limit(1)):
        return
    funds.allocate(admin, fund, amount, reference="BUDGET", note="Initial allocation", on=start)
    share_enc, share_exp = (Decimal(s) for s in SPENDING.get(fund.code, ("0", "0")))
    if not earlier:
        share_enc, share_exp = share_enc / 3, share_exp / 4
    expended = to_cents(amount * share_exp)
    encumbered = to_cents(amount * share_enc)
    # spread the spending over a few months so the fund's chart has a shape
    for month, part in enumerate(fs_split(expended, 4)):
        if part:
            day = date(start.year + (start.month + 2 * month - 1) // 12, (start.month + 2 * month - 1) % 12 + 1, 15)
            if day > clock.today():
                day = clock.today()
            funds.post(admin, fund, TransactionKind.EXPENDITURE, part, reference=f"INV-DEMO-{fund.code}-{month + 1}",
                    note="Demo invoice", on=day)
    if encumbered:
        funds.post(admin, fund, TransactionKind.ENCUMBRANCE, encumbered, reference=f"POL-DEMO-{fund.code}",
                note="Demo open orders", on=min(clock.today(), start.replace(day=20)))


VENDORS = [  # code, name, currency, liable for VAT, governmental vendor, account
    ("TAX", "National Tax Office", "EUR", False, None, None),
    ("HARRASS", "Harrassowitz", "EUR", True, "TAX", ("H-MAIN", "Main library account")),
    ("COUTTS", "ProQuest Books (Coutts)", "GBP", True, "TAX", ("C-STD", "Standing orders")),
    ("EBSCO", "EBSCO Information Services", "USD", False, None, ("E-SUB", "Subscriptions")),
]
RATES = [("USD", "0.92", date(2025, 9, 1)), ("USD", "0.94", date(2026, 9, 1)),
         ("GBP", "1.17", date(2025, 9, 1)), ("GBP", "1.15", date(2026, 9, 1))]
RECORDS = [  # title, author, isbn, publisher, date, library, location, barcode
    ("Library acquisitions: a practical guide", "Mara Keller", "978-0-8389-1234-5", "ALA Editions", "2024",
     "MAIN", "STACKS", "MAIN0001"),
    ("Collection development in academic libraries", "J. Ortega", "9781783304912", "Facet", "2023",
     "MAIN", "STACKS", "MAIN0002"),
    ("Principles of European contract law", "O. Lando", "978-90-411-1305-9", "Kluwer", "2000",
     "LAW", "LAW-REF", "LAW0001"),
    ("Harrison's principles of internal medicine", "J. Loscalzo", "978-1-264-26850-4", "McGraw Hill", "2022",
     "MED", "MED-STACKS", "MED0001"),
]


def _vendors_and_rates(admin) -> None:
    from .vendors import services as vendors
    from .vendors.models import Vendor
    for code, name, currency, liable, gov, account in VENDORS:
        if db.session.scalar(select(Vendor).filter_by(code=code)):
            continue
        vendor = vendors.create_vendor(admin, code, vendors.VendorFields(
            name=name, currency=currency, liable_for_vat=liable, governmental_vendor=gov,
            is_governmental=code == "TAX", vat_percent=Decimal("20.00") if code == "TAX" else None,
            financial_sys_code=f"FS-{code}"))
        if account:
            vendors.add_account(admin, vendor, account[0], account[1], f"FS-{account[0]}")
        if code != "TAX":
            vendors.add_contact(admin, vendor, "Customer service", f"orders@{code.lower()}.example")
    from .vendors.models import ExchangeRate
    for currency, rate, day in RATES:
        if not db.session.scalar(select(ExchangeRate).filter_by(currency=currency, day=day)):
            vendors.add_rate(admin, currency, rate, day)


# How each demo vendor gets its orders (app.outgoing): e-mail, EDI, print; the tax office keeps
# "none" (nothing is sent: an order would be made by phone or on the vendor's site).
CHANNELS = {"HARRASS": "email", "COUTTS": "edi", "EBSCO": "print", "TAX": "none"}
INSTITUTION = dict(address="1 University Square\n1000 Demo City", email="acquisitions@library.example",
                   billing_address="Accounts Payable\n1 University Square\n1000 Demo City",
                   edi_id="5412345000013", edi_id_qualifier="14")
LIBRARY_ADDRESSES = {"MAIN": "Main Library, Goods In\n1 University Square\n1000 Demo City",
                     "LAW": "Law Library\n12 Court Street\n1000 Demo City",
                     "MED": "Medical Library, Acquisitions\n3 Hospital Road\n1001 Demo City"}


def _letters(admin, libs, erp_dir: str | None) -> None:
    """The letterhead (institution and library addresses, EDI id) and each vendor's order channel,
    contacts and addresses, so sending a demo PO makes its letter. Fills only what is still empty."""
    import os

    from flask import current_app

    from .integrations.edi.models import VendorEdiSetting
    from .integrations.models import Connection
    from .org.models import Institution
    from .vendors import services as vendors
    from .vendors.models import Vendor

    institution = Institution.current()
    if institution.name == "Institution":   # the configuration's default: letters deserve a real name
        institution.name = "Demo University Library"
    for name, value in INSTITUTION.items():
        if not getattr(institution, name):
            setattr(institution, name, value)
    for code, address in LIBRARY_ADDRESSES.items():
        if code in libs and not libs[code].address:
            libs[code].address = address
    for code, channel in CHANNELS.items():
        vendor = db.session.scalar(select(Vendor).filter_by(code=code))
        if vendor is None or vendor.order_channel != "none" or channel == "none":
            continue   # set already (or by someone): left alone
        vendor.order_channel = channel
        if not vendor.addresses:
            vendors.add_address(admin, vendor, vendors.AddressFields(
                line1=f"{vendor.name}, Order Department", line2="10 Trade Street", city="Vendorville",
                postal_code="2000", country="Germany" if code == "HARRASS" else "United Kingdom",
                types=["order", "billing"], preferred=True))
        for contact in vendor.contacts:
            if not contact.roles:
                contact.roles = "order,claim"
        if code == "HARRASS":
            payment = vendors.add_contact(admin, vendor, "Accounts receivable", "accounts@harrass.example")
            payment.roles = "payment"
        if channel == "edi":
            vendor.edi_enabled, vendor.edi_vendor_id, vendor.edi_id_qualifier = True, "5030670000006", "14"
            connection = db.session.scalar(select(Connection).filter_by(code="DEMO-LOCAL"))
            if connection is not None and db.session.scalar(select(VendorEdiSetting).filter_by(
                    vendor_id=vendor.id)) is None:
                db.session.add(VendorEdiSetting(vendor=vendor, connection=connection, folder="edi/coutts"))
                root = os.path.abspath(erp_dir or os.path.join(current_app.instance_path, "erp"))
                os.makedirs(os.path.join(root, "edi", "coutts", "orders"), exist_ok=True)
    # The demo shows every letter: the payment notice (off in a new institution) is turned on.
    from .outgoing.models import LetterTemplate
    if db.session.scalar(select(LetterTemplate).filter_by(kind="payment_notice")) is None:
        db.session.add(LetterTemplate(kind="payment_notice", active=True, updated_by_id=admin.id))
    db.session.flush()


def _inventory(admin, libs) -> None:
    from .inventory import services as inventory
    from .inventory.models import Item
    for title, author, isbn, publisher, year, lib, location, barcode in RECORDS:
        if db.session.scalar(select(Item).filter_by(barcode=barcode)):
            continue
        record = inventory.create_record(admin, inventory.RecordFields(title=title, author=author, isbn=isbn,
                                                           publisher=publisher, publication_date=year))
        holding = inventory.add_holding(admin, record, libs[lib], location)
        inventory.add_item(admin, holding, barcode=barcode)


def fs_split(total: Decimal, parts: int) -> list[Decimal]:
    from .ledger import split
    return split(total, [1] * parts, "EUR") if total else []
