"""Letter templates: the built-in ones render every kind; a template is checked before it is saved
(syntax errors and unknown fields with their line number); the sandbox keeps templates to their data."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.errors import DomainError
from app.letters import KINDS, PARTS
from app.letters.data import OrderLetter, OrderLine, Party, demo_context, order_context
from app.letters.render import LetterTemplateError, default_source, render_letter, validate_template


def _letter(currency="EUR", lines=None):
    lines = lines or (
        OrderLine(number="POL-1", title="Fish & <Chips>", author="Ray, J.", isbn="9780306406157", quantity=3,
                  list_price=Decimal("1234.5"), discount=Decimal("12.5"), net_price=Decimal("3240.56"),
                  reference="VR-9"),
        OrderLine(number="POL-2", title="Serial", issn="0317-8471", quantity=1, list_price=Decimal("10"),
                  net_price=Decimal("10")),
    )
    return OrderLetter(po_number="PO-77", letter_date=date(2026, 12, 5), currency=currency,
                       institution=Party("Uni Library", ("Main St 1",)), vendor=Party("Books & Co", ("Rue 2",)),
                       billing=Party("Finance office", ("Box 9",)), account_code="ACC-1", lines=lines)


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_has_three_default_parts_that_render_the_demo(kind):
    for part in PARTS:
        assert validate_template(kind, part, default_source(kind, part))
    letter = render_letter(kind, demo_context(kind))
    assert letter.subject and "\n" not in letter.subject
    assert "Demo Books Ltd" in letter.body_html and "<html" in letter.pdf_html


def test_order_context_formats_money_exactly_with_the_project_helpers():
    ctx = order_context(_letter())
    first, second = ctx["lines"]
    assert (first["list_price"], first["net_price"], first["discount"]) == ("1,234.50", "3,240.56", "12.5%")
    assert (second["discount"], second["issn"]) == ("0%", "0317-8471")
    assert ctx["totals"] == {"net": "3,250.56", "quantity": 4, "lines": 2}
    assert ctx["delivery"]["name"] == "Uni Library"          # no delivery address: the institution's
    assert ctx["billing"]["name"] == "Finance office"
    jpy = order_context(_letter("JPY", (OrderLine(number="L", title="T", quantity=2, list_price=Decimal("1500"),
                                                  net_price=Decimal("3000")),)))
    assert jpy["totals"]["net"] == "3,000" and jpy["lines"][0]["list_price"] == "1,500"


def test_body_and_pdf_are_html_escaped_subject_is_plain():
    letter = render_letter("po", order_context(_letter()))
    assert "Fish &amp; &lt;Chips&gt;" in letter.pdf_html and "<Chips>" not in letter.pdf_html
    assert "Books &amp; Co" in letter.body_html
    letter = render_letter("po", order_context(_letter()), {"subject": "Order {{ po.number }} for {{ vendor.name }}\n"})
    assert letter.subject == "Order PO-77 for Books & Co"


def test_saved_sources_replace_only_their_parts():
    letter = render_letter("claim", order_context(_letter()), {"body": "<p>{{ lines|length }} lines</p>"})
    assert letter.body_html == "<p>2 lines</p>"
    assert letter.subject.startswith("Claim: purchase order PO-77")


@pytest.mark.parametrize("source, line, words", [
    ("<p>ok</p>\n{% for l in lines %}\n{{ l.title }\n{% endfor %}", 3, "unexpected '}'"),
    ("line one\n{% if po.number %}\nno end", 2, "endif"),
    ("a\nb\n{{ po.numbr }}", 3, "numbr"),
    ("{{ vendor.name }}\n\n{{ supplier.name }}", 3, "supplier"),
])
def test_a_bad_template_is_refused_with_its_line_number(source, line, words):
    with pytest.raises(LetterTemplateError) as err:
        validate_template("po", "body", source)
    assert isinstance(err.value, DomainError) and err.value.field == "body"
    assert err.value.line == line and f"line {line}" in err.value.message and words in err.value.message


def test_an_empty_subject_and_unknown_kinds_are_refused():
    with pytest.raises(LetterTemplateError, match="empty subject"):
        validate_template("po", "subject", "{% if false %}x{% endif %}  ")
    with pytest.raises(DomainError):
        validate_template("invoice", "body", "x")
    with pytest.raises(DomainError):
        validate_template("po", "footer", "x")


@pytest.mark.parametrize("source", [
    "{{ config }}", "{{ request }}", "{{ session }}", "{{ g }}", "{{ url_for('x') }}",
    "{{ ''.__class__ }}", "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ po.__class__ }}", "{{ lines.__len__() }}", "{{ range.__globals__ }}", "{{ cycler }}", "{{ lipsum }}",
    "{{ joiner }}", "{{ namespace }}", "{{ dict }}",
    "{% include '/etc/passwd' %}", "{% import 'x.html' as x %}", "{% extends '/etc/hostname' %}",
    "{{ open('/etc/passwd').read() }}", "{{ lines.append(1) }}", "{{ po.update({'number': 1}) }}",
    "{{ po.pop('number') }}", "{{ 'x' * 100000000 }}", "{{ lines * 10000000 }}", "{{ 9 ** 9999999 }}",
    "{{ range(10000000)|list }}", "{{ ''.format.__globals__ }}", "{{ po|attr('__class__') }}",
])
def test_the_sandbox_keeps_a_template_to_its_data(source):
    with pytest.raises(LetterTemplateError) as err:
        validate_template("po", "body", source)
    assert err.value.line == 1


def test_formatting_str_methods_cannot_reach_internals():
    # str.format is sandboxed too: fields must not read attributes of the arguments' classes.
    with pytest.raises(LetterTemplateError):
        validate_template("po", "body", "{{ '{0.__class__}'.format(po) }}")
    assert validate_template("po", "body", "{{ '{} / {}'.format(po.number, currency) }}") == "PO-000001 / EUR"
