"""Sending e-mail through the configured SMTP server (``MAIL_*`` settings in :mod:`app.config`).

:func:`send_mail` either hands the message to the server or raises :class:`DeliveryFailed` with
a sentence a person can act on; callers keep what they tried to send and may try again later.
With ``MAIL_SERVER`` empty nothing leaves the machine: each message is written as a ``.eml`` file
to ``MAIL_CATCH_ALL_FOLDER`` (default ``instance/mail``), readable by any mail program.
"""
from __future__ import annotations

import mimetypes
import os
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html.parser import HTMLParser
from pathlib import Path

from flask import current_app

from .clock import utcnow


class DeliveryFailed(Exception):
    """The SMTP server could not be reached or refused the message. ``permanent``: the server
    refused it for good (a 5xx answer): sending the same message again will not help."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


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
                  sender: str | None = None, html: str | None = None) -> EmailMessage:
    """``body`` is the plain text; ``html``, when given, the HTML alternative shown by mail programs."""
    msg = EmailMessage()
    msg["From"] = sender or current_app.config["MAIL_SENDER"]
    msg["To"] = to_address
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=_sender_domain(msg["From"]))
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for attachment in attachments:
        maintype, subtype = attachment.mime_type
        msg.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return msg


def _sender_domain(sender: str) -> str:
    return sender.rpartition("@")[2].strip("> ") or "localhost"


def catch_all_folder() -> Path:
    configured = current_app.config.get("MAIL_CATCH_ALL_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "mail"


def write_catch_all(msg: EmailMessage) -> Path:
    """Write ``msg`` as a new ``.eml`` file in the catch-all folder (``MAIL_SERVER`` empty)."""
    folder = catch_all_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%d-%H%M%S}-{secrets.token_hex(4)}.eml"
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        with os.fdopen(fd, "wb") as fh:
            fh.write(msg.as_bytes())
    except OSError as exc:
        raise DeliveryFailed(f"No mail server is configured (MAIL_SERVER) and the mail could not be written to "
                             f"{folder}: {exc.strerror or exc}.") from exc
    return folder / name


def _permanent(code) -> bool:
    return isinstance(code, int) and 500 <= code < 600


def send(msg: EmailMessage) -> None:
    """Hand ``msg`` to the SMTP server (or, with ``MAIL_SERVER`` empty, to the catch-all folder);
    raises DeliveryFailed when it cannot be delivered."""
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        write_catch_all(msg)
        return
    server, port = cfg["MAIL_SERVER"], int(cfg["MAIL_PORT"])
    try:
        with smtplib.SMTP(server, port, timeout=cfg["MAIL_TIMEOUT"]) as smtp:
            if cfg["MAIL_USE_TLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
            refused = smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        raise _refused(exc.recipients) from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryFailed("The mail server refused the configured user name or password.") from exc
    except smtplib.SMTPResponseException as exc:
        reason = _text(exc.smtp_error)
        raise DeliveryFailed(f"The mail server refused the message ({exc.smtp_code} {reason}).",
                             permanent=_permanent(exc.smtp_code)) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"The mail server {server}:{port} could not be reached ({_reason(exc)}).") from exc
    if refused:
        raise _refused(refused)


def _text(answer) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)


def _refused(recipients: dict) -> DeliveryFailed:
    """``recipients``: address -> (code, answer), as smtplib gives them."""
    answers = ", ".join(f"{address} ({code} {_text(answer)})" for address, (code, answer) in recipients.items())
    permanent = all(_permanent(code) for code, _ in recipients.values())
    return DeliveryFailed(f"The mail server refused the recipient {answers}.", permanent=permanent)


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def send_mail(to_address: str, subject: str, body: str, attachments: tuple[Attachment, ...] = (),
              html: str | None = None) -> EmailMessage:
    msg = build_message(to_address, subject, body, attachments, html=html)
    send(msg)
    return msg


# -- a plain-text alternative of an HTML body ----------------------------------------------------

_BLOCKS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "section",
           "header", "footer", "address", "blockquote", "pre", "hr"}
_SKIPPED = {"style", "script", "head", "title"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")

    def handle_endtag(self, tag):
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable plain text of ``html``: its words, one paragraph or table row a line."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = []
    for line in "".join(parser.parts).split("\n"):
        cells = [" ".join(cell.split()) for cell in line.split("\t")]
        text = "  ".join(c for c in cells if c)
        if text or (lines and lines[-1]):
            lines.append(text)
    return "\n".join(lines).strip() + "\n"
