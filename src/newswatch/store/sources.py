"""Source health (poll outcomes, extraction failures) and the record of passes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, insert, select, update

from newswatch.clock import utcnow
from newswatch.store.base import StoreBase, _insert_ignore
from newswatch.store.tables import passes, source_state


class SourceStore(StoreBase):
    def source_states(self) -> dict[str, dict]:
        with self.engine.connect() as conn:
            return {r.name: dict(r._mapping) for r in conn.execute(select(source_state))}

    def _ensure_source(self, conn, name: str) -> None:
        if not conn.execute(select(source_state.c.name).where(source_state.c.name == name)).first():
            _insert_ignore(conn, source_state, name=name, consecutive_failures=0)

    def record_poll(self, name: str, **outcome) -> dict:
        """Update one source's health after a poll (see `_record_poll`); returns the new state."""
        self.record_polls([{"name": name, **outcome}])
        with self.engine.connect() as conn:
            row = conn.execute(select(source_state).where(source_state.c.name == name)).first()
            return dict(row._mapping)

    def record_polls(self, polls: Sequence[dict]) -> None:
        """`record_poll` for every source of a pass in ONE transaction (one commit, not 100)."""
        now = utcnow()
        with self.engine.begin() as conn:
            for poll in sorted(polls, key=lambda p: p["name"]):  # stable lock order
                self._record_poll(conn, now=now, **poll)

    def _record_poll(
        self,
        conn,
        name: str,
        now: datetime,
        *,
        ok: bool,
        error: str | None = None,
        items: int = 0,
        new_items: int = 0,
        etag: str | None = None,
        last_modified: str | None = None,
        not_modified: bool = False,
        degraded: str | None = None,
    ) -> None:
        self._ensure_source(conn, name)
        values: dict = {"last_attempt": now}
        if ok:
            values.update(last_success=now, consecutive_failures=0, last_error=None)
            if not not_modified:
                values["degraded"] = degraded
            if not not_modified:
                values.update(items_last_poll=items, etag=etag, last_modified=last_modified)
            if new_items:
                values["last_new_item_at"] = now
        else:
            values.update(
                consecutive_failures=source_state.c.consecutive_failures + 1,
                last_error=(error or "")[:2000],
            )
        conn.execute(update(source_state).where(source_state.c.name == name).values(**values))

    def record_extraction(self, name: str, total: int, failures: int) -> None:
        with self.engine.begin() as conn:
            self._ensure_source(conn, name)
            conn.execute(
                update(source_state)
                .where(source_state.c.name == name)
                .values(
                    articles_total=source_state.c.articles_total + total,
                    extraction_failures=source_state.c.extraction_failures + failures,
                )
            )

    def set_source_broken(self, name: str, broken: bool) -> bool:
        """Flip the broken flag; True only for the one caller that changed it (one notice)."""
        with self.engine.begin() as conn:
            self._ensure_source(conn, name)
            res = conn.execute(
                update(source_state)
                .where(and_(source_state.c.name == name, source_state.c.broken == (not broken)))
                .values(broken=broken)
            )
            return res.rowcount == 1

    def start_pass(self) -> str:
        pid = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(insert(passes).values(id=pid, started_at=utcnow()))
        return pid

    def finish_pass(self, pass_id: str, summary: dict) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(passes)
                .where(passes.c.id == pass_id)
                .values(finished_at=utcnow(), summary=summary)
            )

    def last_passes(self, n: int = 5) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(passes).order_by(passes.c.started_at.desc()).limit(n))
            return [dict(r._mapping) for r in rows]
