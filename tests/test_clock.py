"""The business day (app/clock.py): pinned for the whole session (tests/conftest.py), and every page,
service and child process follows the pin rather than the real date."""
from __future__ import annotations

import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from app import clock
from app.extensions import db
from app.funds import services as fs
from app.orders import services as os_
from tests.conftest import TODAY
from tests.helpers import login
from tests.orders.helpers import line, make_vendors

ROOT = Path(__file__).resolve().parent.parent


def test_the_session_pins_today_and_freeze_today_moves_it_for_a_block(monkeypatch):
    assert clock.today() == TODAY
    with clock.freeze_today(date(2030, 1, 2)) as day:
        assert day == clock.today() == date(2030, 1, 2)
        with clock.freeze_today(date(2031, 3, 4)):
            assert clock.today() == date(2031, 3, 4)
        assert clock.today() == date(2030, 1, 2)
    assert clock.today() == TODAY
    monkeypatch.setenv("ACQ_TODAY", "2029-05-06")
    assert clock.today() == date(2029, 5, 6)
    monkeypatch.setenv("ACQ_TODAY", "next tuesday")
    with pytest.raises(ValueError, match="ACQ_TODAY='next tuesday' is not a date"):
        clock.today()
    monkeypatch.delenv("ACQ_TODAY")
    assert clock.today() == date.today()      # nothing pinned: the real date
    with pytest.raises(TypeError):
        clock.freeze_today(datetime(2030, 1, 2, 10, 0))


def _options(html: str, select_id: str) -> str:
    return html.split(f'id="{select_id}"')[1].split("</select>")[0]


def test_pages_services_and_child_processes_follow_a_pinned_day(app, world, pin_today):
    """Pinned on 2027-03-10, with FY2027 opened beside FY2026: the fund pickers offer FY2027's funds,
    the current period is FY2027, a receipt defaults to that day, a line expected on 2027-03-01 is
    9 days late, and a process started now sees the same day."""
    admin, buyer = world.user("admin"), world.user("buyer")
    orders = make_vendors(world)
    fy27 = fs.create_fiscal_period(admin, "FY2027", "Fiscal year 2027", date(2027, 1, 1), date(2027, 12, 31))
    new = fs.create_fund(admin, fs.create_ledger(admin, "LEDA", "Ledger of A", fy27, "EUR"), "A-BKS27",
                         fs.FundFields(name="A books 2027"))
    fs.allocate(admin, new, "500.00", on=date(2027, 1, 1))
    late = line(world, buyer, orders.eur, title="Late book", expected_receipt_date=date(2027, 3, 1))
    os_.approve_po_line(buyer, late)
    os_.send_po_line(buyer, late)
    db.session.commit()
    # the session's day first: FY2026, its funds offered, nothing late
    assert fs.current_fiscal_period().code == "FY2026"
    buyer_client = login(app.test_client(), "buyer")
    assert "A-BKS — " in buyer_client.get("/orders/lines/new").get_data(as_text=True)
    assert late.number not in buyer_client.get("/orders/claims").get_data(as_text=True)

    pin_today(date(2027, 3, 10))
    assert fs.current_fiscal_period().code == "FY2027"
    assert [f.code for f in fs.chargeable_funds(admin, clock.today())] == ["A-BKS27"]
    po_form = buyer_client.get("/orders/lines/new").get_data(as_text=True)
    assert "A-BKS27 — A books 2027" in po_form and "A-BKS — " not in po_form
    invoicer = login(app.test_client(), "invoicer")
    picker = _options(invoicer.get("/invoices/new").get_data(as_text=True), "lines-0-fund_1")
    assert f'value="{new.id}"' in picker and f'value="{world.fund_a.id}"' not in picker
    shown = buyer_client.get(f"/orders/lines/{late.number}?tab=inventory").get_data(as_text=True)
    received = next(tag for tag in re.findall(r"<input[^>]*>", shown) if 'name="received_date"' in tag)
    assert 'value="2027-03-10"' in received
    claims = buyer_client.get("/orders/claims").get_data(as_text=True)
    assert late.number in claims and re.search(r'<td class="num">9</td>', claims)
    child = subprocess.run([sys.executable, "-c", "from app import clock; print(clock.today())"], cwd=ROOT,
                           capture_output=True, text=True, check=True)
    assert child.stdout.strip() == "2027-03-10"
