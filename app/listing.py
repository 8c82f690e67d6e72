"""What the list pages share: the filters (words, status, vendor, fund, library) read from a query
string, a case-insensitive substring match, sorting names and titles in the reader's language
(:func:`by_language`), one page of a sorted query, counted once, and the links of a list and of
its export."""
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import url_for

from .database import localized
from .extensions import db
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


def contains(column, word: str):
    """Case-insensitive substring match. SQLite's LIKE already ignores (ASCII) case, and
    SQLAlchemy's ILIKE would wrap every row's value in lower(), which costs on a big table."""
    like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if db.session.get_bind().dialect.name == "sqlite":
        return column.like(like, escape="\\")
    return column.ilike(like, escape="\\")


def by_language(column, descending: bool = False):
    """``column`` (a name or a title) as an ORDER BY term in the order of the reader's language:
    pinyin for Chinese (PostgreSQL's ICU ``zh-x-icu`` collation where the server has it, SQLite's
    ``zh_pinyin``), the database's own order for English. See :class:`app.database.localized`."""
    term = localized(column)
    return term.desc() if descending else term


@dataclass
class Page:
    """One page of rows, counted once (what the pager macro reads)."""
    items: list
    total: int
    page: int
    per_page: int = 25

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def page_of(query, total: int, number: int, per_page: int) -> Page:
    """Page ``number`` (kept within the pages there are) of the sorted ``query`` that has ``total`` rows."""
    number = min(max(number, 1), max(1, -(-total // per_page)))
    items = db.session.scalars(query.limit(per_page).offset((number - 1) * per_page)).all() if total else []
    return Page(items, total, number, per_page)


def list_links(endpoint: str, export_endpoint: str, params: dict, **values):
    """``(list_url, export_url)`` of a list whose filter and sort are ``params`` (empty values left
    out of the links): ``list_url(n=None, **change)`` is page ``n`` with some parameters changed (a
    new sort starts again at the first page), ``export_url(fmt)`` the export of the same rows.
    ``values``: what the endpoints' routes need besides (e.g. the fund's id)."""
    def list_url(n=None, **change):
        query = {**params, **change}
        if n and n > 1:
            query["page"] = n
        query = urlencode({k: v for k, v in query.items() if v not in (None, "")})
        return url_for(endpoint, **values) + ("?" + query if query else "")

    def export_url(fmt):
        return url_for(export_endpoint, fmt=fmt, **values, **{k: v for k, v in params.items() if v not in (None, "")})

    return list_url, export_url
