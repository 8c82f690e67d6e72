"""Export invoices for payment: Ready-to-be-Paid invoices go to the ERP as ``payment_data`` files.

Two phases, safe to retry (nothing is lost, nothing is sent twice):

1. Batching (database only): pending batches whose invoices are no longer all Ready to be Paid
   are voided; every exportable invoice not in a pending batch goes into a new batch (one file per
   invoice, or one per owner). Each batch's file name and exact bytes are stored with its SHA-256,
   after the file passed our XSD; then committed.
2. Sending: every pending batch of the profile is published (temporary name, size check, rename),
   by an upload thread working a few files ahead. Only once the server holds a file are its batch
   marked sent and its invoices moved on (:func:`app.invoices.services.mark_exported`); these are
   committed every few dozen files. A batch found already on the server with the same bytes (an
   earlier run died between the rename and the commit) is not sent again. A transfer failure
   ends the run failed: what was confirmed is committed, nothing else moved, the other batches
   stay pending and the next run sends the very same files.
"""
from __future__ import annotations

import hashlib
import queue
import re
import threading
import uuid
from decimal import Decimal

from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import selectinload

from ..auth.models import utcnow
from ..extensions import db
from ..invoices import services as ivs
from ..invoices.models import Invoice, InvoiceLine
from ..org.models import Institution
from ..vendors import services as vs
from ..vendors.models import Vendor
from .formats import payment_data as pd
from .formats.xml import XMLRefused, parse, schema_errors
from .models import ExportBatch, ExportBatchInvoice
from .runs import JobRefused
from .transport import TransferError

SCHEMA = "payment_data.xsd"
CHUNK = 200          # invoices rendered per commit while batching
SEND_CHUNK = 50      # files confirmed per commit while sending (a crash in between is caught by
                     # the next run, which finds those files on the server and does not resend them)
PAYMENT_METHODS = {"bank_transfer": "ACCOUNTINGDEPARTMENT", "check": "ACCOUNTINGDEPARTMENT",
                   "credit_card": "CREDITCARD", "deposit_account": "DEPOSITACCOUNT", "cash": "CASH"}
CHARGE_ELEMENTS = {"overhead": "overhead_amount", "discount": "discount_amount", "shipment": "shipment_amount",
                   "insurance": "insurance_amount"}
OTHER_CHARGES = "miscellaneous_charge_amount"   # the library's own charge types


class InvalidExportFile(JobRefused):
    """A file we rendered does not match our XSD: nothing is uploaded."""


# -- which invoices ---------------------------------------------------------------------------------

def _in_pending_batch():
    return select(ExportBatchInvoice.invoice_id).join(ExportBatch).where(ExportBatch.status == "pending")


def exportable_invoice_ids() -> list[int]:
    """Ready to be Paid, meant for the ERP (no internal copies, no prepaid ones not marked for
    export), and not already waiting in a pending batch."""
    rows = db.session.scalars(
        select(Invoice.id).where(Invoice.status == "ready_to_be_paid", Invoice.internal_copy == false(),
                                 or_(Invoice.prepaid == false(), Invoice.export_prepaid == true()),
                                 Invoice.id.not_in(_in_pending_batch()))
        .order_by(Invoice.id))
    return list(rows)


def _load(ids: list[int]) -> list[Invoice]:
    lines = selectinload(Invoice.lines)
    invoices = db.session.scalars(
        select(Invoice).where(Invoice.id.in_(ids)).order_by(Invoice.id)
        .options(lines.selectinload(InvoiceLine.distribution), lines.selectinload(InvoiceLine.po_line),
                 selectinload(Invoice.charges), selectinload(Invoice.vendor).selectinload(Vendor.addresses),
                 selectinload(Invoice.vendor_account), selectinload(Invoice.created_by),
                 selectinload(Invoice.approved_by))).all()
    return invoices


# -- from our models to the file's data -------------------------------------------------------------

def _rate(invoice: Invoice, currency: str) -> Decimal:
    if invoice.explicit_ratio is not None:
        ratio = invoice.explicit_ratio
    else:
        ratio = vs.rate_on(invoice.currency, invoice.invoice_date) / vs.rate_on(currency, invoice.invoice_date)
    return ratio.quantize(Decimal("0.00000001")).normalize()


def _vat(invoice: Invoice) -> pd.VatInfo:
    if invoice.vat_level == "line":
        amount = sum((line.vat_amount for line in invoice.lines), Decimal("0.00"))
        percents = {line.vat_percent for line in invoice.lines if line.vat_percent is not None}
        percent = percents.pop() if len(percents) == 1 else Decimal("0")
    else:
        amount, percent = invoice.vat_amount or Decimal("0.00"), invoice.vat_percent or Decimal("0")
    if invoice.vat_level == "none" or invoice.vat_inclusive:
        vat_type = "INCLUSIVE"
    else:
        vat_type = "LINEEXCLUSIVE" if invoice.vat_level == "line" else "EXCLUSIVE"
    return pd.VatInfo(expended_from_fund=not invoice.vat_separate_line, inclusive=vat_type == "INCLUSIVE",
                      amount=amount, percentage=percent, vat_type=vat_type, line_level=invoice.vat_level == "line",
                      code=invoice.vat_code)


def _charges(invoice: Invoice) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    total = Decimal("0.00")
    for charge in invoice.charges:
        tag = CHARGE_ELEMENTS.get(charge.charge_type, OTHER_CHARGES)
        out[tag] = out.get(tag, Decimal("0.00")) + charge.amount
        total += charge.amount
    out["total_charges_amount"] = total
    return out


def _address(address) -> pd.PaymentAddress:
    return pd.PaymentAddress(preferred=address.preferred,
                             lines=tuple(x for x in (address.line1, address.line2) if x) or ("",),
                             city=address.city, postal_code=address.postal_code, state_province=address.state,
                             types=tuple(address.type_list), country=address.country)


def _fund_info(invoice: Invoice, charge: ivs.Charge) -> pd.FundInfo:
    fund = charge.fund
    return pd.FundInfo(
        amount=pd.Amount(invoice.currency, charge.amount), local_amount=pd.Amount(fund.currency, charge.fund_amount),
        code=fund.code, name=fund.name, fiscal_period=fund.fiscal_period.code,
        external_id=fund.external_id or fund.code, type=fund.kind.upper(),
        fund_type=fund.fund_type.code if fund.fund_type else "",
        fund_type_desc=fund.fund_type.name if fund.fund_type else "",
        ledger_code=fund.ledger.code, ledger_name=fund.ledger.name)


def _po_line(pol, institution: Institution) -> pd.POLineInfo:
    identifier, kind = (pol.isbn, "ISBN") if pol.isbn else ((pol.issn, "ISSN") if pol.issn else ("", ""))
    return pd.POLineInfo(fully_invoiced=pol.fully_invoiced,
                         owner=pol.owner_library.name if pol.owner_library else institution.name,
                         number=pol.number, price=pol.net_price, title=pol.title, identifier=identifier,
                         identifier_type=kind, creator=pol.author, date=pol.publication_date,
                         publisher=pol.publisher, vendor_reference_number=pol.vendor_reference)


def invoice_data(invoice: Invoice, institution: Institution) -> pd.InvoiceData:
    """Everything the export file says about ``invoice``, from the database."""
    by_line: dict[int, list[ivs.Charge]] = {}
    for charge in ivs.charges_of(invoice):
        by_line.setdefault(charge.line.position, []).append(charge)
    lines = tuple(
        pd.InvoiceLineData(
            line_number=line.position, line_type="REGULAR" if line.line_type == "regular" else line.line_type.upper(),
            quantity=line.quantity, reporting_code=line.reporting_code, total_price=line.total,
            price=line.unit_price, note=line.note,
            po_line=_po_line(line.po_line, institution) if line.po_line is not None else None,
            funds=tuple(_fund_info(invoice, c) for c in by_line.get(line.position, ())))
        for line in invoice.lines)
    fund_currencies = sorted({c.fund.currency for cs in by_line.values() for c in cs} - {invoice.currency})
    creator = invoice.created_by.username if invoice.created_by else ""
    approver = invoice.approved_by
    customer = str(institution.id)
    audit = pd.Audit(created_by=creator, creation_date=invoice.created_at.date(), customer_id=customer,
                     institution_id=customer, modified_by=approver.username if approver else creator)
    notes = ()
    if invoice.notes.strip():
        changed = (invoice.approved_at or invoice.created_at).date()
        notes = (pd.Note(invoice.notes, pd.Audit(created_by=creator, creation_date=invoice.created_at.date(),
                                                 customer_id=customer, institution_id=customer,
                                                 modified_by=audit.modified_by, modification_date=changed)),)
    vendor, account = invoice.vendor, invoice.vendor_account
    return pd.InvoiceData(
        number=invoice.number, reference_number=invoice.reference_number,
        owner=invoice.owner_library.name if invoice.owner_library else institution.name,
        approved_by=(approver.full_name or approver.username) if approver else "",
        amount=pd.Amount(invoice.currency, invoice.total_amount),
        vendor_code=vendor.code, vendor_name=vendor.name, vendor_additional_code=vendor.additional_code,
        vendor_financial_sys_code=vendor.financial_sys_code, vendor_liable_for_vat=vendor.liable_for_vat,
        vendor_national_tax_id=vendor.national_tax_id,
        payment_addresses=tuple(_address(a) for a in vendor.addresses),
        vendor_account_code=account.code if account else "",
        vendor_account_financial_sys_code=account.financial_sys_code if account else "",
        unique_identifier=invoice.erp_identifier, invoice_date=invoice.invoice_date, due_date=invoice.due_date,
        payment_method=PAYMENT_METHODS.get(invoice.payment_method, invoice.payment_method.upper()),
        number_of_attachments=0, notes=notes, audit=audit, vat=_vat(invoice), charges=_charges(invoice),
        exchange_rates=tuple(pd.ExchangeRateInfo(_rate(invoice, c), c, invoice.explicit_ratio is not None)
                             for c in fund_currencies),
        lines=lines)


def render(data: list[pd.InvoiceData]) -> bytes:
    """The file for ``data``, checked against our XSD (raises :class:`InvalidExportFile`)."""
    root = pd.build_tree(data)
    errors = schema_errors(root, SCHEMA)
    if errors:
        numbers = ", ".join(d.number for d in data)
        raise InvalidExportFile(f"The export file for invoice(s) {numbers} does not match {SCHEMA}; nothing was "
                                f"uploaded. {'; '.join(errors[:5])}")
    return pd.serialize(root)


def render_batch(batch: ExportBatch) -> bytes:
    """Render a batch's invoices again from the database (what was stored, if nothing changed)."""
    institution = Institution.current()
    invoices = _load([link.invoice_id for link in batch.invoices])
    return render([invoice_data(inv, institution) for inv in invoices])


# -- file names -------------------------------------------------------------------------------------

def _name_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-") or "X"


def _owner_key(invoice: Invoice) -> tuple[int, str]:
    return (0, "") if invoice.owner_library is None else (1, invoice.owner_library.code)


def _file_name(batch_id: int, invoices: list[Invoice], split: bool, institution: Institution) -> str:
    if not split:
        return f"INV_{invoices[0].erp_identifier}_{batch_id}.xml"
    owner = invoices[0].owner_library
    code, kind = (owner.code, "LBR") if owner is not None else (institution.code, "INT")
    return f"{_name_part(code)}_{kind}_{batch_id}.xml"


# -- phase 1: batching ------------------------------------------------------------------------------

def _still_valid(batch: ExportBatch) -> str:
    """Why a pending batch may not be sent any more ("" when it may)."""
    for link in batch.invoices:
        inv = link.invoice
        if inv.status != "ready_to_be_paid":
            return f"invoice {inv.number} is {inv.status_label}"
        if inv.skips_erp:
            return f"invoice {inv.number} is no longer meant for the ERP"
    if hashlib.sha256(batch.content).hexdigest() != batch.sha256:
        return "its stored content does not match its checksum"
    try:
        errors = schema_errors(parse(batch.content), SCHEMA)
    except XMLRefused as exc:
        errors = [str(exc)]
    if errors:
        return f"its file does not match {SCHEMA} ({errors[0]})"
    return ""


def void_stale_batches(ctx) -> None:
    batches = db.session.scalars(select(ExportBatch).where(ExportBatch.profile_id == ctx.profile.id,
                                                           ExportBatch.status == "pending")
                                 .order_by(ExportBatch.id)).all()
    for batch in batches:
        reason = _still_valid(batch)
        if reason:
            batch.status = "void"
            ctx.log.warning(f"Batch {batch.file_name} was not sent and is void: {reason}. Its other invoices "
                            "go into new files.", file=batch.file_name)
    ctx.log.commit()


def make_batches(ctx) -> int:
    """Put every exportable invoice into a new pending batch; returns the number of batches made."""
    ids = exportable_invoice_ids()
    if not ids:
        return 0
    institution = Institution.current()
    split = bool(ctx.section.split_by_owner)
    made = 0
    if split:
        groups: dict[tuple[int, str], list[int]] = {}
        for inv in _load(ids):
            groups.setdefault(_owner_key(inv), []).append(inv.id)
        chunks = [groups[key] for key in sorted(groups)]
    else:
        chunks = [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]
    for chunk in chunks:
        invoices = _load(chunk)
        usable = []
        for inv in invoices:
            if not (inv.erp_identifier or "").isdigit() or len(inv.erp_identifier) != 16:
                ctx.log.warning(f"Invoice {inv.number} has no 16-digit ERP identifier; it is not exported.",
                                record=inv.number)
                ctx.log.count(failed=1)
                continue
            usable.append(inv)
        files = [usable] if split else [[inv] for inv in usable]
        made_now = []
        for group in files:
            if not group:
                continue
            with db.session.no_autoflush:   # the new batches are flushed once, below
                content = render([invoice_data(inv, institution) for inv in group])
            batch = ExportBatch(profile_id=ctx.profile.id, file_name=f"new-{uuid.uuid4().hex}", content=content,
                                sha256=hashlib.sha256(content).hexdigest(), status="pending", run_id=ctx.run.id)
            batch.invoices = [ExportBatchInvoice(invoice_id=inv.id) for inv in group]
            db.session.add(batch)
            made_now.append((batch, group))
        db.session.flush()   # the batch ids, which the file names carry
        for batch, group in made_now:
            batch.file_name = _file_name(batch.id, group, split, institution)
        made += len(made_now)
        ctx.log.commit()
    return made


# -- phase 2: sending -------------------------------------------------------------------------------

def _already_there(transport, folder: str, name: str, content: bytes) -> bool:
    """The server holds this file under its final name, byte for byte."""
    found = transport.stat(folder, name)
    if found is None or found.size != len(content):
        return False
    return transport.read(folder, name, len(content) + 1) == content


def _mark_sent(ctx, batch: ExportBatch, how: str) -> None:
    batch.status, batch.sent_at, batch.run_id = "sent", utcnow(), ctx.run.id
    for link in sorted(batch.invoices, key=lambda link: link.invoice_id):
        inv = link.invoice
        if inv.status != "ready_to_be_paid":   # changed while the file was on its way
            ctx.log.warning(f"Invoice {inv.number} was sent in {batch.file_name} but is now {inv.status_label}; "
                            "its status was left as it is.", file=batch.file_name, record=inv.number)
            ctx.log.count(failed=1)
            continue
        ivs.mark_exported(ctx.actor, inv, flush=False)   # flushed with the chunk
        ctx.log.info(f"Invoice {inv.number} of {inv.vendor.code} {how}; now {inv.status_label}.",
                     file=batch.file_name, record=inv.number)
        ctx.log.count(records=1)
    ctx.log.count(files=1)


class _Uploader:
    """Uploads files in a thread of its own, in order, while the job records the ones already
    confirmed: the network round trips overlap the database work. It stops at the first failure;
    at most ``AHEAD`` files are queued ahead of the one being recorded."""
    AHEAD = 4

    def __init__(self, transport, folder: str):
        self.transport, self.folder = transport, folder
        self.todo: queue.Queue = queue.Queue(self.AHEAD)
        self.results: queue.Queue = queue.Queue()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._work, name="invoice-export-upload", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while True:
            job = self.todo.get()
            if job is None or self.stopping.is_set():
                return
            name, content, check_first = job
            try:
                if check_first and _already_there(self.transport, self.folder, name, content):
                    self.results.put("was already on the server (an earlier run was interrupted)")
                else:
                    self.transport.publish(self.folder, name, content)
                    self.results.put("exported")
            except BaseException as exc:   # handed to the job's thread, which raises it
                self.results.put(exc)
                return

    def put(self, name: str, content: bytes, check_first: bool) -> None:
        self.todo.put((name, content, check_first))

    def result(self) -> str:
        outcome = self.results.get()
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def stop(self) -> None:
        self.stopping.set()
        while True:   # unblock a full queue, then wake the thread
            try:
                self.todo.get_nowait()
            except queue.Empty:
                break
        self.todo.put(None)
        self.thread.join()


def send_pending(ctx, carried_over: set[int]) -> None:
    ids = db.session.scalars(select(ExportBatch.id).where(ExportBatch.profile_id == ctx.profile.id,
                                                          ExportBatch.status == "pending")
                             .order_by(ExportBatch.id)).all()
    if not ids:
        ctx.log.info("No invoice is waiting to be exported.")
        return
    ctx.log.progress(0, len(ids))
    folder = ctx.folder
    done = 0
    with ctx.transport() as transport:
        transport.ensure_folder(folder)
        uploader = _Uploader(transport, folder)
        try:
            for start in range(0, len(ids), SEND_CHUNK):
                chunk = db.session.scalars(
                    select(ExportBatch).where(ExportBatch.id.in_(ids[start:start + SEND_CHUNK]))
                    .order_by(ExportBatch.id)
                    .options(selectinload(ExportBatch.invoices).selectinload(ExportBatchInvoice.invoice))).all()
                # Only a batch from an earlier run can be on the server already (the run died
                # between the rename and its commit): look before sending those.
                files = [(b.file_name, b.content, b.id in carried_over) for b in chunk]
                for item in files[:_Uploader.AHEAD]:
                    uploader.put(*item)
                with ivs.deferred_history() as history:
                    for n, batch in enumerate(chunk):
                        try:
                            how = uploader.result()
                        except TransferError:
                            # What the server confirmed stays done; the rest waits for the next run.
                            history.write()
                            ctx.log.commit()
                            raise
                        if n + _Uploader.AHEAD < len(files):   # only after a success: the thread is alive
                            uploader.put(*files[n + _Uploader.AHEAD])
                        with db.session.no_autoflush:
                            _mark_sent(ctx, batch, how)
                        done += 1
                        ctx.log.progress(done)
                ctx.log.commit()
        finally:
            uploader.stop()


def export_invoices(ctx) -> None:
    """Body of the "Export invoices for payment" job (see the module docstring)."""
    void_stale_batches(ctx)
    carried_over = set(db.session.scalars(select(ExportBatch.id).where(ExportBatch.profile_id == ctx.profile.id,
                                                                       ExportBatch.status == "pending")))
    made = make_batches(ctx)
    if made:
        ctx.log.info(f"{made} new file(s) prepared.")
    send_pending(ctx, carried_over)

