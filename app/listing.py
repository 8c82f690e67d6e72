"""The filters the order-line and invoice lists share (words, status, vendor, fund, library) and
how a list page reads them from its query string."""
from dataclasses import dataclass

from .ids import parse_id


@dataclass
class ListFilter:
    q: str = ""
    status: str = ""
    vendor_id: int | None = None
    fund_id: int | None = None
    library_id: int | None = None

    @classmethod
    def from_args(cls, args, statuses, **more):
        """The filter a list page's query string ``args`` asks for: its words (at most 200 characters),
        a status among ``statuses`` (else none), the vendor, fund and library ids; ``more``: the rest."""
        return cls(q=(args.get("q") or "").strip()[:200],
                   status=args.get("status") if args.get("status") in statuses else "",
                   vendor_id=parse_id(args.get("vendor") or ""), fund_id=parse_id(args.get("fund") or ""),
                   library_id=parse_id(args.get("library") or ""), **more)
