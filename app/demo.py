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
from .i18n import LANGUAGES
from .funds import services as funds
from .funds.models import FiscalPeriod, Fund, FundTransaction, FundType, Ledger
from .ledger import TransactionKind
from .ledger import quantize
from .org.models import Library
from .setup import ensure_institution

DEMO_PASSWORD = "library-demo-2026"

LIBRARIES = [("MAIN", "Main Library"), ("LAW", "Law Library"), ("MED", "Medical Library")]
FUND_TYPES = [("ENDOW", "Endowment"), ("GIFT", "Gift"), ("GRANT", "Grant"), ("STATE", "State budget")]


def periods(today: date) -> list[tuple[str, str, date, date]]:
    """The last fiscal year and the current one (September to August) around ``today``."""
    year = today.year if today.month >= 9 else today.year - 1
    return [(f"FY{y}", f"Fiscal year {y}/{(y + 1) % 100:02d}", date(y, 9, 1), date(y + 1, 8, 31))
            for y in (year - 1, year)]


def erp_period_id(code: str) -> int:
    """The ERP's number of a demo fiscal period: FY2026 -> 26."""
    return int(code[-2:])

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
    ("zhang", "张伟", Role.INVOICE_OPERATOR, None),   # reads the pages in Chinese (his language setting)
]
LANGUAGE_OF = {"zhang": "zh_Hans"}
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
            user = create_user(None, username, DEMO_PASSWORD, full_name=full_name, email=f"{username}@library.example",
                               roles=[(role, libs.get(lib))])
            user.language = LANGUAGE_OF.get(username)
        elif not password_matches(existing, DEMO_PASSWORD):
            note = " (existed before the demo: its own password)"
        language = f", pages in {LANGUAGES[LANGUAGE_OF[username]]}" if username in LANGUAGE_OF else ""
        listing.append((username, f"{role.label} — {lib or 'whole institution'}{language}{note}"))
    admin = db.session.scalar(select(User).filter_by(username="admin"))
    currency = institution_currency()
    scale = _scale(currency)
    fiscal_periods = periods(clock.today())
    _vendors_and_rates(admin, fiscal_periods)
    _inventory(admin, libs)
    for index, (pcode, pname, start, end) in enumerate(fiscal_periods):
        period = db.session.scalar(select(FiscalPeriod).filter_by(code=pcode)) or \
            funds.create_fiscal_period(admin, pcode, pname, start, end)
        for lcode, lname, owner, fund_rows in TREE:
            ledger = db.session.scalar(select(Ledger).filter_by(code=lcode, fiscal_period_id=period.id)) or \
                funds.create_ledger(admin, lcode, lname, period, currency, owner=libs.get(owner))
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
                    overexpenditure_limit=Decimal(500 * scale) if code == "DATABASES" else Decimal("0"),
                    notes="Demo fund."))
                if amount:
                    _fund_it(admin, fund, Decimal(amount) * scale, start, earlier=index == 0)
    _erp(admin, erp_dir, fiscal_periods)   # before the orders: the POs the demo sends are then exported to the ERP folder
    _letters(admin, libs, erp_dir)   # before the orders too: sending them makes their letters
    _orders(admin, libs)
    _work_waiting(admin)
    _invoices(admin)
    _payment_sample(erp_dir)
    return listing


def institution_currency() -> str:
    from .vendors.services import institution_currency
    return institution_currency()


def _scale(currency: str) -> int:
    """The demo's amounts are written for a currency with cents; one without (JPY, KRW) gets a
    hundred times more units, so that a fund still buys more than a book."""
    from .ledger import minor_unit
    return 1 if minor_unit(currency) else 100


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
                   a handled file is renamed .handled. Try: cp samples/payment_confirmation.xml payments/in/
                   (it pays the demo's invoice Waiting for Payment; payments/in/README.txt says what counts).
  allocations/in   The funds allocation loader reads .csv files with the columns
                   FUND_EXTERNAL_ID,FISCAL_PERIOD_ID,AMOUNT,TRANSACTION_REFERENCE_NUMBER,TRANSACTION_NOTE
                   (FISCAL_PERIOD_ID {ids}). Try: cp samples/allocations.csv allocations/in/
  orders/out       Every PO sent to a vendor is exported here as XML.
  polines/out      Closed and cancelled PO lines are exported here in batches.
  edi/coutts       The EDI vendor's folder: its EDIFACT ORDERS files go to edi/coutts/orders.

Run any job from Administration > ERP integration > DEMO-ERP ("Run now"), or with
  flask --app wsgi jobs run export-invoices --profile DEMO-ERP
"""


def _erp(admin, erp_dir: str | None, fiscal_periods) -> None:
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
        fh.write(ERP_README.format(ids=", ".join(f"{erp_period_id(code)} = {code}" for code, *_ in fiscal_periods)))
    current = fiscal_periods[-1][0]
    scale = _scale(institution_currency())
    with open(os.path.join(root, "samples", "allocations.csv"), "w") as fh:
        fh.write("FUND_EXTERNAL_ID,FISCAL_PERIOD_ID,AMOUNT,TRANSACTION_REFERENCE_NUMBER,TRANSACTION_NOTE\n"
                 f"ERP-{current[-4:]}-HUM-BKS,{erp_period_id(current)},{1500 * scale}.00,DEMO-ALLOC-1,"
                 "Extra money for humanities\n"
                 f"SCI-BKS,{erp_period_id(current)},-{250 * scale}.00,DEMO-ALLOC-2,Money back to the university\n")
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
    for code, *_ in fiscal_periods:
        period = db.session.scalar(select(FiscalPeriod).filter_by(code=code))
        if period is not None:
            integrations.set_fiscal_period_mapping(admin, period, erp_period_id(code))


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
        ordered = ORDERED_DAYS_AGO[stage]
        vendor = db.session.scalar(select(Vendor).filter_by(code=vcode))
        fund = db.session.scalar(select(Fund).filter_by(code=fcode, fiscal_period_id=period.id))
        pol = orders.create_po_line(admin, orders.POLineFields(
            vendor=vendor, title=title, author=author, currency=vendor.currency, list_price=price,
            quantity=quantity, order_type=order_type, material_form=form, owner_library=libs.get(lib),
            inventory_library=libs.get(lib or "MAIN"), distribution=[orders.Share(fund, "100")],
            renewal_date=today + timedelta(days=200) if order_type == "continuous" else None,
            expected_receipt_date=today + timedelta(days=EXPECTED_AFTER_DAYS[stage] - ordered)))
        if stage == "review":
            continue
        orders.approve_po_line(admin, pol)
        orders.send_po_line(admin, pol)
        if stage == "received":
            orders.receive_po_line(admin, pol)
        elif stage == "cancelled":
            orders.cancel_po_line(admin, pol, "The publisher cancelled this edition.")
        _backdate(pol, ordered)


# How long ago the demo's lines were ordered, and when after that their material was expected: a
# late line was ordered weeks ago and is now past its expected date, so its claim is due.
ORDERED_DAYS_AGO = {"review": 0, "sent": 10, "received": 40, "late": 45, "cancelled": 20}
EXPECTED_AFTER_DAYS = {"review": 30, "sent": 40, "received": 30, "late": 33, "cancelled": 30}


def _backdate(pol, days: int) -> None:
    """The demo's history happened over the last weeks: the line, its PO and its history entries
    are moved ``days`` back (the services stamp the real time)."""
    from datetime import timedelta

    from .orders.models import POLineEvent
    if not days:
        return
    back = timedelta(days=days)
    for name in ("created_at", "approved_at", "sent_at", "closed_at"):
        if getattr(pol, name) is not None:
            setattr(pol, name, getattr(pol, name) - back)
    if pol.po is not None:   # its PO was made and sent with it (a PO of several lines: the earliest)
        for name in ("created_at", "sent_at", "closed_at"):
            if getattr(pol.po, name) is not None and getattr(pol, name) is not None:
                setattr(pol.po, name, min(getattr(pol.po, name), getattr(pol, name)))
    for event in db.session.scalars(select(POLineEvent).filter_by(po_line_id=pol.id)):
        event.at -= back
    db.session.flush()


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


# number, vendor, the PO line it bills (title; None: none), fund, unit price, quantity, days ago, status it
# ends in. With DEMO_INVOICE (In Approval, above) the invoice list shows every status; "rejected":
# an invoice manager sent it back, so it is In Review again with the reason; "problem": its total
# does not match its lines, so its review keeps it In Review.
INVOICES = [
    ("EB-2026-0412", "EBSCO", None, "DATABASES", "1205.00", 1, 3, "problem"),
    ("EB-2026-0398", "EBSCO", None, "EJOURNALS", "640.00", 1, 9, "rejected"),
    ("EB-2026-0377", "EBSCO", None, "DATABASES", "2100.00", 1, 14, "ready_to_be_paid"),
    ("EB-2026-0351", "EBSCO", None, "EJOURNALS", "1480.00", 1, 25, "waiting_for_payment"),
    ("CO-88231", "COUTTS", "Physics of quantum materials", "SCI-BKS", "112.00", 1, 30, "closed"),
]
WAITING_INVOICE = "EB-2026-0351"   # the sample payment confirmation pays it


def _invoices(admin) -> None:
    """Invoices in every status, made the way people make them: the invoice operator enters them,
    the invoice manager approves (or rejects) them, the ERP export and its payment move them on.
    Approving expends the funds, so the fund transactions name invoices that exist."""
    from datetime import timedelta

    from .invoices import services as invoices
    from .invoices.models import Invoice
    from .orders.models import POLine
    from .vendors.models import Vendor
    period = funds.current_fiscal_period()
    if period is None or db.session.scalar(select(Invoice.id).filter_by(number=INVOICES[0][0])):
        return
    operator = db.session.scalar(select(User).filter_by(username="invoicer")) or admin
    manager = db.session.scalar(select(User).filter_by(username="invoice-manager")) or admin
    today = clock.today()
    for number, vcode, title, fcode, price, quantity, days, outcome in INVOICES:
        vendor = db.session.scalar(select(Vendor).filter_by(code=vcode))
        fund = db.session.scalar(select(Fund).filter_by(code=fcode, fiscal_period_id=period.id))
        pol = db.session.scalar(select(POLine).filter_by(title=title)) if title else None
        day = max(today - timedelta(days=days), period.start_date)
        total = Decimal(price) * quantity
        vat = {}
        if vendor.liable_for_vat:   # its VAT, on the invoice
            vat = dict(vat_level="invoice", vat_percent="20", vat_amount=f"{quantize(total / 5, vendor.currency):f}")
        inv = invoices.create_invoice(operator, invoices.InvoiceFields(
            number=number, vendor=vendor, invoice_date=day, due_date=day + timedelta(days=30),
            total_amount=f"{total + 2 if outcome == 'problem' else total:f}", currency=vendor.currency,
            reference_number=pol.number if pol else "", **vat,
            lines=[invoices.LineFields(unit_price=price, quantity=quantity, po_line=pol,
                                       distribution=[funds_share(fund)])]))
        invoices.process_invoice(operator, inv)
        if outcome == "problem":
            continue
        if outcome == "rejected":
            invoices.reject_invoice(manager, inv, "The price is not the one in our licence: ask EBSCO for a "
                                    "corrected invoice.")
            continue
        invoices.approve_invoice(manager, inv)
        if outcome == "ready_to_be_paid":
            continue
        invoices.mark_exported(admin, inv)
        if outcome == "closed":
            invoices.record_payment(manager, inv, f"VCH-{day.year}-{inv.id:05d}", min(today, day + timedelta(days=20)),
                                    inv.total_amount)


PAYMENT_SAMPLE = """<?xml version="1.0" encoding="UTF-8"?>
<payment_confirmation_data xmlns="http://com/exlibris/repository/acq/xmlbeans">
  <invoice_list>
    <invoice>
      <unique_identifier>{uid}</unique_identifier>
      <invoice_number>{number}</invoice_number>
      <vendor_code>{vendor}</vendor_code>
      <invoice_date>{invoice_date}</invoice_date>
      <payment_status>PAID</payment_status>
      <payment_voucher_date>{paid_on}</payment_voucher_date>
      <payment_voucher_number>VCH-DEMO-{uid}</payment_voucher_number>
      <voucher_amount>
        <currency>{currency}</currency>
        <sum>{amount}</sum>
      </voucher_amount>
      <payment_note>Paid by the demo's ERP</payment_note>
    </invoice>
  </invoice_list>
</payment_confirmation_data>
"""
PAYMENTS_README = """Payment confirmations from the ERP (job "Import payment confirmation", profile DEMO-ERP).

Put payment_confirmation_data XML files here. Try:
  cp ../samples/payment_confirmation.xml .
The sample pays invoice {number} of {vendor}, which the demo leaves Waiting for Payment.

What the import reads of each <invoice> element:
  unique_identifier         the invoice's ERP identifier (shown on the invoice); found first by it
  invoice_number, vendor_code   used to find the invoice when there is no unique_identifier
  payment_status            PAID closes the invoice; REJECTED sends it back to review
  payment_voucher_number    the voucher, kept on the invoice
  payment_voucher_date      YYYYMMDD
  voucher_amount            <sum> (a plain decimal such as 1480.00) and <currency>
  payment_note              kept in the invoice's history
Other elements are ignored.

A file written less than ERP_IMPORT_MIN_AGE_SECONDS ({min_age} s) ago may still be being written:
the run leaves it for the next run (hourly, or "Run now" on the profile's page). A handled file is
renamed .handled; Monitor Jobs shows what each record did.
"""


def _payment_sample(erp_dir: str | None) -> None:
    """samples/payment_confirmation.xml: the ERP paying the demo's invoice Waiting for Payment, and
    payments/in/README.txt on what the import reads."""
    import os

    from flask import current_app

    from .invoices.models import Invoice
    root = os.path.abspath(erp_dir or os.path.join(current_app.instance_path, "erp"))
    inv = db.session.scalar(select(Invoice).filter_by(number=WAITING_INVOICE))
    if inv is None:
        return
    day = inv.invoice_date.strftime("%Y%m%d")
    with open(os.path.join(root, "samples", "payment_confirmation.xml"), "w") as fh:
        fh.write(PAYMENT_SAMPLE.format(uid=inv.erp_identifier, number=inv.number, vendor=inv.vendor.code,
                                       invoice_date=day, paid_on=clock.today().strftime("%Y%m%d"),
                                       currency=inv.currency, amount=f"{inv.total_amount:f}"))
    with open(os.path.join(root, "payments", "in", "README.txt"), "w") as fh:
        fh.write(PAYMENTS_README.format(number=inv.number, vendor=inv.vendor.code,
                                        min_age=current_app.config["ERP_IMPORT_MIN_AGE_SECONDS"]))


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
    currency = fund.ledger.currency
    expended = quantize(amount * share_exp, currency)
    encumbered = quantize(amount * share_enc, currency)
    # Spread the spending over a few months so the fund's chart has a shape. It stands for what was
    # spent before the library used this app (brought over from the ERP), so it names no invoice:
    # the demo's invoices (_invoices) are real ones and post their own transactions.
    for month, part in enumerate(fs_split(expended, 4, currency)):
        if part:
            day = date(start.year + (start.month + 2 * month - 1) // 12, (start.month + 2 * month - 1) % 12 + 1, 15)
            if day > clock.today():
                day = clock.today()
            funds.post(admin, fund, TransactionKind.EXPENDITURE, part, reference=f"HIST-{fund.code}-{month + 1}",
                    note="Spent before this system (from the ERP)", on=day)
    if encumbered:
        funds.post(admin, fund, TransactionKind.ENCUMBRANCE, encumbered, reference=f"HIST-{fund.code}",
                note="Orders open before this system (from the ERP)", on=min(clock.today(), start.replace(day=20)))


VENDORS = [  # code, name, currency, liable for VAT, governmental vendor, account
    ("TAX", "National Tax Office", "EUR", False, None, None),
    ("HARRASS", "Harrassowitz", "EUR", True, "TAX", ("H-MAIN", "Main library account")),
    ("COUTTS", "ProQuest Books (Coutts)", "GBP", True, "TAX", ("C-STD", "Standing orders")),
    ("EBSCO", "EBSCO Information Services", "USD", False, None, ("E-SUB", "Subscriptions")),
]
# euros for one unit of each currency, in the earlier and the current fiscal period: the demo's
# rates are these, relative to the institution's currency
EURO_VALUES = {"EUR": ("1", "1"), "USD": ("0.92", "0.94"), "GBP": ("1.17", "1.15"), "JPY": ("0.0062", "0.0060")}
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


def _vendors_and_rates(admin, fiscal_periods) -> None:
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
    from .ledger.money import quantize_rate
    home = institution_currency()
    for index, (_code, _name, day, _end) in enumerate(fiscal_periods):
        home_value = Decimal(EURO_VALUES.get(home, ("1", "1"))[index])
        for currency, values in EURO_VALUES.items():
            if currency == home or db.session.scalar(select(ExchangeRate).filter_by(currency=currency, day=day)):
                continue
            vendors.add_rate(admin, currency, f"{quantize_rate(Decimal(values[index]) / home_value):f}", day)


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


def fs_split(total: Decimal, parts: int, currency: str) -> list[Decimal]:
    from .ledger import split
    return split(total, [1] * parts, currency) if total else []
