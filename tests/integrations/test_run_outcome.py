"""A run that applied nothing because every record it was given was refused ends Failed (red on
Monitor Jobs, and the failure notice goes out), whatever the job; a run that applied some is
Completed with exceptions."""
import pytest

from app.extensions import db
from app.integrations.models import JobRun
from app.integrations.runs import RunLog


def _run(**counts) -> JobRun:
    run = JobRun(job="import_payments", profile_code="ERP", trigger="manual", status="running")
    db.session.add(run)
    db.session.flush()
    log = RunLog(run)
    log.count(**counts)
    log.finish("completed", "done")
    return db.session.get(JobRun, run.id)


@pytest.mark.parametrize("counts, label", [
    (dict(files=1, records=3, failed=3), "Failed"),                     # every record refused
    (dict(files=1, records=3, failed=1, not_applied=2), "Failed"),      # a file refused as a whole
    (dict(files=1, failed=1), "Failed"),                                # a file refused before its records
    (dict(files=1, records=3, failed=1), "Completed with exceptions"),  # two of three applied
    (dict(files=1, records=3), "Completed"),
    (dict(), "Completed"),                                              # nothing to do is no failure
])
def test_a_run_that_applied_nothing_is_failed(app, counts, label):
    assert _run(**counts).status_label == label
