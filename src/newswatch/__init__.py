"""newswatch: watch the news for the events an analyst cares about."""

__version__ = "0.1.0"
