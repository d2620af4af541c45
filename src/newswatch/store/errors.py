"""A store that cannot be used, said in one line: which setting, which host, what went wrong.

Every caller (the CLI's store check, `run_pass` when the database goes away mid-pass,
the outbox) turns a driver or SQLAlchemy error into `StoreUnavailable` with the same
message, so a user sees `store.url (postgresql://app@db:5432/news): cannot connect: ...`
instead of a traceback. The password is never part of the message.
"""

from __future__ import annotations

import os
import re

from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
)

from newswatch.schema import STORE_URL_ENV

# psycopg/psycopg2 wrap the server's answer in boilerplate; keep the part that says why
_NOISE = re.compile(r"^(connection failed:\s*|FATAL:\s*|ERROR:\s*|\(\S+\)\s*)+", re.I)
_DRIVERS = {"psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary"}


class StoreUnavailable(RuntimeError):
    """The store cannot be opened or went away; `str()` is the one-line reason."""

    def __init__(self, message: str, *, setting: str = "store.url", where: str = ""):
        super().__init__(message)
        self.setting = setting
        self.where = where


def store_setting(url: str) -> str:
    """Which setting the user would fix: the env var when it supplied this URL."""
    return STORE_URL_ENV if os.environ.get(STORE_URL_ENV) == url else "store.url"


def safe_location(url: str) -> str:
    """The URL without its password (host, port and database stay: they are the clue)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not parseable: show the scheme only, it may hold a secret
        return url.split("://", 1)[0] + "://…" if "://" in url else "(unparseable URL)"


def is_store_error(exc: BaseException) -> bool:
    """True for "the database is not reachable / usable", not for a bug in our SQL."""
    if isinstance(exc, StoreUnavailable | OperationalError | InterfaceError | NoSuchModuleError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, ModuleNotFoundError | ArgumentError)


def _cause(exc: BaseException, url: str) -> str:
    if isinstance(exc, StoreUnavailable):
        return str(exc)
    if isinstance(exc, ModuleNotFoundError):
        name = (exc.name or "").split(".")[0] or "the driver"
        hint = f"pip install {_DRIVERS.get(name, name)}"
        return f"database driver {name!r} is not installed ({hint}, or write postgresql://)"
    if isinstance(exc, NoSuchModuleError):
        scheme = url.split("://", 1)[0]
        return f"unknown database driver in {scheme!r} (use postgresql:// or sqlite:///PATH)"
    if isinstance(exc, ArgumentError):
        return "not a valid database URL (e.g. postgresql://user@host:5432/db)"
    if isinstance(exc, OSError) and not isinstance(exc, ConnectionError):
        return f"{exc.filename}: {exc.strerror or exc}" if exc.filename else str(exc)
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    if isinstance(exc, DBAPIError) and exc.connection_invalidated and not text:
        text = "the connection to the database was lost"
    lines = [_NOISE.sub("", ln).replace("FATAL:  ", "").strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith(("[SQL:", "(Background on"))]
    first = lines[0] if lines else type(orig).__name__
    if len(lines) > 1 and first.endswith("failed:"):  # psycopg puts the reason next line
        first = f"{first} {lines[1]}"
    return first.rstrip(".")


def describe_store_error(exc: BaseException, url: str, setting: str | None = None) -> str:
    """One line: `store.url (postgresql://app@db:5432/news): cannot use the store: <cause>`."""
    if isinstance(exc, StoreUnavailable):
        return str(exc)
    setting = setting or store_setting(url)
    return f"{setting} ({safe_location(url)}): cannot use the store: {_cause(exc, url)}"


def unavailable(exc: BaseException, url: str, setting: str | None = None) -> StoreUnavailable:
    """The `StoreUnavailable` to raise `from exc` (keeps the driver error as its cause)."""
    if isinstance(exc, StoreUnavailable):
        return exc
    setting = setting or store_setting(url)
    return StoreUnavailable(
        describe_store_error(exc, url, setting), setting=setting, where=safe_location(url)
    )
