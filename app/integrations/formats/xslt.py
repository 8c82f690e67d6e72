"""Campus output templates: XSLT 1.0 stylesheets applied to our export files, sandboxed.

A stylesheet comes from an administrator, so it is treated as untrusted code:

- it is parsed with the safe parser (no entities resolved, no DTD loaded, no network) and one
  that declares a DTD is refused; it may be at most ``MAX_STYLESHEET_BYTES``;
- it is compiled and run under ``XSLTAccessControl.DENY_ALL``: ``document()``, ``xsl:include``,
  ``xsl:import`` and ``exsl:document`` can read or write no file and reach no network;
- it runs in a child process (this file, loaded alone) with a memory cap and a
  template depth limit, and the parent kills the child when one file takes longer than ``timeout``
  seconds: a stylesheet that never ends cannot hang a run or a page;
- its output may be at most ``max_output`` bytes.

:func:`check` compiles a stylesheet in this process (compiling runs none of it) and says what is
wrong; :class:`Transformer` applies one to many files through one child; :func:`transform` is one
file. Failures raise :class:`XSLTError` with a message a person can act on (lines where lxml
gives them).

The child talks over its stdin and stdout in frames (four bytes of big-endian length, then the
bytes): first the stylesheet and the limits (JSON), answered with ``{"ok": ext}`` or
``{"error": ...}``; then per file its bytes, answered with ``{"ok": ext}`` and a frame holding the
output, or ``{"error": ...}``.
"""
from __future__ import annotations

import json
import os
import select
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from lxml import etree

try:
    from ...text import T, Text, english, stored
except ImportError:   # the child process loads this file alone: it loads app/text.py (no Flask) alike
    import importlib.util as _util
    _spec = _util.spec_from_file_location("xslt_child_text", Path(__file__).resolve().parents[2] / "text.py")
    _text = _util.module_from_spec(_spec)
    _spec.loader.exec_module(_text)
    T, Text, english, stored = _text.T, _text.Text, _text.english, _text.stored

MAX_STYLESHEET_BYTES = 512 * 1024
MAX_OUTPUT_BYTES = 100 * 1024 * 1024
TIMEOUT_SECONDS = 30.0
MAX_DEPTH = 1000            # nested templates and calls; libxslt's own default is 3000
MEMORY_BYTES = 2 * 1024 ** 3   # the child's address space
XSL_NS = "http://www.w3.org/1999/XSL/Transform"
_SAFE = dict(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False)
_LENGTH = struct.Struct(">I")
# The child loads this file alone (not the app package: it needs lxml only, and starts fast).
_COMMAND = [sys.executable, "-c", "import importlib.util as u, sys; s = u.spec_from_file_location('xslt_child', "
            "sys.argv[1]); m = sys.modules['xslt_child'] = u.module_from_spec(s); s.loader.exec_module(m); "
            "sys.exit(m.main())",
            str(Path(__file__).resolve())]


class XSLTError(ValueError):
    """The stylesheet cannot be used, or failed on a file; the message says why (``text``: as given,
    a :class:`~app.text.Text` to record)."""

    @property
    def text(self):
        return self.args[0] if self.args else ""


def _error_answer(message) -> bytes:
    """The child's answer for a refusal: its English words and the Text to show translated."""
    return json.dumps({"error": english(message), "text": stored(message)}).encode()


def _refusal(answer: dict) -> "XSLTError":
    return XSLTError(Text.from_json(answer.get("text"), answer["error"]))


@dataclass(frozen=True)
class Output:
    content: bytes
    extension: str   # "xml", "csv" or "txt"


# -- compiling (both processes) --------------------------------------------------------------------

def _lines(log, limit: int = 5) -> str:
    out = []
    for entry in log:
        text = entry.message.strip()
        if not text:
            continue
        out.append(f"line {entry.line}: {text}" if entry.line and entry.line > 0 else text)
        if len(out) == limit:
            break
    return "; ".join(dict.fromkeys(out))


def _as_bytes(stylesheet: str | bytes) -> bytes:
    return stylesheet.encode("utf-8") if isinstance(stylesheet, str) else stylesheet


def _extension(root: etree._Element) -> str:
    """From the last ``xsl:output``: method text is csv when its media type says so, else txt."""
    method, media = "xml", ""
    for output in root.iterchildren(f"{{{XSL_NS}}}output"):
        method = output.get("method", method).strip()
        media = output.get("media-type", media).strip().lower()
    if method == "text":
        return "csv" if media in ("text/csv", "text/comma-separated-values") else "txt"
    if method == "html":
        raise XSLTError(T('xsl:output method="html" is not an ERP file; use "xml" or "text".'))
    return "xml"


def compile_stylesheet(stylesheet: str | bytes) -> tuple[etree.XSLT, str]:
    """The compiled stylesheet and its output's extension; raises :class:`XSLTError`."""
    data = _as_bytes(stylesheet)
    if not data.strip():
        raise XSLTError(T("The stylesheet is empty."))
    if len(data) > MAX_STYLESHEET_BYTES:
        raise XSLTError(T("The stylesheet is %(size)s bytes; at most %(max)s are accepted.", size=f"{len(data):,}",
                          max=f"{MAX_STYLESHEET_BYTES:,}"))
    try:
        doc = etree.fromstring(data, etree.XMLParser(**_SAFE))
    except etree.XMLSyntaxError as exc:
        raise XSLTError(T("The stylesheet is not well-formed XML: %(error)s", error=str(exc))) from None
    if doc.getroottree().docinfo.internalDTD is not None:
        raise XSLTError(T("The stylesheet declares a DTD (entities); a stylesheet may not."))
    if doc.tag not in (f"{{{XSL_NS}}}stylesheet", f"{{{XSL_NS}}}transform"):
        raise XSLTError(T("This is not an XSLT stylesheet: its root must be xsl:stylesheet (namespace %(namespace)s).",
                          namespace=XSL_NS))
    if doc.get("version", "").strip() != "1.0":
        raise XSLTError(T('Only XSLT 1.0 is supported; the stylesheet says version="%(version)s".',
                          version=doc.get("version", "")))
    for tag in ("include", "import"):
        found = doc.find(f"{{{XSL_NS}}}{tag}")
        if found is not None:
            raise XSLTError(T("line %(line)s: xsl:%(tag)s is not allowed; put everything in one stylesheet.",
                              line=found.sourceline, tag=tag))
    extension = _extension(doc)
    try:
        compiled = etree.XSLT(doc, access_control=etree.XSLTAccessControl.DENY_ALL)
    except etree.XSLTParseError as exc:
        raise XSLTError(T("The stylesheet does not compile: %(error)s", error=str(_lines(exc.error_log) or exc))) from None
    return compiled, extension


def check(stylesheet: str | bytes) -> str:
    """The output's extension when ``stylesheet`` compiles; raises :class:`XSLTError` otherwise."""
    return compile_stylesheet(stylesheet)[1]


def _apply(compiled: etree.XSLT, content: bytes, max_output: int) -> bytes:
    try:
        doc = etree.fromstring(content, etree.XMLParser(**_SAFE))
    except etree.XMLSyntaxError as exc:
        raise XSLTError(T("The export file is not well-formed XML: %(error)s", error=str(exc))) from None
    try:
        result = compiled(doc)
    except etree.XSLTApplyError as exc:
        detail = _lines(exc.error_log) or _lines(compiled.error_log) or str(exc)
        raise XSLTError(T("The stylesheet failed: %(error)s", error=detail)) from None
    if result.getroot() is None and not str(result):
        out = b""
    else:
        out = bytes(result)
    if len(out) > max_output:
        raise XSLTError(T("The stylesheet's output is %(size)s bytes; at most %(max)s are allowed.", size=f"{len(out):,}",
                          max=f"{max_output:,}"))
    return out


# -- the child -------------------------------------------------------------------------------------

def _write(out: BinaryIO, data: bytes) -> None:
    out.write(_LENGTH.pack(len(data)) + data)
    out.flush()


def _read(inp: BinaryIO) -> bytes | None:
    head = inp.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    data = inp.read(length)
    return data if len(data) == length else None


def main() -> int:
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    except (ImportError, ValueError, OSError):
        pass
    first = _read(inp)
    if first is None:
        return 0
    setup = json.loads(first)
    etree.XSLT.set_global_max_depth(int(setup["max_depth"]))
    try:
        compiled, extension = compile_stylesheet(setup["stylesheet"])
    except XSLTError as exc:
        _write(out, _error_answer(exc.text))
        return 0
    _write(out, json.dumps({"ok": extension}).encode())
    while True:
        content = _read(inp)
        if content is None:
            return 0
        try:
            result = _apply(compiled, content, int(setup["max_output"]))
        except XSLTError as exc:
            _write(out, _error_answer(exc.text))
        except MemoryError:
            _write(out, _error_answer(T("The stylesheet used too much memory.")))
        else:
            _write(out, json.dumps({"ok": extension}).encode())
            _write(out, result)


# -- the parent --------------------------------------------------------------------------------------

class Transformer:
    """Applies one stylesheet to many files through one child process (started on first use,
    started again after a file that timed out). Use as a context manager, or call :meth:`close`."""

    def __init__(self, stylesheet: str | bytes, timeout: float = TIMEOUT_SECONDS,
                 max_output: int = MAX_OUTPUT_BYTES, max_depth: int = MAX_DEPTH):
        self.stylesheet = _as_bytes(stylesheet).decode("utf-8", "replace")
        self.extension = check(stylesheet)   # a broken stylesheet fails here, with its lines
        self.timeout, self.max_output, self.max_depth = timeout, max_output, max_depth
        self._child: subprocess.Popen | None = None
        self._buffer = b""

    def __enter__(self) -> "Transformer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        try:
            child.stdin.close()
            child.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            child.kill()
            child.wait()
        finally:
            child.stdout.close()

    def _kill(self) -> None:
        child, self._child = self._child, None
        if child is not None:
            child.kill()
            child.wait()
            child.stdin.close()
            child.stdout.close()

    def _start(self) -> None:
        self._buffer = b""
        self._child = subprocess.Popen(_COMMAND, cwd="/", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        setup = {"stylesheet": self.stylesheet, "max_output": self.max_output, "max_depth": self.max_depth}
        self._send(json.dumps(setup).encode())
        answer = json.loads(self._receive(time.monotonic() + self.timeout))
        if "error" in answer:
            self._kill()
            raise _refusal(answer)

    def _send(self, data: bytes) -> None:
        try:
            self._child.stdin.write(_LENGTH.pack(len(data)) + data)
            self._child.stdin.flush()
        except OSError:
            self._kill()
            raise XSLTError(T("The stylesheet's process ended unexpectedly.")) from None

    def _take(self, count: int, deadline: float) -> bytes:
        fd = self._child.stdout.fileno()
        while len(self._buffer) < count:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                self._kill()
                raise XSLTError(T("The stylesheet ran longer than %(seconds)s seconds on one file and was "
                                  "stopped (an endless loop?).", seconds=f"{self.timeout:g}"))
            chunk = os.read(fd, max(65536, count - len(self._buffer)))
            if not chunk:
                code = self._child.poll()
                self._kill()
                if code is not None:
                    raise XSLTError(T("The stylesheet's process ended unexpectedly (exit status %(code)s). It may "
                                      "have used too much memory or recursed too deeply.", code=code))
                raise XSLTError(T("The stylesheet's process ended unexpectedly. It may have used too much memory "
                                  "or recursed too deeply."))
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _receive(self, deadline: float) -> bytes:
        (length,) = _LENGTH.unpack(self._take(_LENGTH.size, deadline))
        return self._take(length, deadline)

    def apply(self, content: bytes) -> Output:
        """``content`` transformed; raises :class:`XSLTError`."""
        if self._child is None:
            self._start()
        deadline = time.monotonic() + self.timeout
        self._send(content)
        answer = json.loads(self._receive(deadline))
        if "error" in answer:
            raise _refusal(answer)
        return Output(self._receive(deadline), answer["ok"])


def transform(stylesheet: str | bytes, content: bytes, timeout: float = TIMEOUT_SECONDS,
              max_output: int = MAX_OUTPUT_BYTES) -> Output:
    """One file transformed by ``stylesheet`` in a child process; raises :class:`XSLTError`."""
    with Transformer(stylesheet, timeout=timeout, max_output=max_output) as transformer:
        return transformer.apply(content)


def renamed(name: str, extension: str) -> str:
    """``INV_1.xml`` as the transformed file's name: the same stem, the output's extension."""
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem}.{extension}"
