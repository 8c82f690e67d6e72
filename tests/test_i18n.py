"""The interface's language: the user's choice, else the browser's Accept-Language, else the
institution's default; ``<html lang>`` follows; the catalogues are complete and compile."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from lxml import html

from app.extensions import db
from app.i18n import compile_catalogues
from tests.helpers import login

ROOT = Path(__file__).resolve().parent.parent


def _lang(resp) -> str:
    return html.fromstring(resp.data).get("lang")


def test_language_follows_the_browser_then_the_institution(app, make_app):
    client = app.test_client()
    assert _lang(client.get("/login")) == "en"
    assert _lang(client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})) == "zh-Hans"
    assert _lang(client.get("/login", headers={"Accept-Language": "zh-Hans"})) == "zh-Hans"
    assert _lang(client.get("/login", headers={"Accept-Language": "en-GB,zh;q=0.5"})) == "en"
    assert _lang(client.get("/login", headers={"Accept-Language": "fr-FR"})) == "en"
    chinese = make_app(DEFAULT_LANGUAGE="zh_Hans")
    assert _lang(chinese.test_client().get("/login", headers={"Accept-Language": "fr-FR"})) == "zh-Hans"
    assert _lang(chinese.test_client().get("/login", headers={"Accept-Language": "en"})) == "en"


def test_a_user_chooses_their_language(app, world):
    client = login(app.test_client(), "invoicer")
    page = client.get("/me", headers={"Accept-Language": "en"})
    assert _lang(page) == "en" and "Language of the pages" in page.text
    resp = client.post("/me/language", data={"language": "zh_Hans", "next": "/funds/"},
                       headers={"Accept-Language": "en"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/funds/"
    assert world.user("invoicer").language == "zh_Hans"
    page = client.get("/me", headers={"Accept-Language": "en"})   # the user's choice beats the browser's
    assert _lang(page) == "zh-Hans"
    assert "页面语言" in page.text and "页面现在使用简体中文。" in page.text
    # Back to the browser's language; a next that leaves the site goes to /me instead.
    resp = client.post("/me/language", data={"language": "", "next": "//evil.example/"})
    assert resp.headers["Location"] == "/me"
    db.session.expire_all()
    assert world.user("invoicer").language is None
    assert _lang(client.get("/me", headers={"Accept-Language": "zh-CN"})) == "zh-Hans"
    assert _lang(client.get("/me", headers={"Accept-Language": "en"})) == "en"
    # An unknown language is refused, and nothing changes.
    resp = client.post("/me/language", data={"language": "tlh"})
    assert resp.status_code == 422 and "Not a valid choice" in resp.text
    db.session.expire_all()
    assert world.user("invoicer").language is None
    # HTMX: the whole page changes language, so the answer is a redirect for htmx to follow.
    resp = client.post("/me/language", data={"language": "en"}, headers={"HX-Request": "true"})
    assert resp.status_code == 204 and resp.headers["HX-Redirect"] == "/me"


def test_catalogues_are_complete():
    """Every text the code marks for translation is in the catalogue and translated into Chinese
    (scripts/i18n check; run `scripts/i18n update`, then translate, when this fails)."""
    done = subprocess.run([str(ROOT / "scripts" / "i18n"), "check"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_catalogues_compile_when_missing_or_stale(tmp_path):
    shutil.copytree(ROOT / "app" / "translations", tmp_path / "t", ignore=shutil.ignore_patterns("*.mo"))
    mo = tmp_path / "t" / "zh_Hans" / "LC_MESSAGES" / "messages.mo"
    compile_catalogues(tmp_path / "t")
    assert mo.exists() and "语言".encode() in mo.read_bytes()
    first = mo.stat().st_mtime_ns
    compile_catalogues(tmp_path / "t")
    assert mo.stat().st_mtime_ns == first          # up to date: left alone
    po = mo.with_suffix(".po")
    os.utime(po, ns=(first + 10**9, first + 10**9))
    compile_catalogues(tmp_path / "t")
    assert mo.stat().st_mtime_ns > first
