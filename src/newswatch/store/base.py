"""The store's engine, schema check and the small SQL helpers its parts share."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, create_engine, insert, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from newswatch.store.errors import is_store_error, unavailable
from newswatch.store.tables import SCHEMA_VERSION, metadata, schema_info

IN_CHUNK = 500  # keys per IN (...) query: well under every driver's parameter limit


def _aware(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _insert_ignore(conn, table: Table, **values) -> bool:
    """INSERT that loses gracefully to a concurrent twin; True when this call inserted."""
    try:
        with conn.begin_nested():
            conn.execute(insert(table).values(**values))
    except IntegrityError:
        return False
    return True


def in_chunks(
    conn: Connection, keys: Iterable[str], query: Callable[[list[str]], Any]
) -> Iterator[Any]:
    """Rows of `query(chunk)` over `keys` (deduplicated) in IN-sized chunks."""
    unique = list(dict.fromkeys(keys))
    for i in range(0, len(unique), IN_CHUNK):
        yield from conn.execute(query(unique[i : i + IN_CHUNK]))


def _with_driver(url: str) -> str:
    """`postgresql://` means psycopg 3 (SQLAlchemy 2.1's default too); say so explicitly so
    the URL works the same on SQLAlchemy 2.0, whose default was psycopg2."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


@contextmanager
def joined(engine: Engine, conn: Connection | None) -> Iterator[Connection]:
    """The caller's connection (its transaction commits), else a transaction of our own."""
    if conn is not None:
        yield conn
        return
    with engine.begin() as own:
        yield own


class StoreBase:
    """Engine set-up and schema; the parts (articles, outbox, sources) share it."""

    url: str
    engine: Engine
    is_postgres: bool

    def __init__(self, url: str, *, create: bool = True):
        """Open (and by default migrate) the store; any connection problem is `StoreUnavailable`."""
        self.url = url
        try:
            self._open(url, create)
        except Exception as exc:
            if not (is_store_error(exc) or isinstance(exc, OSError)):
                raise
            with contextlib.suppress(Exception):
                self.engine.dispose()
            raise unavailable(exc, url) from exc

    def _open(self, url: str, create: bool) -> None:
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict = {"future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(_with_driver(url), **kwargs)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        if self.engine.dialect.name == "sqlite":
            from sqlalchemy import event

            @event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
                # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs:
                # take control so a transaction (and its savepoints) is one atomic unit.
                dbapi_conn.isolation_level = None
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()

            @event.listens_for(self.engine, "begin")
            def _sqlite_begin(conn):  # noqa: ANN001
                # IMMEDIATE: take the write lock up front, so two passes never both read
                # "no lead yet" and then race to write (SQLite has no row locks).
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        if create:
            self.migrate()

    # -- schema -----------------------------------------------------------------
    def migrate(self) -> None:
        """Create the schema, or check the stored version; a versioned table keeps it honest."""
        with self.engine.begin() as conn:
            if self.is_postgres:
                # serialise concurrent first starts of several workers
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(74657)")
            metadata.create_all(conn)
            version = conn.execute(select(schema_info.c.version)).scalar()
            if version is None:
                _insert_ignore(conn, schema_info, id=1, version=SCHEMA_VERSION)
            elif version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"store {self.url} has schema version {version}, newer than this "
                    f"newswatch ({SCHEMA_VERSION}); upgrade newswatch"
                )
            elif version < SCHEMA_VERSION:
                _upgrade(conn, version)

    def close(self) -> None:
        self.engine.dispose()


# Additive upgrades, oldest first: (version reached, columns added to existing tables).
# New tables need no entry: create_all above already made them.
UPGRADES: list[tuple[int, list[tuple[str, str, str]]]] = [
    (
        2,
        [
            ("alerts", "queued_at", "TIMESTAMP WITH TIME ZONE"),
            ("source_state", "degraded", "TEXT"),
            ("articles", "refetch_at", "TIMESTAMP WITH TIME ZONE"),
            ("articles", "refetch_tries", "INTEGER NOT NULL DEFAULT 0"),
        ],
    ),  # + table delivery_faults
]


def _upgrade(conn: Connection, version: int) -> None:
    """Bring an older store up to SCHEMA_VERSION by adding what is missing (never dropping)."""
    from sqlalchemy import inspect, update

    insp = inspect(conn)
    for target, columns in UPGRADES:
        if target <= version:
            continue
        for table, column, ddl in columns:
            if column not in {c["name"] for c in insp.get_columns(table)}:
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}")
    conn.execute(update(schema_info).values(version=SCHEMA_VERSION))
