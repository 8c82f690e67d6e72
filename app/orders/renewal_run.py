"""The daily renewal run (job ``renewals`` on Monitor Jobs): each continuous line near its renewal
date waits for (manual) renewal, each automatic one whose date has come is renewed. One event per
line changed, one error per line refused (the others go on); scheduled at the institution's
``renewals_at`` (:mod:`app.integrations.daily`) and run by ``flask orders renewals``."""
from __future__ import annotations

from datetime import date

from ..auth.models import User
from ..errors import DomainError
from ..extensions import db
from . import services as orders
from .models import POLine

SAYS = {"waiting": "waits for renewal", "waiting_manual": "waits for manual renewal", "renewed": "renewed"}


def body(run_log, actor: User, today: date) -> str:
    ids = list(db.session.scalars(orders.renewal_candidates().with_only_columns(POLine.id)))
    db.session.commit()
    counts = {"waiting": 0, "waiting_manual": 0, "renewed": 0}
    refused = 0
    run_log.progress(0, len(ids))
    for done, pol_id in enumerate(ids, start=1):
        pol = db.session.get(POLine, pol_id)
        number = pol.number
        try:
            with db.session.begin_nested():
                what = orders.process_renewal(actor, pol, today)
        except DomainError as exc:
            refused += 1
            run_log.error(f"{number}: not renewed: {exc.message}", record=number)
            run_log.count(records=1, failed=1)
        else:
            for item in what:
                counts[item] += 1
                text = f"{number} {SAYS[item]}"
                if item == "renewed":
                    text += f"; next renewal date {pol.renewal_date.isoformat()}"
                run_log.info(text + ".", record=number)
            if what:
                run_log.count(records=1)
        run_log.progress(done)
        run_log.commit()
    message = (f"{counts['waiting']} waiting for renewal, {counts['waiting_manual']} waiting for manual renewal, "
               f"{counts['renewed']} renewed.")
    return message + (f" {refused} line(s) refused." if refused else "")
