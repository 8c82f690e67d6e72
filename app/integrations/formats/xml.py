"""Safe XML parsing and XSD validation for files that come from, or go to, the ERP.

The parser never resolves entities, never reads the network, refuses huge trees, and documents
with a DTD are refused outright (none of our formats has one).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

from ...text import T

XSD_DIR = Path(__file__).parent / "xsd"
MAX_XML_BYTES = 50 * 1024 * 1024
_SAFE = dict(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False,
             remove_comments=True, remove_pis=True)


class XMLRefused(ValueError):
    """Not a well-formed, safe document of the expected kind; the message says why (``text``: as
    given, a :class:`~app.text.Text` to record)."""

    @property
    def text(self):
        return self.args[0] if self.args else ""


def safe_parser(**kw) -> etree.XMLParser:
    return etree.XMLParser(**{**_SAFE, **kw})


def parse(data: bytes, max_bytes: int = MAX_XML_BYTES) -> etree._Element:
    if not data or not data.strip():
        raise XMLRefused(T("The file is empty."))
    if len(data) > max_bytes:
        raise XMLRefused(T("The file is %(size)s bytes; at most %(max)s are accepted.", size=f"{len(data):,}",
                           max=f"{max_bytes:,}"))
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise XMLRefused(T("Not well-formed XML: %(error)s", error=str(exc))) from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise XMLRefused(T("The document declares a DTD; ERP files may not."))
    return root


@lru_cache(maxsize=None)
def schema(name: str) -> etree.XMLSchema:
    """The XSD ``xsd/<name>`` shipped with the app."""
    return etree.XMLSchema(etree.parse(str(XSD_DIR / name), safe_parser()))


def schema_errors(root: etree._Element, name: str) -> list[str]:
    """Validation errors against ``xsd/<name>`` as "line N: message" (empty: valid)."""
    xsd = schema(name)
    if xsd.validate(root):
        return []
    return [T("line %(line)s: %(message)s", line=e.line, message=e.message) for e in xsd.error_log]
