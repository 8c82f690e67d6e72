"""The stylesheets shipped in docs/xslt, applied to real export files."""
from __future__ import annotations

from pathlib import Path

from app.integrations.formats.xslt import transform
from tests.integrations.xslt.samples import many, several

DOCS = Path(__file__).resolve().parents[3] / "docs" / "xslt"


def _sheet(name: str) -> str:
    return (DOCS / name).read_text()


def test_voucher_csv():
    out = transform(_sheet("voucher-csv.xsl"), several())
    assert out.extension == "csv"
    assert out.content.decode() == (
        "voucher_id,invoice_number,vendor,invoice_date,due_date,currency,line,fund,amount\r\n"
        "1000000000000001,INV-1,ACME,2026-03-02,,EUR,1,F-BOOKS,100.00\r\n"
        "1000000000000001,INV-1,ACME,2026-03-02,,EUR,2,F-BOOKS,20.50\r\n"
        "1000000000000001,INV-1,ACME,2026-03-02,,EUR,2,F-SERIALS,9.45\r\n"
        '1000000000000002,"A ""big"", one",V000123,2026-12-31,2027-01-30,USD,1,F-SERIALS,1234.56\r\n'
        "1000000000000003,CN-7,ACME,2026-04-05,,EUR,1,F-BOOKS,-15.00\r\n")


def test_ap_fixed_width():
    out = transform(_sheet("ap-fixed-width.xsl"), several())
    assert out.extension == "txt"
    records = out.content.decode().split("\n")
    assert records[-1] == "" and all(len(r) == 80 for r in records[:-1])
    assert [r.rstrip() for r in records[:-1]] == [
        "H20260302000003",
        "IACME      INV-1               20260302EUR0000000129951000000000000001",
        "D0001F-BOOKS         000000010000",
        "D0002F-BOOKS         000000002050",
        "D0002F-SERIALS       000000000945",
        'IV000123   A "big", one        20261231USD0000001234561000000000000002',
        "D0001F-SERIALS       000000123456",
        "IACME      CN-7                20260405EUR-000000015001000000000000003",
        "D0001F-BOOKS         -00000001500",
        "T000010000000000134951",
    ]


def test_a_thousand_invoice_export():
    content = many(1000)
    csv = transform(_sheet("voucher-csv.xsl"), content).content.decode().split("\r\n")
    assert len(csv) == 1 + 2000 + 1 and csv[-1] == ""
    assert csv[1] == "2000000000000001,B-1,ACME,2026-02-02,,EUR,1,F-BOOKS,1.25"
    assert csv[2000] == "2000000000001000,B-1000,ACME,2026-05-21,,EUR,1,F-SERIALS,0.10"
    fixed = transform(_sheet("ap-fixed-width.xsl"), content).content.decode().split("\n")
    assert len(fixed) == 1 + 1000 * 3 + 1 + 1
    # Every invoice is n.25 + 0.10: the total is the sum of n for 1..1000 plus 1000 x 0.35.
    total_cents = (1000 * 1001 // 2) * 100 + 1000 * 35
    assert fixed[-2].rstrip() == f"T{3002:06d}{total_cents:015d}"
