"""Safe XML parsing and XSD validation for files that come from, or go to, the ERP.

The parser never resolves entities, never reads the network, refuses huge trees, and documents
with a DTD are refused outright (none of our formats has one).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

XSD_DIR = Path(__file__).parent / "xsd"
MAX_XML_BYTES = 50 * 1024 * 1024
_SAFE = dict(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False,
             remove_comments=True, remove_pis=True)


class XMLRefused(ValueError):
    """Not a well-formed, safe document of the expected kind; the message says why."""


def safe_parser(**kw) -> etree.XMLParser:
    return etree.XMLParser(**{**_SAFE, **kw})


def parse(data: bytes, max_bytes: int = MAX_XML_BYTES) -> etree._Element:
    if not data or not data.strip():
        raise XMLRefused("The file is empty.")
    if len(data) > max_bytes:
        raise XMLRefused(f"The file is {len(data):,} bytes; at most {max_bytes:,} are accepted.")
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise XMLRefused(f"Not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise XMLRefused("The document declares a DTD; ERP files may not.")
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
    return [f"line {e.line}: {e.message}" for e in xsd.error_log]
