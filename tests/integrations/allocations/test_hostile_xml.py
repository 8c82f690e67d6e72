"""Hostile XML inside an allocation workbook (entity expansion, external entities, any DTD, an
oversized part): the file is refused whole with a clear reason, cheaply, kept as ``.rejected``,
and no money moves."""
from __future__ import annotations

import pytest

from app.integrations.formats.allocations import parse_allocation_file
from app.spreadsheets import MAX_PART_BYTES
from tests.integrations.allocations.helpers import PERIOD_NUMBER, allocated, errors_of
from testkit.allocation_files import HEADER
from tests.hostile_workbooks import hostile, oversized_part, peak_memory

ROWS = [HEADER, ["EXT-1", PERIOD_NUMBER, 1.5, "R-1", "note"]]
MB = 1024 * 1024


@pytest.mark.parametrize("kind", ["billion_laughs", "quadratic", "external_entity", "dtd_only", "utf16"])
def test_H12_03_allocation_workbook_with_a_dtd_is_refused(kind):
    (lines, errors), peak = peak_memory(lambda: parse_allocation_file(hostile(ROWS, kind), "xlsx"))
    assert lines == [] and len(errors) == 1 and errors[0].row is None
    assert "DTD" in errors[0].message, errors[0].message
    assert peak < 8 * MB, f"peak {peak / MB:.1f} MB"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_H12_03_the_allocation_job_rejects_hostile_workbooks(local_loader):
    loader = local_loader("xlsx")
    before = allocated("SHARED")
    loader.drop("laughs.xlsx", hostile(ROWS, "billion_laughs"))
    loader.drop("external.xlsx", hostile(ROWS, "external_entity"))
    loader.drop("big.xlsx", oversized_part(ROWS, MAX_PART_BYTES + 4 * MB))
    run = loader.run()
    assert run.status == "failed" and (run.files, run.records_failed) == (3, 3)
    report = {}
    for event in run.events:
        if event.level == "error":
            report[event.file_name] = report.get(event.file_name, "") + event.message + " "
    assert "DTD" in report["laughs.xlsx"] and "DTD" in report["external.xlsx"], report
    assert f"at most {MAX_PART_BYTES // MB} MB" in report["big.xlsx"], report
    assert all("nothing was loaded" in m for m in report.values()) and len(errors_of(run)) == 6
    assert allocated("SHARED") == before
    assert loader.names() == ["big.xlsx.rejected", "external.xlsx.rejected", "laughs.xlsx.rejected"]
