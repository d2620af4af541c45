"""A local stand-in for the Slack Web API, spoken to by the real slack_sdk clients.

Tests exercise our notifier through `slack_sdk.WebClient` (retries, encodings,
error mapping) instead of mocking it, so the server mimics the parts of Slack
we depend on, including the ones that bite in production:

* `chat.postMessage` (JSON or form body) with token check, thread_ts, blocks,
  metadata and the Block Kit limits Slack enforces (`invalid_blocks`,
  `msg_too_long`);
* `conversations.history` returns top-level messages only, newest first, as
  Slack does (thread replies need `conversations.replies`);
* `chat.update` (edits a stored message in place; `edits` counts them), and
  `reply_broadcast` on thread replies (shown in channel history, as Slack does);
* `auth.test`, and incoming webhooks at `POST /webhook/<id>` answering `ok`;
* `reactions.add` / `reactions.remove` / `reactions.get` (by channel + timestamp, thread
  replies included) with Slack's errors (`already_reacted`, `no_reaction`,
  `message_not_found`); messages in `conversations.history` / `.replies` carry their
  `reactions` (`name`, `users`, `count`) as Slack's do. Analysts react with their own
  user token: `server.user_token("U0ALICE")`.

Fault injection: `fail_next`, `fail_all`/`recover`, `rate_limit_next` (429 +
Retry-After), `error_next`/`error_all` (HTTP 200 `ok: false` with any Slack error
code, optionally only for one method, one channel or messages matching a
predicate), workspace state (`missing_channels`, `not_in_channels`,
`archived_channels`, `missing_scopes`, a changed `token`) and `on_post`, a
hook run after a message is stored but before the response is written, so a
test can act in the window between "Slack has it" and "we know Slack has it".

    client = WebClient(token=server.token, base_url=server.api_url)
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

DEFAULT_TOKEN = "xoxb-newswatch-test-token"
TEAM_ID = "T0NEWSWATCH"
BOT_USER_ID = "U0NEWSBOT"
BOT_ID = "B0NEWSBOT"

HEADER_TEXT_MAX = 150
SECTION_TEXT_MAX = 3000
CONTEXT_ELEMENTS_MAX = 10
BLOCKS_MAX = 50
TEXT_MAX = 40000


def channel_id(name: str) -> str:
    """Stable Slack-like id for a channel name; ids ("C…") pass through unchanged."""
    name = name.strip()
    if name[:1] in "CGD" and name[1:].isalnum() and name.isupper() and len(name) >= 9:
        return name
    digest = hashlib.sha1(name.lstrip("#").lower().encode()).hexdigest().upper()
    return "C" + digest[:10]


@dataclass
class _Fault:
    remaining: int  # -1 = until recover()
    status: int
    retry_after: int | None = None
    method: str | None = None  # only requests to this API method ("webhook" for webhooks)
    error: str | None = None  # HTTP 200 {"ok": false, "error": error} (a Slack API error)
    channel: str | None = None  # only requests naming this channel
    when: Callable[[dict[str, Any]], bool] | None = None  # only requests whose params match
    extra: dict[str, Any] | None = None  # more fields in the error body (e.g. "needed")


@dataclass
class _Hook:
    callback: Callable[[dict[str, Any]], Any]
    once: bool


@dataclass
class SlackServer:
    """Threaded HTTP server on 127.0.0.1 with an ephemeral port; see module docstring."""

    token: str = DEFAULT_TOKEN
    messages: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    missing_channels: set[str] = field(default_factory=set)
    not_in_channels: set[str] = field(default_factory=set)  # the bot was never invited
    archived_channels: set[str] = field(default_factory=set)
    missing_scopes: set[str] = field(default_factory=set)  # e.g. {"channels:history"}
    user_tokens: dict[str, str] = field(default_factory=dict)  # token -> user id

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._hooks: list[_Hook] = []
        self._last_ts = 0.0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> SlackServer:
        handler = type("_BoundHandler", (_Handler,), {"server_state": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll
            name="slack-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SlackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        """What to pass as `WebClient(base_url=...)`."""
        return self.base_url + "/api/"

    def webhook_url(self, hook_id: str = "T0/B0/XXXX") -> str:
        return f"{self.base_url}/webhook/{hook_id}"

    def user_token(self, user_id: str) -> str:
        """A user token acting as `user_id` (e.g. for reactions.add), registered on first use."""
        token = f"xoxp-{user_id.lower()}"
        with self._lock:
            self.user_tokens[token] = user_id
        return token

    # -- fault injection -------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 500, method: str | None = None) -> None:
        """Answer the next `n` requests (optionally only to `method`) with `status`."""
        with self._lock:
            self._faults.append(_Fault(n, status, method=method))

    def fail_all(self, status: int = 500, method: str | None = None) -> None:
        """Answer every request with `status` until `recover()`."""
        with self._lock:
            self._faults.append(_Fault(-1, status, method=method))

    def rate_limit_next(self, n: int = 1, retry_after: int = 1, method: str | None = None) -> None:
        """Answer the next `n` requests with 429, `Retry-After` and `ratelimited`."""
        with self._lock:
            self._faults.append(_Fault(n, 429, retry_after=retry_after, method=method))

    def error_next(
        self,
        error: str,
        n: int = 1,
        method: str | None = None,
        channel: str | None = None,
        when: Callable[[dict[str, Any]], bool] | None = None,
        **extra: Any,
    ) -> None:
        """Answer the next `n` matching requests with HTTP 200 `{"ok": false, "error": error}`."""
        with self._lock:
            self._faults.append(_Fault(n, 200, None, method, error, channel, when, extra or None))

    def error_all(self, error: str, method: str | None = None, channel: str | None = None):
        """Answer every matching request with the Slack error `error` until `recover()`."""
        self.error_next(error, -1, method=method, channel=channel)

    def recover(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._faults.clear()

    def on_post(self, callback: Callable[[dict[str, Any]], Any], once: bool = False) -> None:
        """Run `callback(message)` after a post is stored, before the response is written.

        The client is still waiting, so it cannot have recorded the delivery yet:
        the callback can e.g. kill a worker to simulate a crash between send and
        mark. If the callback raises, the connection is dropped without an answer
        (the message stays posted): a lost response.
        """
        with self._lock:
            self._hooks.append(_Hook(callback, once))

    def clear_hooks(self) -> None:
        with self._lock:
            self._hooks.clear()

    # -- inspection helpers ----------------------------------------------------------------

    def channel_id(self, name: str) -> str:
        return channel_id(name)

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        cid = channel_id(channel)
        with self._lock:
            return [m for m in self.messages if m["channel"] == cid]

    def requests_to(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["method"] == method]

    # -- internals used by the handler -----------------------------------------------------

    def _take_fault(self, method: str, params: dict[str, Any] | None = None) -> _Fault | None:
        params = params or {}
        with self._lock:
            for fault in self._faults:
                if fault.method not in (None, method):
                    continue
                if fault.channel is not None and channel_id(
                    str(params.get("channel") or "")
                ) != channel_id(fault.channel):
                    continue
                if fault.when is not None and not fault.when(params):
                    continue
                if fault.remaining == 0:
                    continue
                if fault.remaining > 0:
                    fault.remaining -= 1
                return fault
            return None

    def _next_ts(self) -> str:
        with self._lock:
            now = max(time.time(), self._last_ts + 0.000001)
            self._last_ts = now
            return f"{now:.6f}"

    def _store(self, message: dict[str, Any]) -> None:
        with self._lock:
            self.messages.append(message)
            hooks = list(self._hooks)
            self._hooks = [h for h in self._hooks if not h.once]
        for hook in hooks:
            hook.callback(message)

    def _record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(entry)


def _block_problem(blocks: Any) -> str | None:
    """The subset of Slack's Block Kit validation our messages could trip."""
    if not isinstance(blocks, list):
        return "blocks must be a list"
    if len(blocks) > BLOCKS_MAX:
        return f"more than {BLOCKS_MAX} blocks"
    for i, block in enumerate(blocks):
        if not isinstance(block, dict) or "type" not in block:
            return f"block {i} has no type"
        kind = block["type"]
        text = block.get("text")
        if kind == "header":
            if not isinstance(text, dict) or text.get("type") != "plain_text":
                return f"header {i} needs plain_text"
            if not 1 <= len(text.get("text", "")) <= HEADER_TEXT_MAX:
                return f"header {i} text length must be 1..{HEADER_TEXT_MAX}"
        elif kind == "section":
            fields = block.get("fields") or []
            if text is None and not fields:
                return f"section {i} needs text or fields"
            for part in ([text] if text else []) + list(fields):
                if not 1 <= len(part.get("text", "")) <= SECTION_TEXT_MAX:
                    return f"section {i} text length must be 1..{SECTION_TEXT_MAX}"
            if len(fields) > 10:
                return f"section {i} has more than 10 fields"
            if any(len(f.get("text", "")) > 2000 for f in fields):
                return f"section {i} field longer than 2000"
        elif kind == "context":
            elements = block.get("elements") or []
            if not 1 <= len(elements) <= CONTEXT_ELEMENTS_MAX:
                return f"context {i} needs 1..{CONTEXT_ELEMENTS_MAX} elements"
            if any(len(e.get("text", "")) > SECTION_TEXT_MAX for e in elements):
                return f"context {i} element too long"
        elif kind not in ("divider", "rich_text", "actions", "image"):
            return f"unsupported block type {kind!r}"
    return None


def _jsonish(value: Any) -> Any:
    """Form bodies carry blocks/metadata as JSON strings; JSON bodies carry objects."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "yes")


class _Handler(BaseHTTPRequestHandler):
    server_state: SlackServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        pass

    # -- plumbing --------------------------------------------------------------------------

    def _params(self) -> dict[str, Any]:
        parts = urlsplit(self.path)
        params: dict[str, Any] = dict(parse_qsl(parts.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if raw and ctype == "application/json":
            body = json.loads(raw.decode("utf-8"))
            if isinstance(body, dict):
                params.update(body)
        elif raw:
            params.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        return params

    def _send(self, status: int, body: str, ctype: str, headers: dict[str, str] | None = None):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None):
        self._send(status, json.dumps(payload), "application/json; charset=utf-8", headers)

    # -- dispatch --------------------------------------------------------------------------

    def do_GET(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        state = self.server_state
        path = urlsplit(self.path).path
        if path.startswith("/api/"):
            method = path[len("/api/") :]
        elif path.startswith("/webhook/"):
            method = "webhook"
        else:
            self._send(404, "not found", "text/plain")
            return
        params = self._params()
        entry = {
            "method": method,
            "path": path,
            "params": params,
            "headers": dict(self.headers.items()),
            "at": time.monotonic(),
            "status": None,
        }
        state._record(entry)

        fault = state._take_fault(method, params)
        if fault is not None and fault.error:
            entry["status"] = 200
            self._json(200, {"ok": False, "error": fault.error, **(fault.extra or {})})
            return
        if fault is not None:
            entry["status"] = fault.status
            if method == "webhook":
                body = "rate_limited" if fault.status == 429 else "internal_error"
                extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after else None
                self._send(fault.status, body, "text/plain", extra)
                return
            if fault.status == 429:
                extra = {"Retry-After": str(fault.retry_after or 1)}
                self._json(429, {"ok": False, "error": "ratelimited"}, extra)
            else:
                self._json(fault.status, {"ok": False, "error": "fatal_error"})
            return

        try:
            if method == "webhook":
                status, _ = self._webhook(params)
                entry["status"] = status
                return
            if method == "auth.test":
                result = self._auth_test(params)
            elif method == "chat.postMessage":
                result = self._post_message(params)
            elif method == "chat.update":
                result = self._update_message(params)
            elif method == "conversations.history":
                result = self._history(params)
            elif method == "conversations.replies":
                result = self._replies(params)
            elif method in ("reactions.add", "reactions.remove", "reactions.get"):
                result = self._reactions(method, params)
            else:
                result = {"ok": False, "error": "unknown_method"}
        except _DropConnection:
            entry["status"] = "dropped"
            self.close_connection = True
            return
        entry["status"] = 200
        self._json(200, result)

    # -- API methods -----------------------------------------------------------------------

    def _auth_error(self, params: dict[str, Any]) -> dict[str, Any] | None:
        auth = self.headers.get("Authorization") or ""
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else params.get("token")
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token != self.server_state.token and token not in self.server_state.user_tokens:
            return {"ok": False, "error": "invalid_auth"}
        return None

    def _caller(self, params: dict[str, Any]) -> str:
        auth = self.headers.get("Authorization") or ""
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else params.get("token")
        return self.server_state.user_tokens.get(token or "", BOT_USER_ID)

    def _reactions(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if error := self._auth_error(params):
            return error
        cid, error = self._resolve_channel(params)
        if error:
            return error
        ts = params.get("timestamp")
        state = self.server_state
        with state._lock:
            message = next(
                (m for m in state.messages if m["channel"] == cid and m["ts"] == ts), None
            )
            if message is None:
                return {"ok": False, "error": "message_not_found"}
            if method == "reactions.get":
                return {
                    "ok": True,
                    "type": "message",
                    "channel": cid,
                    "message": self._as_slack(message, False),
                }
            name = (params.get("name") or "").strip(":")
            if not name:
                return {"ok": False, "error": "invalid_name"}
            user = self._caller(params)
            reactions = message.setdefault("reactions", [])
            entry = next((r for r in reactions if r["name"] == name), None)
            if method == "reactions.add":
                if entry is None:
                    entry = {"name": name, "users": []}
                    reactions.append(entry)
                if user in entry["users"]:
                    return {"ok": False, "error": "already_reacted"}
                entry["users"].append(user)
            else:
                if entry is None or user not in entry["users"]:
                    return {"ok": False, "error": "no_reaction"}
                entry["users"].remove(user)
                if not entry["users"]:
                    reactions.remove(entry)
        return {"ok": True}

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._auth_error(params) or {
            "ok": True,
            "url": "https://newswatch-test.slack.com/",
            "team": "newswatch-test",
            "user": "newswatch",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
        }

    def _resolve_channel(
        self, params: dict[str, Any], scope: str = "chat:write", posting: bool = False
    ) -> tuple[str | None, dict | None]:
        state = self.server_state
        if scope in state.missing_scopes:
            return None, {"ok": False, "error": "missing_scope", "needed": scope}
        name = params.get("channel")
        if not name:
            return None, {"ok": False, "error": "channel_not_found"}
        cid = channel_id(name)

        def among(names: set[str]) -> bool:
            return cid in {channel_id(c) for c in names}

        if among(state.missing_channels):
            return None, {"ok": False, "error": "channel_not_found"}
        if among(state.not_in_channels):
            return None, {"ok": False, "error": "not_in_channel"}
        if posting and among(state.archived_channels):
            return None, {"ok": False, "error": "is_archived"}
        return cid, None

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        if error := self._auth_error(params):
            return error
        cid, error = self._resolve_channel(params, posting=True)
        if error:
            return error
        text = params.get("text") or ""
        blocks = _jsonish(params.get("blocks"))
        metadata = _jsonish(params.get("metadata"))
        if not text and not blocks:
            return {"ok": False, "error": "no_text"}
        if len(text) > TEXT_MAX:
            return {"ok": False, "error": "msg_too_long"}
        if blocks is not None and (problem := _block_problem(blocks)):
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        if metadata is not None and not (
            isinstance(metadata, dict)
            and isinstance(metadata.get("event_type"), str)
            and isinstance(metadata.get("event_payload"), dict)
        ):
            return {"ok": False, "error": "invalid_metadata_format"}
        ts = self.server_state._next_ts()
        message: dict[str, Any] = {
            "channel": cid,
            "channel_name": params.get("channel"),
            "ts": ts,
            "thread_ts": params.get("thread_ts") or None,
            "reply_broadcast": _truthy(params.get("reply_broadcast", False)),
            "text": text,
            "blocks": blocks,
            "metadata": metadata,
            "unfurl_links": params.get("unfurl_links"),
            "via": "api",
        }
        try:
            self.server_state._store(message)
        except Exception as exc:  # the hook asked for a lost response
            raise _DropConnection from exc
        return {"ok": True, "channel": cid, "ts": ts, "message": self._as_slack(message, True)}

    def _update_message(self, params: dict[str, Any]) -> dict[str, Any]:
        """chat.update: replace a stored message's text/blocks/metadata, keep its ts."""
        if error := self._auth_error(params):
            return error
        cid, error = self._resolve_channel(params)
        if error:
            return error
        blocks = _jsonish(params.get("blocks"))
        if blocks is not None and (problem := _block_problem(blocks)):
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        state = self.server_state
        with state._lock:
            found = [
                m for m in state.messages if m["channel"] == cid and m["ts"] == params.get("ts")
            ]
            if not found:
                return {"ok": False, "error": "message_not_found"}
            message = found[0]
            message["text"] = params.get("text") or message["text"]
            if blocks is not None:
                message["blocks"] = blocks
            metadata = _jsonish(params.get("metadata"))
            if metadata is not None:
                message["metadata"] = metadata
            message["edits"] = message.get("edits", 0) + 1
        return {"ok": True, "channel": cid, "ts": message["ts"], "text": message["text"]}

    @staticmethod
    def _as_slack(message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "ts": message["ts"],
            "text": message["text"],
        }
        if message["blocks"] is not None:
            out["blocks"] = message["blocks"]
        if message["thread_ts"]:
            out["thread_ts"] = message["thread_ts"]
        if with_metadata and message["metadata"] is not None:
            out["metadata"] = message["metadata"]
        if message.get("reactions"):
            out["reactions"] = [
                {"name": r["name"], "users": list(r["users"]), "count": len(r["users"])}
                for r in message["reactions"]
            ]
        return out

    def _page(self, params: dict[str, Any], candidates: list[dict[str, Any]]) -> dict[str, Any]:
        inclusive = _truthy(params.get("inclusive", False))
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or 0) or float("inf")

        def in_range(ts: float) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        limit = max(1, min(int(params.get("limit") or 100), 999))
        with_meta = _truthy(params.get("include_all_metadata", False))
        chosen = [m for m in candidates if in_range(float(m["ts"]))]
        return {
            "chosen": chosen,
            "limit": limit,
            "with_meta": with_meta,
        }

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        if error := self._auth_error(params):
            return error
        cid, error = self._resolve_channel(params, scope="channels:history")
        if error:
            return error
        with self.server_state._lock:
            stored = [m for m in self.server_state.messages if m["channel"] == cid]
        # Slack's history holds top-level messages (incl. thread parents) and broadcasts only.
        top = [m for m in stored if not m["thread_ts"] or m["reply_broadcast"]]
        page = self._page(params, top)
        newest_first = sorted(page["chosen"], key=lambda m: float(m["ts"]), reverse=True)
        limit = page["limit"]
        return {
            "ok": True,
            "messages": [self._as_slack(m, page["with_meta"]) for m in newest_first[:limit]],
            "has_more": len(newest_first) > limit,
            "pin_count": 0,
            "response_metadata": {"next_cursor": ""},
        }

    def _replies(self, params: dict[str, Any]) -> dict[str, Any]:
        if error := self._auth_error(params):
            return error
        cid, error = self._resolve_channel(params, scope="channels:history")
        if error:
            return error
        parent = params.get("ts")
        with self.server_state._lock:
            stored = [m for m in self.server_state.messages if m["channel"] == cid]
        thread = [m for m in stored if m["ts"] == parent or m["thread_ts"] == parent]
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        page = self._page(params, thread)
        # Slack returns the parent first, then replies oldest first.
        ordered = sorted(page["chosen"], key=lambda m: float(m["ts"]))
        limit = page["limit"]
        return {
            "ok": True,
            "messages": [self._as_slack(m, page["with_meta"]) for m in ordered[:limit]],
            "has_more": len(ordered) > limit,
            "response_metadata": {"next_cursor": ""},
        }

    def _webhook(self, params: dict[str, Any]) -> tuple[int, str]:
        text = params.get("text") or ""
        blocks = _jsonish(params.get("blocks"))
        if not text and not blocks:
            self._send(400, "no_text", "text/plain")
            return 400, "no_text"
        if blocks is not None and _block_problem(blocks):
            self._send(400, "invalid_blocks", "text/plain")
            return 400, "invalid_blocks"
        hook_id = urlsplit(self.path).path[len("/webhook/") :]
        message = {
            "channel": f"webhook:{hook_id}",
            "channel_name": None,
            "ts": self.server_state._next_ts(),
            "thread_ts": None,
            "reply_broadcast": False,
            "text": text,
            "blocks": blocks,
            "metadata": _jsonish(params.get("metadata")),
            "unfurl_links": params.get("unfurl_links"),
            "via": "webhook",
        }
        try:
            self.server_state._store(message)
        except Exception:
            self.close_connection = True
            return 0, "dropped"
        self._send(200, "ok", "text/plain")
        return 200, "ok"


class _DropConnection(Exception):
    """An on_post hook raised: close the socket without answering."""


@pytest.fixture(name="slack_server")
def slack_server_fixture() -> Iterator[SlackServer]:
    """A started SlackServer, stopped after the test.

    Import either name into a conftest or test module; importing
    `slack_server_fixture` keeps linters quiet about the `slack_server` argument.
    """
    server = SlackServer().start()
    try:
        yield server
    finally:
        server.stop()


slack_server = slack_server_fixture
