"""Invoice test data: vendors (one liable for VAT with a governmental vendor), invoices in a line."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.extensions import db
from app.vendors import services as vendors
from app.vendors.models import Vendor
from testkit.invoices import invoice, lines  # noqa: F401  (for the tests)


@dataclass
class Vendors:
    plain: Vendor      # PLAIN: not liable for VAT, no governmental vendor, EUR
    liable: Vendor     # LIABLE: liable for VAT, no governmental vendor
    gov: Vendor        # TAXOFF: the governmental vendor, VAT 20 %
    taxed: Vendor      # TAXED: liable for VAT, linked to TAXOFF
    exempt: Vendor     # EXEMPT: not liable, linked to TAXOFF
    usd: Vendor        # USDV: invoices in USD


def make_vendors(world) -> Vendors:
    admin = world.user("admin")
    mk = vendors.create_vendor
    plain = mk(admin, "PLAIN", vendors.VendorFields(name="Plain books", currency="EUR"))
    liable = mk(admin, "LIABLE", vendors.VendorFields(name="Liable books", currency="EUR", liable_for_vat=True))
    gov = mk(admin, "TAXOFF", vendors.VendorFields(name="Tax office", currency="EUR", is_governmental=True,
                                             vat_percent=Decimal("20.00")))
    taxed = mk(admin, "TAXED", vendors.VendorFields(name="Taxed books", currency="EUR", liable_for_vat=True,
                                              governmental_vendor="TAXOFF"))
    exempt = mk(admin, "EXEMPT", vendors.VendorFields(name="Exempt books", currency="EUR", governmental_vendor="TAXOFF"))
    usd = mk(admin, "USDV", vendors.VendorFields(name="Dollar books", currency="USD"))
    vendors.add_rate(admin, "USD", Decimal("0.92"), date(2026, 1, 1))
    db.session.commit()
    return Vendors(plain, liable, gov, taxed, exempt, usd)


