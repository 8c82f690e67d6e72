"""Rollover rules per ledger and per fund (issue 14, point 1): the one parser of the closure page's
fields and of a rules file, its messages, the rule each fund got in the report, and the page's
rules table (HTMX fragments) with a preview and a commit whose figures follow the overrides."""
from __future__ import annotations

import csv
import io
import json
from html import unescape
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.errors import InvalidInput
from app.extensions import db
from app.funds import rollover as ro
from app.funds import services as fs
from app.funds.models import Rollover
from app.funds.rollover_rules import ledger_rules_from, ledger_rules_from_json, rules_for_period
from app.ledger.rollover import FundRule, LedgerRules
from tests.funds.test_rollover import LINES, books, fund  # noqa: F401 - the fixture
from tests.funds.test_rollover_views import FORM
from tests.helpers import login

FUNDS = {"BOOKS": "GEN", "SHARED": "GEN", "A-BKS": "LEDA", "B-BKS": "LEDB"}
LEDGERS = ("GEN", "LEDA", "LEDB")

# the default: +3 %, carry available; LEDA the same allocation, carry nothing; A-BKS overridden to
# no allocation, carry the cash balance; B-BKS -10 % (its carry as its ledger's: the default's)
OVERRIDES = {"ledger-0-code": "GEN", "ledger-0-allocation": "", "ledger-0-percent": "", "ledger-0-carry": "",
             "ledger-1-code": "LEDA", "ledger-1-allocation": "same", "ledger-1-percent": "", "ledger-1-carry": "none",
             "ledger-2-code": "LEDB", "ledger-2-allocation": "", "ledger-2-percent": "", "ledger-2-carry": "",
             "fund-0-code": "A-BKS", "fund-0-allocation": "none", "fund-0-percent": "", "fund-0-carry": "cash",
             "fund-1-code": "B-BKS", "fund-1-allocation": "adjust", "fund-1-percent": "-10", "fund-1-carry": ""}


# -- the parser ---------------------------------------------------------------------------------

def test_fields_give_ledger_rules_and_fund_overrides():
    rules = ledger_rules_from({**FORM, **OVERRIDES}, LEDGERS, FUNDS)
    assert rules.default == FundRule("adjust", D("3"), "available")
    assert dict(rules.ledgers) == {"LEDA": FundRule("same", D("0"), "none")}   # GEN, LEDB: as the default
    assert dict(rules.funds) == {"A-BKS": FundRule("none", D("0"), "cash"),
                                 "B-BKS": FundRule("adjust", D("-10"), "available")}
    assert rules.label("GEN", "SHARED") == "allocation +3 %, carry available"
    assert rules.label("LEDA", "OTHER") == "same allocation (ledger LEDA)"
    assert rules.label("LEDA", "A-BKS") == "no allocation, carry cash balance (override)"
    # a field of an override left "as its ledger" takes its ledger's
    only_carry = ledger_rules_from({**FORM, **OVERRIDES, "fund-0-allocation": ""}, LEDGERS, FUNDS)
    assert only_carry.funds["A-BKS"] == FundRule("same", D("0"), "cash")
    # an empty "override a fund" row is ignored
    rules = ledger_rules_from({**FORM, "fund-0-code": "", "fund-0-allocation": "", "fund-0-carry": ""}, LEDGERS, FUNDS)
    assert rules == LedgerRules(FundRule("adjust", D("3"), "available"))


@pytest.mark.parametrize("change, message, field", [
    ({"ledger-1-allocation": "adjust", "ledger-1-percent": "lots"},
     'Ledger LEDA: "lots" is not a percent for "adjust by %"', "ledger-1-percent"),
    ({"ledger-1-allocation": "adjust", "ledger-1-percent": "-150"}, "Ledger LEDA: \"adjust by %\" is a percent between",
     "ledger-1-percent"),
    ({"ledger-1-allocation": "", "ledger-1-percent": "4"}, "Ledger LEDA: \"adjust by %\" needs the new allocation",
     "ledger-1-percent"),
    ({"ledger-1-carry": "everything"}, "Ledger LEDA: carry over is one of none, cash, available", "ledger-1-carry"),
    ({"ledger-1-code": "LAW"}, "Ledger LAW is not a ledger of the source period", "ledger-1-allocation"),
    ({"fund-1-code": "A-BKS"}, "Fund A-BKS is overridden twice", "fund-1-code"),
    ({"fund-1-code": "NOPE"}, "Fund NOPE is not a fund of the source period", "fund-1-code"),
    ({"fund-1-code": ""}, "Fund override 2: choose the fund it is for", "fund-1-code"),
    ({"fund-0-allocation": "", "fund-0-carry": ""}, "Fund A-BKS: choose its new allocation or what it carries",
     "fund-0-allocation"),
    ({"fund-1-percent": "x"}, 'Fund B-BKS: "x" is not a percent', "fund-1-percent"),
])
def test_messages_name_the_ledger_or_fund_and_the_field(change, message, field):
    with pytest.raises(InvalidInput) as err:
        ledger_rules_from({**FORM, **OVERRIDES, **change}, LEDGERS, FUNDS)
    assert message in err.value.message and err.value.field == field


def test_a_rules_file_is_read_by_the_same_parser():
    data = {"default": {"allocation": "adjust", "percent": "3", "carry": "available"},
            "ledgers": {"LEDA": {"allocation": "same", "carry": "none"}},
            "funds": {"A-BKS": {"allocation": "none", "carry": "cash"}, "B-BKS": {"allocation": "adjust", "percent": -10}}}
    assert ledger_rules_from_json(data, LEDGERS, FUNDS) == ledger_rules_from({**FORM, **OVERRIDES}, LEDGERS, FUNDS)
    with pytest.raises(InvalidInput, match="Fund B-BKS: \"adjust by %\" is a percent between -100"):
        ledger_rules_from_json({"funds": {"B-BKS": {"allocation": "adjust", "percent": "-300"}}}, LEDGERS, FUNDS)
    with pytest.raises(InvalidInput, match="Unknown key"):
        ledger_rules_from_json({"fund": {}})


# -- the services and the report ----------------------------------------------------------------

@pytest.mark.postgres
def test_overrides_drive_the_figures_and_the_report_says_which_rule(world, books):
    admin = world.user("admin")
    rules = rules_for_period({**FORM, **OVERRIDES}, "FY2026")
    report = ro.commit(admin, "FY2026", "FY2027", rules, LINES)
    db.session.commit()
    by = {r.code: r for r in report.funds}
    # BOOKS, SHARED (GEN, the default): +3 %, carry available
    assert (by["BOOKS"].new_allocation, by["BOOKS"].carried) == (D("10300.00"), D("2549.50"))
    assert by["BOOKS"].rule == "allocation +3 %, carry available"
    # A-BKS: the override: no allocation, carry its cash balance
    assert (by["A-BKS"].new_allocation, by["A-BKS"].carried) == (D("0.00"), D("1000.00"))
    assert by["A-BKS"].rule == "no allocation, carry cash balance (override)"
    assert fund("A-BKS", "FY2027").allocated == D("1000.00")
    # B-BKS: -10 %, carry as its ledger LEDB (the default's: available)
    assert (by["B-BKS"].new_allocation, by["B-BKS"].carried) == (D("900.00"), D("1000.00"))
    assert by["B-BKS"].rule == "allocation -10 %, carry available (override)"
    assert by["MONO"].rule == ""    # a summary fund holds no money
    # the stored report says the same
    stored = ro.report_of(db.session.get(Rollover, report.rollover_id))
    assert [r.rule for r in stored.funds] == [r.rule for r in report.funds]
    assert fs.check_ledger() == []


@pytest.mark.postgres
def test_a_ledger_rule_reaches_its_funds(world, books):
    rules = rules_for_period({**FORM, "ledger-0-code": "LEDA", "ledger-0-allocation": "adjust",
                              "ledger-0-percent": "+5", "ledger-0-carry": "none"}, "FY2026")
    report = ro.preview(world.user("admin"), "FY2026", "FY2027", rules, LINES)
    row = next(r for r in report.funds if r.code == "A-BKS")
    assert (row.new_allocation, row.carried, row.rule) == (D("1050.00"), D("0.00"), "allocation +5 % (ledger LEDA)")


# -- the page -----------------------------------------------------------------------------------

HX = {"HX-Request": "true"}


def test_the_rules_table_lists_the_source_ledgers_and_adds_and_removes_overrides(app, world, books):
    client = login(app.test_client(), "admin")
    page = client.get("/fiscal-periods/closure").get_data(as_text=True)
    assert 'id="rollover-rules"' in page and "Rules per ledger" in page
    for code in LEDGERS:
        assert f'data-ledger="{code}"' in page
    assert 'hx-post="/fiscal-periods/closure/rules"' in page and "Override a fund" in page
    # no source period: no table yet, and a word why
    resp = client.post("/fiscal-periods/closure/rules", data={**FORM, "source": ""}, headers=HX)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and html.lstrip().startswith('<div id="rollover-rules"')
    assert "Once you choose the period to close" in html and "data-ledger" not in html
    # "Override a fund": a new, empty row, focused
    html = client.post("/fiscal-periods/closure/rules", data={**FORM, "add_fund": "1"}, headers=HX).get_data(as_text=True)
    assert html.count("data-override=") == 1 and 'name="fund-0-code"' in html
    assert 'id="fund-0-code" name="fund-0-code" autofocus' in html
    assert '<optgroup label="Ledger LEDA"><option value="A-BKS">A-BKS' in html
    # what was typed stays; a second row; then the first removed: the second renumbered, what it holds kept
    data = {**FORM, **OVERRIDES, "add_fund": "1"}
    html = client.post("/fiscal-periods/closure/rules", data=data, headers=HX).get_data(as_text=True)
    assert html.count("data-override=") == 3
    assert '<option value="A-BKS" selected>' in html and 'name="fund-1-percent" value="-10"' in html
    assert "no allocation, carry cash balance" in html    # what the override gets
    data = {**FORM, **OVERRIDES, "remove_fund": "0"}
    html = client.post("/fiscal-periods/closure/rules", data=data, headers=HX).get_data(as_text=True)
    assert html.count("data-override=") == 1 and '<option value="A-BKS" selected>' not in html
    assert '<option value="B-BKS" selected>' in html and 'name="fund-0-percent" value="-10"' in html
    assert 'id="add_fund"' in html and "autofocus" in html.split('id="add_fund"')[1].split(">")[0]
    # without HTMX the buttons answer the whole page
    full = client.post("/fiscal-periods/closure/rules", data={**FORM, "add_fund": "1"}).get_data(as_text=True)
    assert "<html" in full and 'name="fund-0-code"' in full


def test_a_changed_field_asks_only_what_each_row_gets_out_of_band(app, world, books):
    client = login(app.test_client(), "admin")
    html = client.post("/fiscal-periods/closure/rules?part=gets", data={**FORM, **OVERRIDES},
                       headers=HX).get_data(as_text=True)
    assert "<select" not in html and "<input" not in html    # the fields being typed in are left alone
    assert '<span id="rules-default" hx-swap-oob="true">allocation +3 %, carry available</span>' in html
    assert '<span id="gets-ledger-1" hx-swap-oob="true">same allocation</span>' in html
    assert '<span id="gets-ledger-0" hx-swap-oob="true">allocation +3 %, carry available (the default)</span>' in html
    assert '<span id="gets-fund-0" hx-swap-oob="true">no allocation, carry cash balance</span>' in html
    html = unescape(client.post("/fiscal-periods/closure/rules?part=gets", headers=HX, data={
        **FORM, **OVERRIDES, "ledger-1-allocation": "adjust", "ledger-1-percent": "ten"}).get_data(as_text=True))
    assert '<span id="gets-ledger-1" hx-swap-oob="true" class="error">Ledger LEDA: "ten" is not a percent' in html


def test_preview_and_commit_on_the_page_follow_the_overrides(app, world, books):
    app.config["ROLLOVER_RUNS_IN_FOREGROUND"] = True   # the run in the request (tests/funds/test_rollover_runs.py)
    client = login(app.test_client(), "admin")
    resp = client.post("/fiscal-periods/closure", data={**FORM, **OVERRIDES, "action": "preview"}, headers=HX)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    a_row = html.split('data-fund="A-BKS"')[1].split("</tr>")[0]
    assert "no allocation, carry cash balance (override)" in a_row and "1,000.00" in a_row
    b_row = html.split('data-fund="B-BKS"')[1].split("</tr>")[0]
    assert "900.00" in b_row and "allocation -10 %, carry available (override)" in b_row
    # the form comes back with the overrides as typed
    assert '<option value="A-BKS" selected>' in html and 'name="fund-1-percent" value="-10"' in html
    resp = client.post("/fiscal-periods/closure", data={**FORM, **OVERRIDES, "action": "commit"})
    assert resp.status_code in (302, 303)
    assert (fund("A-BKS", "FY2027").allocated, fund("B-BKS", "FY2027").allocated) == (D("1000.00"), D("1900.00"))
    rid = db.session.scalar(select(Rollover.id).where(Rollover.status == "committed"))
    stored = db.session.get(Rollover, rid)
    assert stored.fund_rules["funds"]["A-BKS"] == {"allocation": "none", "percent": "0", "carry": "cash"}
    page = client.get(f"/fiscal-periods/closure/{rid}").get_data(as_text=True)
    assert "no allocation, carry cash balance (override)" in page
    text = client.get(f"/fiscal-periods/closure/{rid}/report.csv").get_data(as_text=True)
    rows = {r[1]: r for r in csv.reader(io.StringIO(text)) if len(r) > 12}
    assert rows["Fund"][-1] == "Rule"
    assert rows["A-BKS"][-1] == "no allocation, carry cash balance (override)"
    assert rows["SHARED"][-1] == "allocation +3 %, carry available"
    wb = load_workbook(io.BytesIO(client.get(f"/fiscal-periods/closure/{rid}/report.xlsx").get_data()))
    found = {r[1]: r[-1] for r in wb["Funds"].iter_rows(min_row=3, values_only=True)}
    assert found["B-BKS"] == "allocation -10 %, carry available (override)"


def test_a_bad_override_is_refused_and_marked_on_the_page(app, world, books):
    client = login(app.test_client(), "admin")
    resp = client.post("/fiscal-periods/closure", headers=HX, data={
        **FORM, **OVERRIDES, "fund-1-percent": "ten", "action": "preview"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert 'Fund B-BKS: "ten" is not a percent' in unescape(html)
    assert 'id="fund-1-percent" name="fund-1-percent" value="ten"' in html
    marked = html.split('id="fund-1-percent"')[1].split(">")[0]
    assert 'aria-invalid="true"' in marked and "autofocus" in marked
    assert db.session.scalar(select(Rollover.id)) is None


def test_cli_reads_a_rules_file(app, world, books, tmp_path):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"default": {"allocation": "adjust", "percent": "3", "carry": "available"},
                                "funds": {"A-BKS": {"allocation": "none", "carry": "cash"}}}))
    runner = app.test_cli_runner()
    out = runner.invoke(args=["rollover", "ledgers", "--from", "FY2026", "--to", "FY2027", "--rules", str(path)])
    assert out.exit_code == 0, out.output
    assert (fund("A-BKS", "FY2027").allocated, fund("SHARED", "FY2027").allocated) == (D("1000.00"), D("2030.00"))
    path.write_text(json.dumps({"funds": {"A-BKS": {"allocation": "adjust", "percent": "many"}}}))
    out = runner.invoke(args=["rollover", "ledgers", "--from", "FY2026", "--to", "FY2028", "--rules", str(path)])
    assert out.exit_code != 0 and 'Fund A-BKS: "many" is not a percent' in out.output
    assert "--rules FILE.json" in runner.invoke(args=["rollover", "ledgers", "--help"]).output
