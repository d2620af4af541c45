"""UTC time: everything newswatch stores and compares is timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC)


def since_to_datetime(since: str | None) -> datetime | None:
    """Parse '7d', '12h', '30m' (relative to now) or an ISO date."""
    if not since:
        return None
    units = {"d": "days", "h": "hours", "m": "minutes", "w": "weeks"}
    if since[-1] in units and since[:-1].replace(".", "", 1).isdigit():
        return utcnow() - timedelta(**{units[since[-1]]: float(since[:-1])})
    dt = datetime.fromisoformat(since)
    return dt if dt.tzinfo else dt.replace(tzinfo=utcnow().tzinfo)
