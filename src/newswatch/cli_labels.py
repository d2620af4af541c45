"""`newswatch label` and `newswatch labels`: the analyst's verdicts into and out of the store.

Registered on the main app by `newswatch.cli` (`register(app)`); kept apart so the
label commands do not grow cli.py. See docs/labels.md.
"""

from __future__ import annotations

import getpass
import os
from collections import defaultdict
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from newswatch.cli_common import ConfigDir, err, load_or_exit, out
from newswatch.schema import Config, Topic

TopicOpt = Annotated[Optional[str], typer.Option("--topic", "-t", help="Topic id.")]  # noqa: UP045


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(message, markup=False, highlight=False)
    return typer.Exit(code)


def _topic(cfg: Config, topic_id: str | None, why: str) -> Topic:
    if not topic_id:
        raise _fail(f"{why} needs --topic (one of: {', '.join(t.id for t in cfg.topics)})")
    topic = next((t for t in cfg.topics if t.id == topic_id), None)
    if topic is None:
        raise _fail(
            f"--topic {topic_id!r}: unknown topic (the config has: "
            f"{', '.join(t.id for t in cfg.topics)})"
        )
    return topic


def default_who() -> str:
    """$USER, else the login name: who a CLI or file label is from."""
    try:
        return os.environ.get("USER") or getpass.getuser()
    except Exception:  # no passwd entry (some containers)
        return "unknown"


def label(
    input: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--input", "-i", help="ARTICLES JSONL of {id, title, text} (as for score)."),
    ] = None,
    labels: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--labels", "-l", help='LABELS JSONL of {"id", "<topic>": 0|1|2}.'),
    ] = None,
    url: Annotated[Optional[str], typer.Option(help="Fetch, store and label this page.")] = None,  # noqa: UP045
    topic: TopicOpt = None,
    relevant: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option("--relevant/--not-relevant", help="The verdict for --url."),
    ] = None,
    review: Annotated[
        bool, typer.Option("--review", help="Review the least certain stored articles.")
    ] = False,
    limit: Annotated[int, typer.Option(help="--review: articles to show at most.")] = 20,
    since: Annotated[
        str,
        typer.Option(help="--review: only articles fetched since (30d, 24h, an ISO date; all)."),
    ] = "30d",
    who: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Whose labels these are (default: $USER)."),
    ] = None,
    config_dir: ConfigDir = None,
) -> None:
    """Store labels: import a LABELS file, label one URL, or review stored articles."""
    modes = [input is not None or labels is not None, url is not None, review]
    if sum(modes) != 1:
        raise _fail("give one of: --input with --labels, --url, or --review")
    cfg = load_or_exit(config_dir)
    who = who or default_who()
    from newswatch.store import Store

    store = Store(cfg.settings.store.url)
    try:
        if modes[0]:
            _import(store, cfg, input, labels, who)
        elif url is not None:
            _label_url(store, cfg, url, topic, relevant, who)
        else:
            _review(store, cfg, topic, who, limit, since)
    finally:
        store.close()


def _import(store, cfg: Config, input: Path | None, labels: Path | None, who: str) -> None:
    from newswatch.labels.files import LabelFileError, read_labels

    if input is None or labels is None:
        raise _fail("--input and --labels go together")
    try:
        rows, borderline = read_labels(input, labels, [t.id for t in cfg.topics], who)
    except LabelFileError as exc:
        raise _fail(str(exc)) from None
    written = store.put_labels(rows)
    per_topic: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for lab, _, _ in rows:
        per_topic[lab.topic_id][lab.value] += 1
    detail = ", ".join(f"{t}: {v[1]} relevant, {v[0]} not" for t, v in sorted(per_topic.items()))
    out.print(
        f"labels stored: {written} of {len(rows)} as {who!r} ({detail or 'none'}); "
        f"{borderline} borderline (2) not stored",
        highlight=False,
    )
    if written < len(rows):
        out.print(f"  {len(rows) - written} kept: the store has a newer label by {who!r}")


def _label_url(store, cfg: Config, url: str, topic_id, relevant, who: str) -> None:
    from newswatch.http import FetchError
    from newswatch.labels.fetch import label_url

    topic = _topic(cfg, topic_id, "--url")
    if relevant is None:
        raise _fail("--url needs --relevant or --not-relevant")
    try:
        article = label_url(store, cfg, url, topic.id, 1 if relevant else 0, who)
    except FetchError as exc:
        raise _fail(f"cannot fetch {url}: {exc}", code=1) from None
    verdict = "relevant" if relevant else "not relevant"
    out.print(
        f"stored {article.canonical_url} ({article.title[:80]!r}, {len(article.text)} chars) "
        f"and labelled it {verdict} for {topic.id} as {who!r}",
        highlight=False,
    )


def _review(store, cfg: Config, topic_id, who: str, limit: int, since: str) -> None:
    from newswatch.clock import since_to_datetime
    from newswatch.labels.review import candidates, review

    topic = _topic(cfg, topic_id, "--review")
    try:
        start = None if since == "all" else since_to_datetime(since)
    except ValueError as exc:
        raise _fail(f"--since: {exc}") from None
    with err.status(f"scoring stored articles for {topic.id}"):
        found = candidates(store, cfg, topic, who, start, limit)
    if not found:
        out.print(f"nothing to review for {topic.id}: no stored article {who!r} has not labelled")
        return
    answers = review(store, found, topic, who, out)
    out.print(
        f"review done: {answers['relevant']} relevant, {answers['not relevant']} not relevant, "
        f"{answers['skip']} skipped (stored as {who!r})",
        highlight=False,
    )


def labels_cmd(
    topic: TopicOpt = None,
    export: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Write LABELS JSONL here (+ <name>.articles.jsonl beside it)."),
    ] = None,
    config_dir: ConfigDir = None,
) -> None:
    """Label counts per topic and source; --export writes them for `label --input` or `eval`."""
    from newswatch.labels.files import export_labels
    from newswatch.store import Store

    cfg = load_or_exit(config_dir)
    if topic is not None:
        _topic(cfg, topic, "--topic")
    store = Store(cfg.settings.store.url)
    try:
        counts = store.label_counts(topic)
        resolved = store.training_labels(topic)
        if export is not None:
            n, articles = export_labels(store, export, topic)
    finally:
        store.close()
    table = Table(title="labels (every person's latest)")
    for col in ("topic", "source", "relevant", "not relevant"):
        table.add_column(col)
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for t, source, value, n_rows in counts:
        cells[(t, source)][value] += n_rows
    for (t, source), (no, yes) in sorted(cells.items()):
        table.add_row(t, source, str(yes), str(no))
    out.print(table)
    per_topic: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in resolved:
        per_topic[r.topic_id][r.value] += 1
    for t, (no, yes) in sorted(per_topic.items()):
        out.print(f"{t}: {yes + no} article(s) for training ({yes} relevant, {no} not)")
    if not counts:
        out.print("no labels yet" + (f" for {topic}" if topic else ""))
    if export is not None:
        out.print(f"exported {n} line(s) to {export} and their texts to {articles}")


def register(app: typer.Typer) -> None:
    """Add `label` and `labels` to the main command line."""
    app.command("label")(label)
    app.command("labels")(labels_cmd)
