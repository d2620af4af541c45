"""What `newswatch check` verifies beyond the YAML: the store, the Slack token, the Prefect API.

Each check returns a `Finding` (ok or not, one line) so a user sees every setup
problem from one command instead of one per failed pass.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from newswatch.schema import Config
from newswatch.store import Store, StoreUnavailable

TEMPORARY_API = (
    "none set: `serve` starts a local Prefect server; `run` runs the pass without Prefect"
)


@dataclass(frozen=True)
class Finding:
    what: str
    ok: bool
    line: str


def check_store(config: Config) -> Finding:
    """Open the store (connect + schema check); the error is the one-line StoreUnavailable."""
    try:
        store = Store(config.settings.store.url)
    except StoreUnavailable as exc:
        return Finding("store", False, str(exc))
    try:
        where = store.engine.url.render_as_string(hide_password=True)
        return Finding("store", True, f"store OK: {where} ({store.engine.dialect.driver})")
    finally:
        store.close()


def check_slack(config: Config) -> Finding:
    """`auth.test` with the bot token, when one is set: an invalid token fails here, not at 3am."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError, SlackClientError

    from newswatch.notify import NotifierSetupError, slack_token

    s = config.settings.slack
    try:
        token = slack_token(s)
    except NotifierSetupError as exc:
        return Finding("slack", False, f"slack: {exc}")
    if not token:
        hook = "webhook $" + s.webhook_url_env if os.environ.get(s.webhook_url_env) else "stdout"
        return Finding("slack", True, f"slack: no token in ${s.token_env}; alerts go to {hook}")
    client = WebClient(token=token, base_url=s.base_url, timeout=10)
    try:
        r = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown error")
        return Finding("slack", False, f"slack: token in ${s.token_env} rejected: {error}")
    except (SlackClientError, OSError) as exc:
        return Finding("slack", False, f"slack: cannot reach {s.base_url}: {exc}")
    return Finding(
        "slack", True, f"slack OK: team {r.get('team')}, bot {r.get('user')} ({r.get('bot_id')})"
    )


def prefect_api() -> str | None:
    """The Prefect API the commands would use (env or profile), None for a local one."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


def configured_prefect_api() -> str | None:
    """PREFECT_API_URL from the environment or the active Prefect profile, else None.

    Read from the profiles file: importing Prefect's settings costs seconds, and inside a
    Prefect context they would name that context's server, not what a command will use.
    """
    if url := os.environ.get("PREFECT_API_URL"):
        return url
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or data.get("active", "ephemeral")
    profile = (data.get("profiles") or {}).get(active) or {}
    return str(profile["PREFECT_API_URL"]) if profile.get("PREFECT_API_URL") else None


def check_prefect() -> Finding:
    api = configured_prefect_api()
    return Finding("prefect", True, f"prefect API: {api or TEMPORARY_API}")
