"""Sending e-mail through the configured SMTP server (``MAIL_*`` settings in :mod:`app.config`).

:func:`send_mail` either hands the message to the server or raises :class:`DeliveryFailed` with
a sentence a person can act on; callers keep what they tried to send and may try again later.
"""
from __future__ import annotations

import mimetypes
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app


class DeliveryFailed(Exception):
    """The SMTP server could not be reached or refused the message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes

    @property
    def mime_type(self) -> tuple[str, str]:
        guessed, _ = mimetypes.guess_type(self.filename)
        maintype, _, subtype = (guessed or "application/octet-stream").partition("/")
        return maintype, subtype


def build_message(to_address: str, subject: str, body: str, attachments: tuple[Attachment, ...] = (),
                  sender: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender or current_app.config["MAIL_SENDER"]
    msg["To"] = to_address
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=_sender_domain(msg["From"]))
    msg.set_content(body)
    for attachment in attachments:
        maintype, subtype = attachment.mime_type
        msg.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return msg


def _sender_domain(sender: str) -> str:
    return sender.rpartition("@")[2].strip("> ") or "localhost"


def send(msg: EmailMessage) -> None:
    """Hand ``msg`` to the SMTP server; raises DeliveryFailed when it cannot be delivered."""
    cfg = current_app.config
    server, port = cfg["MAIL_SERVER"], int(cfg["MAIL_PORT"])
    try:
        with smtplib.SMTP(server, port, timeout=cfg["MAIL_TIMEOUT"]) as smtp:
            if cfg["MAIL_USE_TLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
            refused = smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryFailed("The mail server refused the recipient " + ", ".join(exc.recipients) + ".") from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryFailed("The mail server refused the configured user name or password.") from exc
    except smtplib.SMTPResponseException as exc:
        reason = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise DeliveryFailed(f"The mail server refused the message ({exc.smtp_code} {reason}).") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"The mail server {server}:{port} could not be reached ({_reason(exc)}).") from exc
    if refused:
        raise DeliveryFailed("The mail server refused the recipient " + ", ".join(refused) + ".")


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def send_mail(to_address: str, subject: str, body: str, attachments: tuple[Attachment, ...] = ()) -> EmailMessage:
    msg = build_message(to_address, subject, body, attachments)
    send(msg)
    return msg
