"""The S/FTP servers a test instance may connect to ("allowed S/FTP connections during testing").

On an instance whose ``INSTANCE_ENVIRONMENT`` is not ``production`` a connection is used only when
it is allowed: its code is in ``ERP_CONNECTION_ALLOWLIST`` (the config file), **or** its server
(host, and port unless the entry allows any port) is on the list kept here, which institution
administrators edit on the ERP pages. Either one is enough; neither: the connection refuses to
connect with a message saying how to allow it. A production instance uses every connection.
Entries are never erased: removing one records who removed it and when.
"""
from __future__ import annotations

import ipaddress
import re

from flask import current_app
from sqlalchemy import func, select

from ..auth.permissions import is_institution_admin
from ..clock import utcnow
from ..errors import Duplicate, Forbidden, InvalidInput, NotFound
from ..extensions import db
from ..text import T
from .models import AllowedHost, Connection

DEFAULT_PORTS = {"sftp": 22, "ftp": 21}
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")
PAGE_NAME = T("Allowed S/FTP servers")


def environment() -> str:
    return current_app.config.get("INSTANCE_ENVIRONMENT", "production")


# INSTANCE_ENVIRONMENT's usual values as the pages say them (another value is shown as it is).
ENVIRONMENTS = {"production": T("production"), "sandbox": T("sandbox"), "test": T("test"), "testing": T("testing"),
                "staging": T("staging"), "development": T("development"), "demo": T("demo")}


def environment_label(env: str | None = None) -> str:
    env = environment() if env is None else env
    return ENVIRONMENTS.get(env, env)


def config_codes() -> list[str]:
    return list(current_app.config.get("ERP_CONNECTION_ALLOWLIST") or [])


def active() -> list[AllowedHost]:
    return list(db.session.scalars(select(AllowedHost).where(AllowedHost.removed_at.is_(None))
                                   .order_by(AllowedHost.host, AllowedHost.port)))


def removed(limit: int = 20) -> list[AllowedHost]:
    return list(db.session.scalars(select(AllowedHost).where(AllowedHost.removed_at.is_not(None))
                                   .order_by(AllowedHost.removed_at.desc(), AllowedHost.id.desc()).limit(limit)))


def _host(text: str) -> str:
    host = text.strip().rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not host or len(host) > 255 or not _HOSTNAME.match(host):
        raise InvalidInput(T("“%(text)s” is not a host name or IP address (e.g. sftp.erp.example.edu, 192.0.2.10 "
                             "or [2001:db8::1]:2222).", text=text[:80]), "address")
    return host


def parse_address(text) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[ipv6]`` or ``[ipv6]:port`` → (host in lower case, port or None)."""
    text = str(text or "").strip()
    if not text:
        raise InvalidInput(T("Enter the server as host or host:port (e.g. sftp.erp.example.edu:22)."), "address")
    port_text = ""
    if text.startswith("["):
        host_text, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise InvalidInput(T("“%(text)s”: write an IPv6 address in brackets, e.g. [2001:db8::1]:22.", text=text[:80]),
                               "address")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host_text, _, port_text = text.partition(":")
    else:
        host_text = text   # a name, an IPv4 address, or an IPv6 address without a port
    if port_text or text.endswith(":"):
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise InvalidInput(T("“%(text)s”: the port is a number from 1 to 65535.", text=text[:80]), "address")
    return _host(host_text), int(port_text) if port_text else None


def require_admin(actor) -> None:
    if not is_institution_admin(actor):
        raise Forbidden(T("Only a general system administrator of the institution may change the allowed S/FTP "
                          "servers."))


def add(actor, address, note: str = "") -> AllowedHost:
    require_admin(actor)
    host, port = parse_address(address)
    note = " ".join(str(note or "").split())
    if len(note) > 200:
        raise InvalidInput(T("The note is longer than 200 characters."), "note")
    for entry in active():
        if entry.host == host and entry.port in (port, None):
            if entry.port is None and port is not None:
                raise Duplicate(T("%(address)s is already allowed (any port).", address=entry.address), "address")
            raise Duplicate(T("%(address)s is already allowed.", address=entry.address), "address")
    entry = AllowedHost(host=host, port=port, note=note, added_by_id=actor.id, added_at=utcnow())
    db.session.add(entry)
    db.session.flush()
    return entry


def remove(actor, entry_id: int) -> AllowedHost:
    require_admin(actor)
    entry = db.session.get(AllowedHost, entry_id)
    if entry is None or entry.removed_at is not None:
        raise NotFound(T("That server is not on the list (removed already?)."))
    entry.removed_at, entry.removed_by_id = utcnow(), actor.id
    db.session.flush()
    return entry


def server_of(connection: Connection) -> tuple[str, int] | None:
    if connection.kind not in DEFAULT_PORTS or not connection.host:
        return None
    return connection.host.strip().strip("[]").rstrip(".").lower(), connection.port or DEFAULT_PORTS[connection.kind]


def _host_listed(host: str, port: int) -> bool:
    try:
        host = str(ipaddress.ip_address(host))
    except ValueError:
        pass
    return bool(db.session.scalar(select(func.count(AllowedHost.id)).where(
        AllowedHost.removed_at.is_(None), AllowedHost.host == host,
        (AllowedHost.port.is_(None)) | (AllowedHost.port == port))))


def why_allowed(connection: Connection) -> str | None:
    """Why ``connection`` may be used on this (test) instance, or None when it may not."""
    if connection.code in config_codes():
        return "ERP_CONNECTION_ALLOWLIST"
    server = server_of(connection)
    if server is not None and _host_listed(*server):
        return "list"
    return None


def refusal(connection: Connection) -> str | None:
    """None when ``connection`` may be used here; else the message that says why not and how to
    allow it."""
    env = environment()
    if env == "production" or why_allowed(connection):
        return None
    server = server_of(connection)
    if server is None:
        return T("This is a %(environment)s instance: connection %(code)s is not on its allow-list, so it is not used. "
                 "To allow it, add its code to ERP_CONNECTION_ALLOWLIST in instance/config.py (a local folder has no "
                 "server to list).", environment=environment_label(env), code=connection.code)
    host = f"[{server[0]}]" if ":" in server[0] else server[0]
    return T("This is a %(environment)s instance: connection %(code)s (%(server)s) is not on its allow-list, so it is "
             "not used. To allow it, an administrator adds %(server)s on Administration › ERP integration › %(page)s, "
             "or its code to ERP_CONNECTION_ALLOWLIST in instance/config.py.", environment=environment_label(env),
             code=connection.code,
             server=f"{host}:{server[1]}", page=PAGE_NAME)
