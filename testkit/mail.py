"""A real SMTP server on 127.0.0.1 for tests and benchmarks (aiosmtpd), keeping every message it
accepted; it can refuse chosen recipients with a chosen reply (550 for good, 450 for later)."""
from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller


@dataclass
class Collector:
    """An aiosmtpd handler keeping every envelope the server accepted."""
    refuse: dict[str, str] = field(default_factory=dict)   # recipient -> the server's reply
    envelopes: list = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted"

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes]


class SmtpServer:
    def __init__(self, port: int, refuse: dict[str, str] | None = None):
        self.port, self.handler, self.controller = port, Collector(refuse=dict(refuse or {})), None

    def start(self, **options) -> "SmtpServer":
        """``options`` go to aiosmtpd's Controller (e.g. an authenticator)."""
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def envelopes(self):
        return self.handler.envelopes

    @property
    def messages(self):
        return self.handler.messages
