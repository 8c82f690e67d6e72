"""EDI invoice helpers: PO lines to invoice and builders for our own EDIFACT INVOIC test
interchanges (the vendors are the ``orders`` fixture's)."""
from __future__ import annotations

from app.extensions import db
from tests.orders.helpers import line


def pol(world, vendor, **kw):
    """A PO line of ``vendor`` (default: 2 copies at 20.00 in library A, fund A-BKS)."""
    kw.setdefault("price", "20.00")
    kw.setdefault("quantity", 2)
    made = line(world, world.user("admin"), vendor, **kw)
    db.session.commit()
    return made


def invoic(number: str, lines, *, ref: str = "1", doc: str = "380", day: str = "20260310", supplier: str = "EURV",
           currency: str = "EUR", charges=(), total: str | None = None, tax: str | None = None,
           header_tax: str | None = None) -> list[str]:
    """The segments of one INVOIC message. ``lines``: (POL number, quantity, unit price, line amount,
    VAT percent or None, VAT amount or None); ``charges``: (ALC code, "A"/"C", amount)."""
    segments = [f"UNH+{ref}+INVOIC:D:96A:UN:EAN008", f"BGM+{doc}+{number}+9", f"DTM+137:{day}:102",
                f"NAD+SU+{supplier}::92++Supplier?'s books", "NAD+BY+OURLIB::92++Our library", f"CUX+2:{currency}:4"]
    if header_tax is not None:
        segments.append(f"TAX+7+VAT+++:::{header_tax}+S")
    for code, kind, amount in charges:
        segments += [f"ALC+{kind}++++{code}", f"MOA+8:{amount}"]
    for n, (ref_pol, qty, price, amount, vat_pct, vat_amt) in enumerate(lines, 1):
        segments += [f"LIN+{n}++97800000000{n:02d}:EN", f"IMD+F+BTI+:::Title {n}", f"QTY+47:{qty}",
                     f"MOA+203:{amount}", f"PRI+AAA:{price}", f"RFF+LI:{ref_pol}"]
        if vat_pct is not None:
            segments += [f"TAX+7+VAT+++:::{vat_pct}+S", f"MOA+124:{vat_amt}"]
    segments += ["UNS+S"] + ([f"MOA+77:{total}"] if total is not None else []) + ([f"MOA+124:{tax}"] if tax else [])
    segments.append(f"UNT+{len(segments) + 1}+{ref}")
    return segments


def interchange(*messages: list[str], syntax: str = "UNOC", control: str = "IC0001") -> bytes:
    """A complete interchange (UNA, UNB … UNZ) of the given messages, one segment per line."""
    segments = [f"UNB+{syntax}:3+SUPPLIERGLN:14+OURLIB:14+260310:0900+{control}"]
    for message in messages:
        segments += message
    segments.append(f"UNZ+{len(messages)}+{control}")
    text = "UNA:+.? '" + "\n".join(s + "'" for s in segments) + "\n"
    return text.encode("utf-8" if syntax in ("UNOW", "UNOY") else "latin-1")


# -- untidy and broken files (issue 12, finding 4) ---------------------------------------------

def good_message(number: str, pol_number: str, ref: str = "1", amount: str = "40.00") -> list[str]:
    """One readable INVOIC message: two copies of ``pol_number`` at 20.00 (amount 40.00)."""
    return invoic(number, [(pol_number, 2, "20.00", amount, None, None)], ref=ref, total=amount)


def several_interchanges(*parts: bytes, between: bytes = b"\n") -> bytes:
    """Interchanges one after another in one file, ``between`` each (stray terminators, blank lines).
    Every interchange but the first loses its UNA, as most senders write them; pass raw bytes to keep it."""
    out = [parts[0]] + [p[9:] if p.startswith(b"UNA") else p for p in parts[1:]]
    return between.join(out)


TRUNCATED = b"UNA:+.? '"   # the file ends right after the service string advice: pydifact's StopIteration
TRUNCATED_AFTER_UNB = b"UNA:+.? 'UNB+UNOC:3+SUPPLIERGLN:14+OURLIB:14+260310:0900+IC9'UNH+1+INVOIC:D:96A:UN'BGM+380"
OVERFLOW = "12345678901234567890"   # MOA+203 beyond NUMERIC(14,2) and beyond SQLite's 64-bit cents
