"""Export invoices for payment: Ready-to-be-Paid invoices go to the ERP as ``payment_data`` files.

Two steps per file, safe to retry (nothing is lost, nothing is sent twice), run as one stream so
that files travel while the next ones are prepared:

1. Stored: pending batches whose invoices are no longer all Ready to be Paid are voided first.
   Then every exportable invoice not in a pending batch goes into a new batch (one file per
   invoice, or one per owner), a chunk of invoices at a time: each file is written in the
   section's element set (``xsd_version``), checked against that version's XSD, and stored with its name, exact bytes and SHA-256; the chunk is committed
   before any of its files is handed over for upload.
2. Sent: the stored files (first those an earlier run left pending, then the new ones) are
   published in order (temporary name, size check, rename) by an upload thread or, from
   ``ERP_UPLOAD_PROCESS_FROM`` files on, by an upload process
   (:mod:`app.integrations.upload_worker`). Only once
   the server holds a file are its batch marked sent and its invoices moved on
   (:func:`app.invoices.services.mark_many_exported`), a hundred files per commit. A batch left
   by an earlier run is first looked for on the server: found with the same bytes (that run died
   between the rename and its commit), it is not sent again. A transfer failure ends the run
   failed: what the server confirmed is committed, nothing else moved, the files not prepared yet
   are prepared, and the next run sends the very same files.

With a campus stylesheet on the section (:mod:`app.integrations.formats.xslt`), what is uploaded
is each stored file transformed (named with the output's extension), and, when the section keeps
originals, the stored file itself first, in ``original/``. A chunk's files are all transformed
before any of them is handed over: a failing transform ends the run failed with its reason; the
files the server confirmed before it are recorded, no other invoice moves.
"""
from __future__ import annotations

import gc
import hashlib
import itertools
import queue
import re
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterator

from flask import current_app
from sqlalchemy import false, insert, or_, select, true, update
from sqlalchemy.orm import lazyload, selectinload

from app.clock import utcnow
from app.database import insert_rows
from app.extensions import db
from app.integrations.formats import joined
from app.integrations.formats import payment_data as pd
from app.integrations.formats import xslt
from app.integrations.formats.xml import XMLRefused, parse, schema_errors
from app.integrations.models import ExportBatch, ExportBatchInvoice, IntegrationProfile
from app.integrations.runs import JobRefused, execute
from app.integrations.transport import TransferError, transport_settings
from app.integrations.upload_worker import UploadProcess
from app.invoices import services as invoice_services
from app.invoices.charges import Charge, charges_of
from app.invoices.models import STATUSES, Invoice, InvoiceLine, InvoiceLineFund, InvoiceNote
from app.ledger.money import quantize_rate
from app.orders.models import POLine
from app.org.models import Institution, Library
from app.vendors.models import Vendor
from app.text import T
from app.vendors.services import rate_on

CHUNK = 200          # invoices rendered per commit while batching
SEND_CHUNK = 100     # files confirmed per commit while sending (a crash in between is caught by
                     # the next run, which finds those files on the server and does not resend them)
PAYMENT_METHODS = {"bank_transfer": "ACCOUNTINGDEPARTMENT", "check": "ACCOUNTINGDEPARTMENT",
                   "credit_card": "CREDITCARD", "deposit_account": "DEPOSITACCOUNT", "cash": "CASH"}
CHARGE_ELEMENTS = {"overhead": "overhead_amount", "discount": "discount_amount", "shipment": "shipment_amount",
                   "insurance": "insurance_amount"}
OTHER_CHARGES = "miscellaneous_charge_amount"   # the library's own charge types
ORIGINALS = "original"   # the sub-folder the untransformed files go to, when kept
HOW = {"exported": T("exported"), "already there": T("was already on the server (an earlier run was interrupted)")}


class InvalidExportFile(JobRefused):
    """A file we rendered does not match our XSD: nothing is uploaded."""


class TransformFailed(JobRefused):
    """The section's campus stylesheet cannot be used, or failed on a file: that file is not uploaded."""


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
    """The invoices with everything their files say. Funds and libraries repeat from line to line:
    they are loaded once per chunk, not joined to every row."""
    lines = selectinload(Invoice.lines)
    return db.session.scalars(
        select(Invoice).where(Invoice.id.in_(ids)).order_by(Invoice.id)
        .options(lines.selectinload(InvoiceLine.distribution).selectinload(InvoiceLineFund.fund),
                 lines.selectinload(InvoiceLine.po_line).options(lazyload("*"), selectinload(POLine.owner_library)),
                 lazyload(Invoice.owner_library), selectinload(Invoice.charges),
                 selectinload(Invoice.vendor).selectinload(Vendor.addresses),
                 selectinload(Invoice.vendor_account), selectinload(Invoice.created_by),
                 selectinload(Invoice.approved_by), selectinload(Invoice.attachments).lazyload("*"),
                 selectinload(Invoice.dated_notes).options(lazyload("*"), selectinload(InvoiceNote.author)))).all()


# -- from our models to the file's data -------------------------------------------------------------

def _rate(invoice: Invoice, currency: str) -> Decimal:
    if invoice.explicit_ratio is not None:
        ratio = invoice.explicit_ratio
    else:
        ratio = rate_on(invoice.currency, invoice.invoice_date) / rate_on(currency, invoice.invoice_date)
    return quantize_rate(ratio).normalize()


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


def _fund_info(invoice: Invoice, charge: Charge, funds: dict) -> pd.FundInfo:
    fund = charge.fund
    about = funds.get(fund.id)
    if about is None:   # the same few funds come back line after line
        about = funds[fund.id] = dict(
            code=fund.code, name=fund.name, fiscal_period=fund.fiscal_period.code,
            external_id=fund.external_id or fund.code, type=fund.kind.upper(),
            fund_type=fund.fund_type.code if fund.fund_type else "",
            fund_type_desc=fund.fund_type.name if fund.fund_type else "",
            ledger_code=fund.ledger.code, ledger_name=fund.ledger.name)
    return pd.FundInfo(amount=pd.Amount(invoice.currency, charge.amount),
                       local_amount=pd.Amount(fund.currency, charge.fund_amount), **about)


def _po_line(pol, institution: Institution) -> pd.POLineInfo:
    identifier, kind = (pol.isbn, "ISBN") if pol.isbn else ((pol.issn, "ISSN") if pol.issn else ("", ""))
    return pd.POLineInfo(fully_invoiced=pol.fully_invoiced,
                         owner=pol.owner_library.name if pol.owner_library else institution.name,
                         number=pol.number, price=pol.net_price, title=pol.title, identifier=identifier,
                         identifier_type=kind, creator=pol.author, date=pol.publication_date,
                         publisher=pol.publisher, vendor_reference_number=pol.vendor_reference)


def _note(note: InvoiceNote, customer: str) -> pd.Note:
    author = note.author.username if note.author else ""
    return pd.Note(note.text, pd.Audit(created_by=author, creation_date=note.created_at.date(), customer_id=customer,
                                       institution_id=customer,
                                       modified_by=note.edited_by.username if note.edited_by else author,
                                       modification_date=(note.edited_at or note.created_at).date()))


def invoice_data(invoice: Invoice, institution: Institution, funds: dict | None = None) -> pd.InvoiceData:
    """Everything the export file says about ``invoice``, from the database. ``funds``: what was
    already read of each fund, kept between calls by a caller that exports many invoices."""
    funds = {} if funds is None else funds
    by_line: dict[int, list[Charge]] = {}
    for charge in charges_of(invoice):
        by_line.setdefault(charge.line.position, []).append(charge)
    lines = tuple(
        pd.InvoiceLineData(
            line_number=line.position, line_type="REGULAR" if line.line_type == "regular" else line.line_type.upper(),
            quantity=line.quantity, reporting_code=line.reporting_code, total_price=line.total,
            price=line.unit_price, note=line.note,
            po_line=_po_line(line.po_line, institution) if line.po_line is not None else None,
            funds=tuple(_fund_info(invoice, c, funds) for c in by_line.get(line.position, ())))
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
    notes += tuple(_note(n, customer) for n in invoice.dated_notes)   # the Notes tab (e.g. payment terms)
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
        number_of_attachments=len(invoice.attachments), prepaid=invoice.prepaid, notes=notes, audit=audit, vat=_vat(invoice), charges=_charges(invoice),
        exchange_rates=tuple(pd.ExchangeRateInfo(_rate(invoice, c), c, invoice.explicit_ratio is not None)
                             for c in fund_currencies),
        lines=lines)


def render(data: list[pd.InvoiceData], version: str = "current") -> bytes:
    """The file for ``data`` in element set ``version``, checked against that version's XSD (raises
    :class:`InvalidExportFile`)."""
    content = pd.build_payment_data(data, version)
    schema = pd.schema_name(version)
    errors = schema_errors(parse(content), schema)
    if errors:
        numbers = ", ".join(d.number for d in data)
        raise InvalidExportFile(T("The export file for invoice(s) %(numbers)s does not match %(schema)s; nothing was "
                                  "uploaded. %(errors)s", numbers=numbers, schema=schema, errors=joined(errors[:5])))
    return content


def _version(profile_id: int) -> str:
    section = db.session.get(IntegrationProfile, profile_id).section("export_invoices")
    return section.xsd_version if section is not None else "current"


def render_batch(batch: ExportBatch) -> bytes:
    """Render a batch's invoices again from the database (what was stored, if nothing changed)."""
    institution = Institution.current()
    invoices = _load([link.invoice_id for link in batch.invoices])
    return render([invoice_data(inv, institution) for inv in invoices], _version(batch.profile_id))


# -- file names -------------------------------------------------------------------------------------

def _name_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-") or "X"


def _file_name(batch_id: int, invoices: list[Invoice], split: bool, institution: Institution) -> str:
    if not split:
        return f"INV_{invoices[0].erp_identifier}_{batch_id}.xml"
    owner = invoices[0].owner_library
    code, kind = (owner.code, "LBR") if owner is not None else (institution.code, "INT")
    return f"{_name_part(code)}_{kind}_{batch_id}.xml"


# -- storing the files ------------------------------------------------------------------------------

@dataclass
class _File:
    """A stored batch on its way to the server."""
    batch_id: int
    name: str
    content: bytes
    invoice_ids: list[int]
    check_first: bool = False   # made by an earlier run, which may have died just after the rename
    original: tuple[str, bytes] | None = None   # when transformed and kept: the stored name and bytes


def _still_valid(batch: ExportBatch, version: str) -> str:
    """Why a pending batch may not be sent any more ("" when it may). A file of the other XSD
    version (the profile's was changed since) no longer matches: it is voided and written again."""
    for link in batch.invoices:
        inv = link.invoice
        if inv.status != "ready_to_be_paid":
            return T("invoice %(number)s is %(status)s", number=inv.number, status=inv.status_label)
        if inv.skips_erp:
            return T("invoice %(number)s is no longer meant for the ERP", number=inv.number)
    if hashlib.sha256(batch.content).hexdigest() != batch.sha256:
        return T("its stored content does not match its checksum")
    schema = pd.schema_name(version)
    try:
        errors = schema_errors(parse(batch.content), schema)
    except XMLRefused as exc:
        errors = [exc.text]
    if errors:
        return T("its file does not match %(schema)s (%(error)s)", schema=schema, error=errors[0])
    return ""


def void_stale_batches(ctx) -> list[int]:
    """Void the pending batches that may not be sent any more; the ids of the others, in order."""
    batches = db.session.scalars(select(ExportBatch).where(ExportBatch.profile_id == ctx.profile.id,
                                                           ExportBatch.status == "pending")
                                 .order_by(ExportBatch.id)).all()
    still = []
    for batch in batches:
        reason = _still_valid(batch, ctx.section.xsd_version)
        if reason:
            batch.status = "void"
            ctx.log.warning(T("Batch %(name)s was not sent and is void: %(reason)s. Its other invoices go into new "
                              "files.", name=batch.file_name, reason=reason), file=batch.file_name)
        else:
            still.append(batch.id)
    ctx.log.commit()
    return still


def stored_files(ctx, batch_ids: list[int]) -> Iterator[list[_File]]:
    """Pending batches of earlier runs, as files to send, a chunk at a time."""
    for start in range(0, len(batch_ids), CHUNK):
        ids = batch_ids[start:start + CHUNK]
        members: dict[int, list[int]] = {}
        for batch_id, invoice_id in db.session.execute(
                select(ExportBatchInvoice.batch_id, ExportBatchInvoice.invoice_id)
                .where(ExportBatchInvoice.batch_id.in_(ids)).order_by(ExportBatchInvoice.invoice_id)):
            members.setdefault(batch_id, []).append(invoice_id)
        rows = db.session.execute(select(ExportBatch.id, ExportBatch.file_name, ExportBatch.content)
                                  .where(ExportBatch.id.in_(ids)).order_by(ExportBatch.id)).all()
        ctx.log.commit()   # no transaction (on SQLite: the write lock) held while this chunk is sent
        yield [_File(row.id, row.file_name, row.content, members.get(row.id, []), check_first=True) for row in rows]


def plan_files(ctx, ids: list[int]) -> list[list[int]]:
    """The invoices to render together: chunks of one file per invoice, or one file per owner."""
    if not ctx.section.split_by_owner:
        return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]
    groups: dict[tuple[int, str], list[int]] = {}
    for inv_id, owner_code in db.session.execute(
            select(Invoice.id, Library.code).outerjoin(Library, Library.id == Invoice.owner_library_id)
            .where(Invoice.id.in_(ids)).order_by(Invoice.id)):
        groups.setdefault((0, "") if owner_code is None else (1, owner_code), []).append(inv_id)
    return [groups[key] for key in sorted(groups)]


def make_batches(ctx, plan: list[list[int]]) -> Iterator[list[_File]]:
    """Render and store new pending batches, committed a chunk at a time; yields each chunk's files."""
    institution = Institution.current()
    split = bool(ctx.section.split_by_owner)
    made, funds = 0, {}
    for chunk in plan:
        invoices = _load(chunk)
        usable = []
        for inv in invoices:
            if not (inv.erp_identifier or "").isdigit() or len(inv.erp_identifier) != 16:
                ctx.log.warning(T("Invoice %(number)s has no 16-digit ERP identifier; it is not exported.",
                                  number=inv.number), record=inv.number)
                ctx.log.count(failed=1)
                continue
            usable.append(inv)
        groups = [group for group in ([usable] if split else [[inv] for inv in usable]) if group]
        with db.session.no_autoflush:
            contents = [render([invoice_data(inv, institution, funds) for inv in group], ctx.section.xsd_version)
                        for group in groups]
        ids = insert_rows(db.session, ExportBatch, [
            dict(profile_id=ctx.profile.id, file_name=f"new-{uuid.uuid4().hex}", content=content,
                 sha256=hashlib.sha256(content).hexdigest(), status="pending", run_id=ctx.run.id)
            for content in contents])
        files = [_File(batch_id, _file_name(batch_id, group, split, institution), content,
                       sorted(inv.id for inv in group)) for batch_id, content, group in zip(ids, contents, groups)]
        if files:   # the names carry the batch ids
            db.session.execute(update(ExportBatch), [dict(id=f.batch_id, file_name=f.name) for f in files])
            db.session.execute(insert(ExportBatchInvoice), [dict(batch_id=f.batch_id, invoice_id=inv_id)
                                                            for f in files for inv_id in f.invoice_ids])
        ctx.log.commit()
        made += len(files)
        yield files
    if made:
        ctx.log.info(T("%(count)s new file(s) prepared.", count=made))


# -- sending them -----------------------------------------------------------------------------------

def record_sent(ctx, confirmed: list[tuple[_File, str]]) -> None:
    """The server holds these files: their batches are sent and their invoices move on."""
    ids = [inv_id for f, _ in confirmed for inv_id in f.invoice_ids]
    moved = invoice_services.mark_many_exported(ctx.actor, ids)
    db.session.execute(update(ExportBatch).where(ExportBatch.id.in_([f.batch_id for f, _ in confirmed]))
                       .values(status="sent", sent_at=utcnow(), run_id=ctx.run.id)
                       .execution_options(synchronize_session=False))
    left = {row.id: row for row in db.session.execute(
        select(Invoice.id, Invoice.number, Invoice.status).where(Invoice.id.in_(set(ids) - set(moved))))}
    for f, how in confirmed:
        for inv_id in f.invoice_ids:
            done = moved.get(inv_id)
            if done is not None:
                ctx.log.info(T("Invoice %(number)s of %(vendor)s %(how)s; now %(status)s.", number=done.number,
                               vendor=done.vendor_code, how=HOW[how], status=STATUSES[done.status]),
                             file=f.name, record=done.number)
                ctx.log.count(records=1)
            else:   # changed (or deleted) while the file was on its way
                row = left.get(inv_id)
                number = row.number if row else f"#{inv_id}"
                if row:
                    message = T("Invoice %(number)s was sent in %(name)s but is now %(status)s; its status was left "
                                "as it is.", number=number, name=f.name, status=STATUSES[row.status])
                else:
                    message = T("Invoice %(number)s was sent in %(name)s but no longer exists; its status was left "
                                "as it is.", number=number, name=f.name)
                ctx.log.warning(message, file=f.name, record=number)
                ctx.log.count(failed=1)
        ctx.log.count(files=1)
    ctx.log.progress(ctx.log.done + len(confirmed))
    ctx.log.commit()


class _Uploader:
    """Uploads files in a thread of its own, in order, while the job renders the next ones and
    records those already confirmed; it stops at the first failure. For a few files; many go
    through :class:`~app.integrations.upload_worker.UploadProcess` (same methods)."""

    def __init__(self, transport, folder: str):
        self.transport, self.folder = transport, folder
        self.todo: queue.Queue = queue.Queue()
        self.results: queue.Queue = queue.Queue()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._work, name="invoice-export-upload", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while True:
            job = self.todo.get()
            if job is None or self.stopping.is_set():
                return
            name, content, check_first, sub = job
            folder = f"{self.folder}/{sub}" if sub else self.folder
            try:
                if check_first and self.transport.holds(folder, name, content):
                    self.results.put("already there")
                else:
                    self.transport.publish(folder, name, content)
                    self.results.put("exported")
            except BaseException as exc:   # handed to the job's thread, which raises it
                self.results.put(exc)
                return

    def put(self, name: str, content: bytes, check_first: bool, sub: str = "") -> None:
        self.todo.put((name, content, check_first, sub))

    def ready(self) -> int:
        return self.results.qsize()

    def result(self, block: bool) -> str | None:
        """How the next file went (None: not known yet and ``block`` is false); raises its failure."""
        try:
            outcome = self.results.get(block)
        except queue.Empty:
            return None
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def stop(self) -> None:
        self.stopping.set()
        while True:   # drop what is still queued, then wake the thread
            try:
                self.todo.get_nowait()
            except queue.Empty:
                break
        self.todo.put(None)
        self.thread.join()


class _WithOriginals:
    """In front of an uploader: a file carrying its original has the original uploaded to
    ``original/`` first; one outcome per file (the file's), as if it were one upload."""

    def __init__(self, uploader):
        self.uploader = uploader
        self.uploads: deque[int] = deque()   # uploads per file handed over, in order

    def put(self, name: str, content: bytes, check_first: bool, original: tuple[str, bytes] | None = None) -> None:
        if original is not None:
            self.uploader.put(original[0], original[1], check_first, sub=ORIGINALS)
        self.uploader.put(name, content, check_first)
        self.uploads.append(2 if original is not None else 1)

    def ready(self) -> int:
        available, files = self.uploader.ready(), 0
        for count in self.uploads:
            if count > available:
                break
            available -= count
            files += 1
        return files

    def result(self, block: bool) -> str | None:
        if not self.uploads:
            return None
        if not block and self.ready() == 0:
            return None
        count = self.uploads.popleft()
        outcome = None
        for _ in range(count):   # the uploader stops at its first failure, which is raised here
            outcome = self.uploader.result(True)
        return outcome

    def stop(self) -> None:
        self.uploader.stop()


class _Sender:
    """Hands files to the upload thread and records them as the server confirms them,
    ``SEND_CHUNK`` per commit; at most ``IN_FLIGHT`` files are handed over and not yet recorded."""
    IN_FLIGHT = 5 * CHUNK

    def __init__(self, ctx, uploader, transformer: xslt.Transformer | None = None, keep_original: bool = False):
        self.ctx, self.transformer, self.keep_original = ctx, transformer, keep_original
        self.uploader = _WithOriginals(uploader) if transformer is not None and keep_original else uploader
        self.in_flight: deque[_File] = deque()

    def _transform(self, files: list[_File]) -> None:
        """Each file becomes the stylesheet's output, all of the chunk before any is handed over."""
        for f in files:
            try:
                out = self.transformer.apply(f.content)
            except xslt.XSLTError as exc:
                self.finish()   # what the server already holds is recorded; nothing else moves
                raise TransformFailed(T("The campus stylesheet failed on %(name)s, so it and the files after it "
                                        "were not uploaded and their invoices did not move: %(error)s", name=f.name,
                                        error=exc.text)) from None
            if self.keep_original:
                f.original = (f.name, f.content)
            f.name, f.content = xslt.renamed(f.name, out.extension), out.content

    def send(self, files: list[_File]) -> None:
        if self.transformer is not None:
            self._transform(files)
        while self.in_flight and len(self.in_flight) + len(files) > self.IN_FLIGHT:
            self._record(wait_for=min(SEND_CHUNK, len(self.in_flight)))
        for f in files:
            self.in_flight.append(f)
            if f.original is not None:
                self.uploader.put(f.name, f.content, f.check_first, original=f.original)
            else:
                self.uploader.put(f.name, f.content, f.check_first)
        while self.uploader.ready() >= SEND_CHUNK:
            self._record(wait_for=SEND_CHUNK)

    def finish(self) -> None:
        while self.in_flight:
            self._record(wait_for=min(SEND_CHUNK, len(self.in_flight)))

    def _record(self, wait_for: int) -> None:
        """Wait until ``wait_for`` more files are confirmed and record them (with any others already
        confirmed, up to ``SEND_CHUNK``). On a failure, what the server confirmed before it is
        recorded, then the failure is raised."""
        confirmed: list[tuple[_File, str]] = []
        failure = None
        try:
            while len(confirmed) < SEND_CHUNK:
                how = self.uploader.result(block=len(confirmed) < wait_for)
                if how is None:
                    break
                confirmed.append((self.in_flight.popleft(), how))
        except BaseException as exc:
            failure = exc
        if confirmed:
            record_sent(self.ctx, confirmed)
        if failure is not None:
            raise failure


def export_invoices(ctx) -> None:
    """Body of the "Export invoices for payment" job (see the module docstring)."""
    carried_over = void_stale_batches(ctx)
    todo = exportable_invoice_ids()
    plan = plan_files(ctx, todo) if todo else []
    ctx.log.commit()
    if not carried_over and not plan:
        ctx.log.info(T("No invoice is waiting to be exported."))
        return
    to_make = len(plan) if ctx.section.split_by_owner else sum(len(chunk) for chunk in plan)
    ctx.log.progress(0, len(carried_over) + to_make)
    transformer = None
    if ctx.section.xslt.strip():
        try:
            transformer = xslt.Transformer(ctx.section.xslt)
        except xslt.XSLTError as exc:
            raise TransformFailed(T("The section's campus stylesheet cannot be used, so nothing was uploaded: "
                                    "%(error)s", error=exc.text)) from None
        if ctx.section.xslt_keep_original:
            ctx.log.info(T("Each file is transformed by the campus stylesheet into a .%(extension)s file; the "
                           "originals go to %(folder)s/.", extension=transformer.extension, folder=ORIGINALS))
        else:
            ctx.log.info(T("Each file is transformed by the campus stylesheet into a .%(extension)s file.",
                           extension=transformer.extension))
    files = itertools.chain(stored_files(ctx, carried_over), make_batches(ctx, plan))
    # Objects alive now (the app, its mappers, caches) are left out of the collector's full passes
    # while thousands of invoices are loaded: those passes were a fifth of the run.
    gc.freeze()
    try:
        with ctx.transport() as transport:
            transport.ensure_folder(ctx.folder)
            if transformer is not None and ctx.section.xslt_keep_original:
                transport.ensure_folder(f"{ctx.folder}/{ORIGINALS}")
            count = len(carried_over) + to_make
            if count >= current_app.config["ERP_UPLOAD_PROCESS_FROM"]:
                ctx.log.info(T("%(count)s files to send: a separate process uploads them while the next ones are "
                               "prepared.", count=count))
                uploader = UploadProcess(transport_settings(ctx.profile.connection), ctx.folder)
            else:
                uploader = _Uploader(transport, ctx.folder)
            try:
                sender = _Sender(ctx, uploader, transformer, bool(ctx.section.xslt_keep_original))
                for chunk in files:
                    sender.send(chunk)
                sender.finish()
            finally:
                uploader.stop()
    except TransferError:
        for _ in files:   # the files not prepared yet are prepared now: the next run sends them
            pass
        raise
    finally:
        gc.unfreeze()
        if transformer is not None:
            transformer.close()


def sample_file(limit: int = 20) -> tuple[bytes, int] | None:
    """An export file of the first ``limit`` invoices the next run would export, and how many it
    holds (None: there are none); nothing is stored and no invoice moves. For the stylesheet's
    preview page, which reaches it as ``run.sample_file`` (the app never imports ``jobs/``)."""
    usable = [inv for inv in _load(exportable_invoice_ids()[:limit])
              if (inv.erp_identifier or "").isdigit() and len(inv.erp_identifier) == 16]
    if not usable:
        return None
    institution = Institution.current()
    with db.session.no_autoflush:
        return render([invoice_data(inv, institution) for inv in usable]), len(usable)


def run(app, profile_code: str, **kw) -> int | None:
    """:func:`export_invoices` as a run of the profile (:func:`app.integrations.runs.execute`)."""
    return execute(app, "export_invoices", profile_code, export_invoices, **kw)


run.sample_file = sample_file
