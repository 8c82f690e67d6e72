"""The daily renewal run (job ``renewals`` on Monitor Jobs): each continuous line near its renewal
date waits for (manual) renewal, each automatic one whose date has come is renewed. One event per
line changed, one error per line refused (the others go on); scheduled at the institution's
``renewals_at`` (:mod:`app.integrations.daily`) and run by ``flask orders renewals``."""
from __future__ import annotations

from datetime import date

from ..auth.models import User
from ..errors import DomainError
from ..extensions import db
from ..text import T
from . import services as orders
from .models import POLine



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
            run_log.error(T("%(number)s: not renewed: %(reason)s", number=number, reason=exc.text), record=number)
            run_log.count(records=1, failed=1)
        else:
            for item in what:
                counts[item] += 1
                if item == "renewed":
                    text = T("%(number)s renewed; next renewal date %(day)s.", number=number,
                             day=pol.renewal_date.isoformat())
                elif item == "waiting_manual":
                    text = T("%(number)s waits for manual renewal.", number=number)
                else:
                    text = T("%(number)s waits for renewal.", number=number)
                run_log.info(text, record=number)
            if what:
                run_log.count(records=1)
        run_log.progress(done)
        run_log.commit()
    args = dict(waiting=counts["waiting"], manual=counts["waiting_manual"], renewed=counts["renewed"])
    if refused:
        return T("%(waiting)s waiting for renewal, %(manual)s waiting for manual renewal, %(renewed)s renewed. "
                 "%(refused)s line(s) refused.", refused=refused, **args)
    return T("%(waiting)s waiting for renewal, %(manual)s waiting for manual renewal, %(renewed)s renewed.", **args)
