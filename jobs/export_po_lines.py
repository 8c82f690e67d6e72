"""Export closed and cancelled PO lines to the ERP: the lines not yet sent, oldest first, at most
the section's batch size per run, in one file ``POL_<run id>.xml`` (``po_line_data``) checked
against its XSD; the lines are recorded as exported only after the upload is confirmed (what the
file says of each line: :func:`app.integrations.order_export.iter_finished_lines`).

The file is written element by element into a temporary file while the lines are read in chunks
(:func:`app.integrations.formats.orders.write_po_line_data`), then checked and uploaded from that file
while streaming, so neither the rows, an XML tree nor the bytes of the whole batch are ever in
memory."""
from __future__ import annotations

import tempfile

from sqlalchemy import func, insert

from app.clock import utcnow
from app.extensions import db
from app.integrations.formats import orders as fmt
from app.integrations.models import POLineExport
from app.integrations.order_export import (DEFAULT_BATCH, checked_file, chunks, iter_finished_lines,
                                           unexported_lines, unexported_po_lines)
from app.integrations.runs import JobContext, execute
from app.orders.models import POLine
from app.text import T


def _next_line_ids(limit: int) -> list[int]:
    oldest_first = (func.coalesce(POLine.closed_at, POLine.updated_at), POLine.id)
    return list(db.session.scalars(unexported_lines().order_by(*oldest_first).limit(limit)))


def export_po_lines(ctx: JobContext) -> None:
    log = ctx.log
    batch = max(1, ctx.section.batch_size or DEFAULT_BATCH)
    waiting = unexported_po_lines()
    if not waiting:
        log.info(T("No closed or cancelled PO line to export."))
        return
    ids = _next_line_ids(batch)
    log.progress(0, len(ids))
    name = f"POL_{ctx.run.id}.xml"
    with tempfile.TemporaryFile(prefix="pol-") as spool:
        fmt.write_po_line_data(spool, iter_finished_lines(ids))
        checked_file(spool, fmt.POL_XSD, name)
        size = spool.seek(0, 2)
        log.info(T("%(name)s written: %(count)s PO line(s), %(size)s bytes.", name=name, count=len(ids), size=f"{size:,}"),
                 file=name)
        log.commit()   # a heartbeat before the upload: a big batch takes a while to write
        with ctx.transport() as transport:
            transport.publish(ctx.folder, name, spool)   # from the file: never the whole file in memory
    # The file is on the server: record its lines as exported in one unit.
    now, run_id, profile_id = utcnow(), ctx.run.id, ctx.profile.id
    for chunk in chunks(ids, 5000):
        db.session.execute(insert(POLineExport), [
            {"po_line_id": i, "profile_id": profile_id, "file_name": name, "run_id": run_id, "exported_at": now}
            for i in chunk])
    log.count(files=1, records=len(ids))
    log.progress(len(ids))
    log.info(T("%(count)s PO line(s) exported.", count=len(ids)), file=name)
    remaining = waiting - len(ids)
    if remaining > 0:
        log.warning(T("%(count)s PO lines remain: run again.", count=remaining))
        log.note(T("%(count)s PO lines remain: run again.", count=remaining))
    log.commit()


def run(app, profile_code: str, **kw) -> int | None:
    """:func:`export_po_lines` as a run of the profile (:func:`app.integrations.runs.execute`)."""
    return execute(app, "export_po_lines", profile_code, export_po_lines, **kw)
