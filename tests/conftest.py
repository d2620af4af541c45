"""Shared fixtures: real loopback servers, real stores (SQLite and PostgreSQL), real Prefect."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

# Before anything imports Prefect: no telemetry (no internet here) and a private home.
_PREFECT_HOME = tempfile.mkdtemp(prefix="newswatch-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.pop("SLACK_BOT_TOKEN", None)
os.environ.pop("SLACK_WEBHOOK_URL", None)
os.environ.pop("NEWSWATCH_STORE_URL", None)
os.environ.pop("NEWSWATCH_CONFIG_DIR", None)

import pytest  # noqa: E402
from site_server import Site, site  # noqa: E402,F401 - fixtures re-exported
from slack_server import SlackServer, slack_server  # noqa: E402,F401

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("NEWSWATCH_SHARED_DATA") or ROOT.parent / "shared" / "data")
PG_URL = os.environ.get(
    "NEWSWATCH_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, skipping the test when the shared data is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the shared test data is not next to this clone)")
    return path


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One real (ephemeral, in-process) Prefect API for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def embedder():
    from newswatch.embed import get_embedder

    return get_embedder()


def _pg_available() -> bool:
    try:
        import sqlalchemy as sa

        eng = sa.create_engine(PG_URL)
        with eng.connect() as conn:
            conn.execute(sa.text("select 1"))
        eng.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_available() -> bool:
    return _pg_available()


def pg_schema_url(schema: str) -> str:
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_url(pg_available) -> Iterator[str]:
    """A fresh PostgreSQL schema for one test (dropped after)."""
    if not pg_available:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL not reachable at {PG_URL} (CI must have it)")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    import sqlalchemy as sa

    schema = f"nw_{uuid.uuid4().hex[:12]}"
    eng = sa.create_engine(PG_URL)
    with eng.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield pg_schema_url(schema)
    finally:
        with eng.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        eng.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path) -> str:
    """Every store test runs on both SQLite and the PostgreSQL on 127.0.0.1:5432."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")
