"""Stable keys: an article's text hash and an alert's id, the same in every process."""

from __future__ import annotations

import hashlib
import uuid


def text_hash(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()


def alert_id(topic_id: str, story_id: str, article_url: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{topic_id}|{story_id}|{article_url}").hex
