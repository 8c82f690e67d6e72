"""app.text: a sentence made below the pages is English as a value (JSON, the API, logs, comparisons)
and is shown in the reader's language; stored with its arguments it is shown translated later."""
from __future__ import annotations

import json
from decimal import Decimal

from flask_babel import force_locale, refresh

from app.errors import RuleViolation
from app.text import T, Text, Tn, stored
from tests.helpers import login

CHINESE = {"Accept-Language": "zh-CN"}


def test_outside_an_application_a_text_is_english():
    text = T("The pages are now in %(language)s.", language="English")
    assert str(text) == text == "The pages are now in English."
    assert f"{text}" == "The pages are now in English."
    assert json.dumps({"m": text}) == '{"m": "The pages are now in English."}'


def test_a_text_is_shown_in_the_language_of_the_request(app):
    text = T("The pages are now in %(language)s.", language=T("Language"))
    with app.test_request_context("/", headers=CHINESE):
        assert str(text) == "页面现在使用语言。"            # the argument is translated too
        assert f"[{text}]" == "[页面现在使用语言。]"
        assert text.__html__() == "页面现在使用语言。"
        assert text == "The pages are now in Language."      # its value stays English
        assert json.dumps(text) == '"The pages are now in Language."'
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        refresh()   # the test's app context outlives the request: forget the language it chose
        assert str(text) == "The pages are now in Language."
    with app.test_request_context("/api/v1/funds", headers=CHINESE):
        refresh()
        assert str(text) == "The pages are now in Language."  # the API answers in English
    refresh()
    with force_locale("zh_Hans"):
        assert str(T("Language")) == "语言"


def test_plural_and_figures_are_parameters():
    assert Tn("%(num)d line", "%(num)d lines", 1) == "1 line"
    assert Tn("%(num)d line", "%(num)d lines", 3) == "3 lines"
    assert T("Paid %(amount)s.", amount=Decimal("12.50")) == "Paid 12.50."


def test_stored_and_shown_later(app):
    text = T("The pages are now in %(language)s.", language=T("Language"))
    kept = json.loads(json.dumps(stored(text)))
    again = Text.from_json(kept, "fallback")
    assert again == text
    with app.test_request_context("/", headers=CHINESE):
        refresh()
        assert str(again) == "页面现在使用语言。"
    assert stored("plain") is None
    assert Text.from_json(None, "as it was") == "as it was"
    # A sentence whose arguments no longer fit shows the stored English instead of failing.
    assert Text.from_json({"id": "%(n)d rows", "args": {"n": "x"}}, "3 rows") == "3 rows"


def test_a_domain_error_is_worded_when_raised_and_keeps_its_text(app):
    with app.test_request_context("/", headers=CHINESE):
        refresh()
        error = RuleViolation(T("Language"), "language")
    assert error.message == "语言" and error.text == "Language" and isinstance(error.text, Text)


def test_the_header_switch_changes_the_language(app, world):
    client = app.test_client()
    page = client.get("/login")
    assert 'lang="en"' in page.text and "简体中文" in page.text
    # Before logging in: kept in the session, back to the page the person was on.
    resp = client.post("/language", data={"language": "zh_Hans", "next": "/login?next=/funds/"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login?next=/funds/"
    page = client.get("/login")
    assert 'lang="zh-Hans"' in page.text and ">English</button>" in page.text
    assert client.post("/language", data={"language": "tlh", "next": "//evil.example/"}).headers["Location"] == "/login"
    # Signed in: saved to the person's profile.
    client = login(app.test_client(), "viewer")
    page = client.get("/funds/")
    assert 'action="/me/language"' in page.text and 'name="next" value="/funds/"' in page.text
    client.post("/me/language", data={"language": "zh_Hans", "next": "/funds/"})
    assert world.user("viewer").language == "zh_Hans"
    assert 'lang="zh-Hans"' in client.get("/funds/", headers={"Accept-Language": "en"}).text


def test_a_plural_with_more_figures_than_its_count(app):
    text = Tn("%(num)d line of %(vendor)s", "%(num)d lines of %(vendor)s", 2, vendor="EURV")
    assert text == "2 lines of EURV"
    with app.test_request_context("/", headers=CHINESE):
        refresh()
        assert str(text) == "2 lines of EURV"   # not in the catalogue: the English, its figures filled in


def test_stored_english_sentences_are_shown_in_the_readers_language(app):
    from app.text import StoredSentences
    sentences = StoredSentences(fixed=[T("Language")], patterns=[(r"in (?P<language>\w+)", T("The pages are now in %(language)s."))],
                                arguments=lambda g: None if g["language"] == "Klingon" else g)
    with app.test_request_context("/", headers=CHINESE):
        refresh()
        assert str(sentences.shown("Language")) == "语言"
        assert str(sentences.shown("in English")) == "页面现在使用English。"
        assert sentences.shown("in Klingon") == "in Klingon"           # refused by its arguments: as stored
        assert sentences.shown("typed by a person") == "typed by a person"
        assert sentences.shown("") == ""
