"""Orders test data: vendors in EUR and USD, a USD rate, and a quick way to make PO lines."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.extensions import db
from app.orders import services as os_
from app.orders.models import POLine
from app.vendors import services as vs
from app.vendors.models import Vendor


@dataclass
class Orders:
    eur: Vendor     # vendor EURV, invoices in EUR
    usd: Vendor     # vendor USDV, prices in USD
    other: Vendor   # vendor OTHV, EUR, for vendor changes


def make_vendors(world) -> Orders:
    admin = world.user("admin")
    eur = vs.create_vendor(admin, "EURV", vs.VendorFields(name="Euro Books", currency="EUR"))
    usd = vs.create_vendor(admin, "USDV", vs.VendorFields(name="Dollar Books", currency="USD"))
    other = vs.create_vendor(admin, "OTHV", vs.VendorFields(name="Other Books", currency="EUR"))
    vs.add_account(admin, eur, "MAIN", "Main account")
    # 1 USD = 0.92 EUR (the world's institution currency is EUR)
    vs.add_rate(admin, "USD", Decimal("0.92"), date(2026, 1, 1))
    db.session.commit()
    return Orders(eur, usd, other)


def line(world, actor, vendor, *, price="100.00", quantity=1, funds=None, method="percent", library="a",
         **kw) -> POLine:
    """A PO line In Review: by default one copy of a 100.00 book in library A paid by A-BKS."""
    lib = {"a": world.lib_a, "b": world.lib_b, None: None}[library]
    if funds is None:
        fund = {"a": world.fund_a, "b": world.fund_b, None: world.shared}[library]
        funds = [(fund, "100")]
    fields = os_.POLineFields(
        vendor=vendor, title=kw.pop("title", "A book"), currency=kw.pop("currency", vendor.currency),
        list_price=price, quantity=quantity, owner_library=lib,
        inventory_library=kw.pop("inventory_library", lib or world.lib_a), distribution_method=method,
        distribution=[os_.Share(f, v) for f, v in funds], **kw)
    pol = os_.create_po_line(actor, fields)
    db.session.commit()
    return pol


def sent_line(world, actor, vendor, **kw) -> POLine:
    """A PO line (see :func:`line`) approved and sent by ``actor``, in its own PO; committed."""
    pol = line(world, actor, vendor, **kw)
    os_.approve_po_line(actor, pol)
    os_.send_po_line(actor, pol)
    db.session.commit()
    return pol


def confirmed(client) -> str:
    """The ``ready`` value of the packaging preview's confirm form (what "Package and send" posts)."""
    import re
    html = client.get("/orders/pos/package").data.decode()
    return re.search(r'name="ready" value="([0-9a-f]+)"', html).group(1)
