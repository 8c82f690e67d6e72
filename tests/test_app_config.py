"""The app factory: configuration layers, SQLite settings, vendored htmx, security defaults."""
from __future__ import annotations

import hashlib
import pathlib

from sqlalchemy import text

from app import create_app
from app.extensions import db

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_environment_overrides_instance_config(tmp_path, monkeypatch, sqlite_template):
    db_file = tmp_path / "env.db"
    db_file.write_bytes(sqlite_template.read_bytes())
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", f"sqlite:///{db_file}")
    monkeypatch.setenv("FLASK_INSTITUTION_CURRENCY", "USD")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{db_file}"
    assert app.config["INSTITUTION_CURRENCY"] == "USD"
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    with app.app_context():
        pragmas = {name: db.session.execute(text(f"PRAGMA {name}")).scalar()
                   for name in ("journal_mode", "foreign_keys", "busy_timeout")}
        db.session.rollback()
    # outside a web request (jobs, commands): patient
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 60000}
    # inside a web request: a short wait, then a 503 "busy" (tests/database/test_busy.py)
    with app.test_request_context("/"):
        app.preprocess_request()
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        db.session.rollback()


def test_secret_key_generated_into_instance_when_missing(tmp_path, sqlite_template):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{sqlite_template}", "TESTING": True})
    key_file = pathlib.Path(app.instance_path) / "secret_key"
    assert app.config["SECRET_KEY"] == key_file.read_text().strip() and len(app.config["SECRET_KEY"]) == 64


def test_vendored_htmx_is_2_0_11():
    js = (ROOT / "app" / "static" / "htmx.min.js").read_bytes()
    assert b'version:"2.0.11"' in js
    assert hashlib.sha256(js).hexdigest() == "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def test_no_cdn_in_templates():
    for path in (ROOT / "app" / "templates").rglob("*.html"):
        body = path.read_text()
        assert "http://" not in body and "https://" not in body, path


def test_oversized_upload_is_a_clear_413(app, world):
    from tests.helpers import login
    client = login(app.test_client(), "admin")
    big = b"x" * (16 * 1024 * 1024 + 1)
    resp = client.post("/currency-rates/upload", data=big, content_type="application/octet-stream")
    assert resp.status_code == 413 and b"The upload is too large" in resp.data
