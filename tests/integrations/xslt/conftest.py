"""Fixtures for the campus stylesheet tests."""
import pytest


@pytest.fixture
def erp_app(app):
    app.config["ERP_TIMEOUT"] = 5
    return app
