"""Load and validate the YAML a user edits (settings, sources, topics).

Every problem is reported with its file and field so an analyst editing a
topic file can fix it without reading code. Nothing runs on a bad config.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from newswatch.detectors import registry
from newswatch.detectors.actors import known_titles
from newswatch.schema import (
    CONFIG_DIR_ENV,
    DEFAULT_CONFIG_DIR,
    STORE_URL_ENV,
    Config,
    ConfigError,
    ExamplesFile,
    Settings,
    SourceConfig,
    SourcesFile,
    Topic,
    TopicsFile,
)
from newswatch.sources import SOURCE_KINDS


def resolve_config_dir(config_dir: str | Path | None) -> Path:
    if config_dir:
        return Path(config_dir)
    return Path(os.environ.get(CONFIG_DIR_ENV) or DEFAULT_CONFIG_DIR)


def resolve_store_url(url: str, base: Path) -> str:
    """A relative SQLite path is taken from `base` (the config dir), never the working dir.

    Cron, systemd and containers start newswatch from anywhere: a path relative to the
    working directory would silently make a second, empty store (and alert everything
    again). Other databases and absolute paths pass through unchanged.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return url  # reported when the store opens
    db = parsed.database
    if not parsed.drivername.startswith("sqlite") or not db or db == ":memory:":
        return url
    if db.startswith("file:") or Path(db).is_absolute():
        return url
    return parsed.set(database=str((base / db).resolve())).render_as_string(hide_password=False)


def _read_yaml(path: Path, problems: list[str]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        problems.append(
            f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); save the file as UTF-8"
        )
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
    except UnicodeDecodeError as exc:
        problems.append(f"{where}.file: {path}: not UTF-8 text (byte {exc.start}); save as UTF-8")
        return ()
    return tuple(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _unreadable_people(lines: tuple[str, ...], where: str) -> list[str]:
    """Each known person must read as an introduction: a title, then a name."""
    return [
        f"{where}: {line!r} does not read as 'Title Name' (e.g. 'Russian President Vladimir Putin')"
        for line in lines
        if not known_titles((line,))
    ]


def _detector_options(raw: dict[str, Any], where: str, problems: list[str]) -> dict[str, Any]:
    """Each kind's options validated once by its own model (kept in the Topic, read at build)."""
    out: dict[str, Any] = {}
    for kind, opts in raw.items():
        cls = registry.DETECTORS.get(kind)
        if cls is None:
            problems.append(f"{where}.detector_options.{kind}: unknown detector kind")
            continue
        try:
            out[kind] = cls.Options.model_validate(opts if opts is not None else {})
        except ValidationError as exc:
            known = ", ".join(sorted(cls.Options.model_fields))
            for err in exc.errors():
                loc = ".".join(str(x) for x in err["loc"])
                field = f"{where}.detector_options.{kind}" + (f".{loc}" if loc else "")
                if err["type"] == "extra_forbidden":
                    problems.append(f"{field}: unknown option (known: {known})")
                else:
                    problems.append(f"{field}: {err['msg']}")
    return out


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
    for path in files:
        data = _read_yaml(path, problems)
        if data is None and path.exists() and not path.read_bytes().strip():
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
            options = _detector_options(tc.detector_options, where, problems)
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
                    detector_options=options,
                    delivery=tc.delivery,
                    digest_period_minutes=tc.digest_period_minutes,
                    source_file=str(path),
                    known_people=known,
                    target_precision=tc.target_precision,
                    models_dir=str(config_dir / "models"),
                )
            )
    return topics


def _check_source_kinds_and_names(data: Any, path: Path, problems: list[str]) -> None:
    """Checks beyond the schema, on the raw entries so they run even when another entry is bad."""
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
    settings.store.url = resolve_store_url(settings.store.url, base)
    if os.environ.get(STORE_URL_ENV):  # given on a command line: relative to where it is run
        settings.store.url = resolve_store_url(os.environ[STORE_URL_ENV], Path.cwd())

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
