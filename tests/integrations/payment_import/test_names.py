"""Which remote files the import takes: unsafe names are skipped and logged (FIL-13), uploads in
progress (``.part``, a file still growing) are never opened (FIL-03). Local-folder connection: names
a real SFTP server would not let us create."""
import pytest
from sqlalchemy import func, select

from app.extensions import db
from jobs import import_payments as payment_import
from app.integrations.models import HandledFile
from app.integrations.paths import is_candidate
from app.invoices.models import Invoice
from testkit.erp import erp_profile, local_connection
from tests.integrations.payment_import.helpers import confirmation, drop, paid, run_import, waiting

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.mark.parametrize("name,ok", [
    ("pay.xml", True), ("PAY.XML", True), ("pay 2.xml", True),
    ("../x.xml", False), ("a/b.xml", False), ("a\\b.xml", False), (".hidden", False), (".hidden.xml", False),
    ("x.xml\n", False), ("..x.xml", False), ("pay.xml.part", False), ("pay.xml.tmp", False),
    ("pay.xml.handled", False), ("pay.xml.rejected", False), ("pay.csv", False), ("p\u00e4y.xml", False),
])
def test_candidate_names(name, ok):
    assert is_candidate(name, (".xml",)) is ok


@pytest.fixture
def local(app, world, tmp_path):
    admin = world.user("admin")
    conn, root = local_connection(admin, tmp_path / "erp")
    erp_profile(admin, conn, folder_root=root)
    db.session.commit()
    return root / "payments" / "in"


@SQLITE
def test_unsafe_and_unfinished_names_are_skipped(app, world, vendors, local):
    (a,) = waiting(world, vendors.plain, ["N-1"])
    data = confirmation([paid(a)])
    for name in (".hidden.xml", "x.xml\n", "..x.xml", "pay.xml.part", "pay.xml.tmp", "notes.txt"):
        drop(local, name, data)
    res = run_import(app)
    assert res.run.files == 0 and db.session.get(Invoice, a.id).status == "waiting_for_payment"
    skipped = " ".join(res.messages("warning"))
    for name in (".hidden.xml", "x.xml\\n", "..x.xml"):
        assert f"Skipped the file '{name}'" in skipped, res.text()
    assert any("pay.xml.part alone" in m for m in res.messages("info"))
    assert sorted(p.name for p in local.iterdir()) == sorted(
        [".hidden.xml", "x.xml\n", "..x.xml", "pay.xml.part", "pay.xml.tmp", "notes.txt"])

    (local / "pay.xml.part").rename(local / "pay.xml")     # the upload finished
    res = run_import(app)
    assert res.run.files == 1 and db.session.get(Invoice, a.id).status == "closed", res.text()


@SQLITE
def test_a_growing_file_is_left_for_the_next_run(app, world, vendors, local, monkeypatch):
    (a,) = waiting(world, vendors.plain, ["G-1"])
    data = confirmation([paid(a)])
    drop(local, "pay.xml", data[:40])

    def writer_appends(seconds):
        with open(local / "pay.xml", "ab") as fh:
            fh.write(data[40:80])
    monkeypatch.setattr(payment_import, "_sleep", writer_appends)
    res = run_import(app, settle_seconds=1)
    assert res.run.files == 0 and any("still changing" in m for m in res.messages("info")), res.text()
    assert db.session.scalar(select(func.count()).select_from(HandledFile)) == 0

    drop(local, "pay.xml", data)                 # complete now, and stable while we wait
    monkeypatch.setattr(payment_import, "_sleep", lambda s: None)
    res = run_import(app, settle_seconds=1)
    assert res.run.files == 1 and db.session.get(Invoice, a.id).status == "closed", res.text()
    res = run_import(app, settle_seconds=1)
    assert res.run.files == 0
