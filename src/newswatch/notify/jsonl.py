"""Append alerts to a JSON-lines file: a durable local record other tools can tail."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from newswatch.notify.base import Delivery, DeliveryError
from newswatch.notify.blocks import SlackMessage, plain_text


class JsonlNotifier:
    """One JSON object per message; `find_sent` scans the file, so it can look back."""

    name = "jsonl"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def send(self, message: SlackMessage) -> Delivery:
        ts = f"local:{time.time():.6f}"
        payload = message.event_payload
        record = {
            "ts": ts,
            "sent_at": datetime.now(UTC).isoformat(),
            "channel": message.channel,
            "thread_ts": message.thread_ts,
            "event_type": (message.metadata or {}).get("event_type"),
            "alert_id": payload.get("alert_id"),
            "topic": payload.get("topic"),
            "url": payload.get("url"),
            "score": payload.get("score"),
            "text": plain_text(message),
            "message": message.model_dump(),
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(line)  # one write per record: lines never interleave
                    fh.flush()
                    os.fsync(fh.fileno())
        except OSError as exc:
            raise DeliveryError(
                f"jsonl failed: cannot append to {self.path}: {exc.strerror}", transient=True
            ) from exc
        return Delivery(channel=message.channel, ts=ts)

    def find_sent(
        self, channel: str, alert_id: str, oldest: float, thread_ts: str | None = None
    ) -> Delivery | None:
        """The last record for `alert_id` in `channel` (timestamps are ignored: all are local)."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DeliveryError(
                f"jsonl failed: cannot read {self.path}: {exc.strerror}", True
            ) from exc
        for line in reversed(lines):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a torn last line after a crash
                continue
            if record.get("alert_id") == alert_id and record.get("channel") == channel:
                return Delivery(channel=channel, ts=record["ts"])
        return None
