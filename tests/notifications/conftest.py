"""Notifications fixtures: a real SMTP server on 127.0.0.1 (aiosmtpd) the app's mail goes to."""
from __future__ import annotations

import pytest

from tests.helpers import free_port
from testkit.mail import SmtpServer


@pytest.fixture
def smtp(app):
    server = SmtpServer(free_port())
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_TIMEOUT=5)
    server.start()
    yield server
    server.stop()
