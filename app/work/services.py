"""My work: per role and library scope, what waits for the user — counted, the oldest few of each,
and the filtered list that shows them all.

Each section is the query of the list it links to (the invoice list's conditions, the PO line
list's query, the claims list's query, the EDI inbox, Monitor Jobs), so a count on My work is the
number of rows on the page its link opens. Sections are only for the roles that can act on them.
Counts are COUNT queries; only the first few rows are loaded.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from ..auth.permissions import has_any_role, is_institution_admin
from ..clock import utcnow
from ..errors import InvalidInput
from ..extensions import db
from ..integrations.edi import services as edi
from ..integrations.edi.models import EdiMessage
from ..integrations.models import IntegrationProfile, JobRun
from ..invoices import services as invoices
from ..invoices.models import Invoice
from ..orders import services as orders
from ..text import T, Tn

SHOWN = 5              # rows shown per section
RUN_DAYS = 7           # failed runs of the last so many days (a choice of Monitor Jobs' "Started" filter)
HOMES = {"work": T("My work"), "funds": T("Fund dashboard")}


@dataclass
class Section:
    """One list of My work: ``count`` rows in all, the first :data:`SHOWN` of them (oldest first) in
    ``items``; ``endpoint`` and ``params``: the filtered list showing them all."""
    key: str
    title: str
    count: int
    items: list
    endpoint: str
    params: dict = field(default_factory=dict)


# -- who has which sections --------------------------------------------------------------------

def _invoice_operator(user) -> bool:
    return has_any_role(user, invoices.OPERATORS)


def _approver(user) -> bool:
    return has_any_role(user, invoices.APPROVERS)


def _purchaser(user) -> bool:
    return has_any_role(user, orders.PURCHASING)


def has_work(user) -> bool:
    """Whether any section of My work is for ``user``'s roles (viewers and fund managers have none)."""
    return _invoice_operator(user) or _approver(user) or _purchaser(user) or edi.may_receive(user) \
        or is_institution_admin(user)


def home_endpoint(user) -> str:
    """Where ``user`` lands after logging in and on ``/``: My work, unless they chose the fund
    dashboard or have nothing on My work."""
    return "work.index" if user.home != "funds" and has_work(user) else "funds.dashboard"


def set_home(actor, home: str) -> None:
    """``actor`` chooses their own home page (one of :data:`HOMES`)."""
    if home not in HOMES:
        raise InvalidInput(T("Choose My work or the fund dashboard."), "home")
    actor.home = home
    db.session.flush()


def set_language(actor, language: str | None) -> None:
    """``actor`` chooses their interface language (a key of :data:`app.i18n.LANGUAGES`), or none:
    then the browser's language is used, else the institution's."""
    from ..i18n import LANGUAGES
    if language is not None and language not in LANGUAGES:
        raise InvalidInput(T("Choose one of the languages listed."), "language")
    actor.language = language
    db.session.flush()


# -- the sections ------------------------------------------------------------------------------

def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def _section(key: str, title: str, query, endpoint: str, **params) -> Section:
    return Section(key, title, _count(query), db.session.scalars(query.limit(SHOWN)).all(), endpoint, params)


def _invoices(user, key: str, title: str, *conditions, **params) -> Section:
    query = select(Invoice).where(invoices.visible_invoices_clause(user), *conditions) \
        .order_by(Invoice.invoice_date, Invoice.id)
    return _section(key, title, query, "invoices.index", sort="date", **params)


def _po_lines(user, key: str, title: str, status: str) -> Section:
    query = orders.po_lines_query(user, orders.LineFilter(status=status, sort="number"))
    return _section(key, title, query, "orders.index", status=status, sort="number")


def sections(user, *, waiting_for_days: int = 30) -> list[Section]:
    """The sections of My work for ``user``, in workflow order."""
    out = []
    if _invoice_operator(user):
        out.append(_invoices(user, "invoices_review", T("Invoices In Review"), Invoice.status == "in_review",
                             status="in_review"))
    if _approver(user):
        out.append(_invoices(user, "invoices_approval", T("Invoices for you to approve"),
                             invoices.approvable_clause(user), approvable=1))
    if _invoice_operator(user):
        out.append(_invoices(user, "invoices_ready", T("Invoices Ready to be Paid"), Invoice.status == "ready_to_be_paid",
                             status="ready_to_be_paid"))
        out.append(_invoices(user, "invoices_waiting",
                             Tn("Invoices Waiting for Payment for more than %(num)d day",
                                "Invoices Waiting for Payment for more than %(num)d days", waiting_for_days),
                             invoices.waiting_longer_clause(waiting_for_days), waiting_days=waiting_for_days))
        out.append(_invoices(user, "invoices_erp_rejected", T("Invoices rejected by the ERP"),
                             invoices.erp_rejected_clause(), erp_rejected=1))
    if _purchaser(user):
        out.append(_po_lines(user, "lines_review", T("PO lines In Review"), "in_review"))
        out.append(_po_lines(user, "lines_ready", T("PO lines Ready"), "ready"))
        out.append(_section("claims", T("Claims due"), orders.claims_query(user), "communications.claims"))
        out.append(_po_lines(user, "renewals", T("Renewals due"), "renewal"))
    if edi.may_receive(user):
        query = select(EdiMessage).where(EdiMessage.status == "failed").order_by(EdiMessage.id)
        out.append(_section("edi_failed", T("EDI messages not matched"), query, "edi.inbox", status="failed"))
    if is_institution_admin(user):
        query = select(JobRun).where(JobRun.status == "failed", JobRun.started_at >= utcnow() - timedelta(days=RUN_DAYS)) \
            .order_by(JobRun.id)
        out.append(_section("runs_failed", Tn("Failed or interrupted job runs (last %(num)d day)",
                                               "Failed or interrupted job runs (last %(num)d days)", RUN_DAYS), query,
                            "integrations.monitor", status="failed", days=RUN_DAYS))
        out.append(_section("profiles_failed", T("Profiles whose last run failed"), _failed_profiles(),
                            "integrations.index"))
    return out


def _failed_profiles():
    """Integration profiles whose latest finished run failed."""
    last = select(JobRun.profile_id, func.max(JobRun.id).label("run_id")) \
        .where(JobRun.profile_id.isnot(None), JobRun.status != "running").group_by(JobRun.profile_id).subquery()
    return select(IntegrationProfile).join(last, last.c.profile_id == IntegrationProfile.id) \
        .join(JobRun, JobRun.id == last.c.run_id).where(JobRun.status == "failed").order_by(IntegrationProfile.code)
