"""Print alerts to the terminal: the no-Slack default, handy for trying topics out."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from newswatch.notify.base import Delivery
from newswatch.notify.blocks import SlackMessage, plain_text

_TERMINAL_UNSAFE = {c: None for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]}


class StdoutNotifier:
    """Readable plain text (topic, linked title, source, time, evidence, score) per alert.

    Control characters are dropped so article text cannot drive the terminal
    (ANSI escape injection). Plain `print`, not rich: no markup to escape.
    """

    name = "stdout"

    def __init__(self, stream: TextIO | None = None):
        self._stream = stream
        self._lock = threading.Lock()

    def send(self, message: SlackMessage) -> Delivery:
        stream = self._stream or sys.stdout
        body = plain_text(message).translate(_TERMINAL_UNSAFE)
        where = f" (thread {message.thread_ts})" if message.thread_ts else ""
        with self._lock:
            print(f"--- {message.channel}{where}", file=stream)
            print(body, file=stream)
            print(file=stream, flush=True)
        return Delivery(channel=message.channel, ts=f"local:{time.time():.6f}")

    def update(self, message: SlackMessage, ts: str) -> Delivery:
        """An event's lead changed (more outlets, a development): print the new version."""
        stream = self._stream or sys.stdout
        body = plain_text(message).translate(_TERMINAL_UNSAFE)
        with self._lock:
            print(f"--- {message.channel} (updated {ts})", file=stream)
            print(body, file=stream)
            print(file=stream, flush=True)
        return Delivery(channel=message.channel, ts=ts)

    def find_sent(
        self, channel: str, alert_id: str, oldest: float, thread_ts: str | None = None
    ) -> Delivery | None:
        """Always None: printed output cannot be looked back on."""
        return None
