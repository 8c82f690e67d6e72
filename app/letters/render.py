"""Rendering letter templates in Jinja's immutable sandbox, and checking a template before it is saved.

A template sees only its context (see :mod:`.data`) and the ``range`` global: no loader (so no
``include``, ``import`` or ``extends`` of files), no Flask globals, no ``config``, no attributes
starting with ``_``, no mutation of lists or dicts, and bounded ``*`` and ``**`` so a template cannot
build a huge string. Undefined names and attributes raise (``StrictUndefined``) instead of printing
nothing, so a misspelt field is found when the template is checked, with its line number.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from ..errors import InvalidInput
from ..text import T
from . import KINDS, LETTER_LANGUAGES, PARTS
from .data import demo_context

MAX_SOURCE = 200_000          # characters of one template
MAX_OUTPUT = 5_000_000        # characters a multiplication may produce (string or list repetition)
_TEMPLATE_FILE = "<template>"


class LetterTemplateError(InvalidInput):
    """A template that cannot be saved or rendered; ``line`` is its 1-based line, if known."""

    def __init__(self, message: str, part: str, line: int | None = None):
        name = PART_NAMES.get(part, part)
        if line:
            text = T("The %(part)s template, line %(line)s: %(problem)s", part=name, line=line, problem=message)
        else:
            text = T("The %(part)s template, %(problem)s", part=name, problem=message)
        super().__init__(text, part)
        self.line = line


PART_NAMES = {"subject": T("subject"), "body": T("body"), "pdf": T("pdf")}


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator_name, left, right):
        if operator_name == "**":
            if abs(right) > 64 if isinstance(right, (int, float)) else True:
                raise SecurityError("exponent too large")
            return operator.pow(left, right)
        if operator_name == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_OUTPUT:
                    raise SecurityError("the result would be too large")
            return operator.mul(left, right)
        return super().call_binop(context, operator_name, left, right)


@lru_cache(maxsize=None)
def _env(html: bool) -> _Sandbox:
    env = _Sandbox(autoescape=html, undefined=StrictUndefined, loader=None, auto_reload=False,
                   keep_trailing_newline=False)
    range_ = env.globals["range"]   # the sandbox's bounded range
    env.globals.clear()
    env.globals["range"] = range_
    return env


def _is_html(part: str) -> bool:
    return part != "subject"


def letter_language(language: str | None) -> str:
    """The language of the built-in templates a letter in ``language`` uses: its own when the
    application has letters in it (:data:`app.letters.LETTER_LANGUAGES`), else English."""
    return language if language in LETTER_LANGUAGES else "en"


def default_source(kind: str, part: str, language: str = "en") -> str:
    """The built-in template of ``kind`` and ``part`` in ``language``
    (``app/letters/defaults/<kind>.<part>.*`` in English, ``defaults/<language>/...`` otherwise)."""
    _check_names(kind, part)
    suffix = "txt" if part == "subject" else "html"
    folder = resources.files(__package__).joinpath("defaults")
    language = letter_language(language)
    if language != "en":
        folder = folder.joinpath(language)
    return folder.joinpath(f"{kind}.{part}.{suffix}").read_text("utf-8")


def _check_names(kind: str, part: str) -> None:
    if kind not in KINDS:
        raise InvalidInput(T("Unknown letter kind %(kind)s.", kind=repr(kind)), "kind")
    if part not in PARTS:
        raise InvalidInput(T("Unknown letter part %(part)s.", part=repr(part)), "part")


def _template_line(exc: BaseException) -> int | None:
    """The template line an error was raised on: Jinja rewrites tracebacks so template frames carry
    the template's file name and line."""
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


@lru_cache(maxsize=64)
def _compiled(source: str, html: bool):
    return _env(html).from_string(source)   # compiled under the file name "<template>"


def _compile(source: str, part: str):
    if len(source) > MAX_SOURCE:
        raise LetterTemplateError(T("is too long (at most %(n)s characters).", n=f"{MAX_SOURCE:,}"), part)
    try:
        return _compiled(source, _is_html(part))
    except TemplateSyntaxError as exc:
        raise LetterTemplateError(exc.message or T("has a syntax error."), part, exc.lineno) from None


def _render(template, context: dict, part: str) -> str:
    try:
        text = template.render(context)
    except SecurityError as exc:
        raise LetterTemplateError(T("uses something templates may not use (%(problem)s).", problem=str(exc)), part,
                                  _template_line(exc)) from None
    except TemplateError as exc:   # UndefinedError and the like
        raise LetterTemplateError(exc.message or str(exc), part, _template_line(exc)) from None
    except (ArithmeticError, TypeError, ValueError, LookupError) as exc:
        raise LetterTemplateError(T("fails: %(problem)s", problem=str(exc)), part, _template_line(exc)) from None
    if part == "subject":
        text = " ".join(text.split())
        if not text:
            raise LetterTemplateError(T("gives an empty subject."), part)
    return text


def validate_template(kind: str, part: str, source: str, language: str = "en") -> str:
    """Check ``source`` before it is saved: it must compile and render the kind's demo data (in
    ``language``). Returns the rendered demo text (the preview); raises :class:`LetterTemplateError`."""
    _check_names(kind, part)
    return _render(_compile(source, part), demo_context(kind, language), part)


@dataclass(frozen=True)
class Letter:
    kind: str
    subject: str
    body_html: str
    pdf_html: str


def render_letter(kind: str, context: dict, sources: dict[str, str] | None = None,
                  language: str | None = None) -> Letter:
    """Render the three parts of a letter; ``sources`` (part -> template) replaces the built-in
    templates for the parts it holds. ``context`` comes from :mod:`.data` (order_context, ...) and
    says the letter's language; the built-in templates are those of ``language`` (default: the
    context's)."""
    sources = sources or {}
    language = language or context.get("language") or "en"
    parts = {}
    for part in PARTS:
        _check_names(kind, part)
        source = sources.get(part) or default_source(kind, part, language)
        parts[part] = _render(_compile(source, part), context, part)
    return Letter(kind, parts["subject"], parts["body"], parts["pdf"])
