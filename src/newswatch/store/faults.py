"""Delivery faults already announced: one operator notice per fault, until it is fixed."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select, update

from newswatch.clock import utcnow
from newswatch.store.base import StoreBase, _insert_ignore
from newswatch.store.tables import delivery_faults


class FaultStore(StoreBase):
    def open_faults(self) -> dict[str, str]:
        """key -> text of every fault announced and not yet seen fixed."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(delivery_faults.c.key, delivery_faults.c.text))
            return {k: t for k, t in rows}

    def record_fault(self, key: str, channel: str, text: str) -> bool:
        """Remember a fault; True when it is new (so it should be announced now)."""
        now = utcnow()
        with self.engine.begin() as conn:
            if _insert_ignore(
                conn,
                delivery_faults,
                key=key,
                channel=channel,
                text=text,
                first_seen=now,
                last_seen=now,
            ):
                return True
            conn.execute(
                update(delivery_faults).where(delivery_faults.c.key == key).values(last_seen=now)
            )
        return False

    def clear_faults(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        if not keys:
            return
        with self.engine.begin() as conn:
            conn.execute(delete(delivery_faults).where(delivery_faults.c.key.in_(keys)))
