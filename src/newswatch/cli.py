"""The `newswatch` command line: every command is documented in the README and tested."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from newswatch.cli_common import ConfigDir, err, load_or_exit, load_with_store, out
from newswatch.cli_labels import register as register_label_commands
from newswatch.cli_quality import register as register_quality_commands
from newswatch.schema import Config

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="newswatch: watch news sources for the events you care about, alert Slack once.",
)

Shard = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional here
    typer.Option(help="Only shard i/n of the sources (e.g. 0/3): one worker per shard."),
]


@app.command()
def check(config_dir: ConfigDir = None) -> None:
    """Validate config, connect to the store, test the Slack token, show the Prefect API."""
    from newswatch.setup_check import check_prefect, check_slack, check_store
    from newswatch.topic_advice import advice

    cfg = load_or_exit(config_dir)
    if not cfg.topics:
        err.print(
            "[yellow]warning[/]: no enabled topic: a pass polls the sources but fetches, scores "
            "and marks nothing (so topics added later still see those articles)"
        )
    for topic in cfg.topics:
        for warning in advice(topic):
            out.print(f"[yellow]warning[/]: {warning}", highlight=False)
    out.print(
        f"config OK: {cfg.config_dir} — {len(cfg.sources)} sources, {len(cfg.topics)} topics "
        f"({', '.join(t.id for t in cfg.topics)})"
    )
    store = check_store(cfg)
    findings = [store, check_slack(cfg), check_prefect()]
    for f in findings:
        (out if f.ok else err).print(f.line, markup=False, highlight=False, soft_wrap=True)
    if not store.ok:
        raise typer.Exit(2)
    if not all(f.ok for f in findings):
        raise typer.Exit(1)


@app.command()
def run(
    config_dir: ConfigDir = None,
    shard: Shard = None,
    alerts_jsonl: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--alerts-jsonl", help="Also append every alert to this JSONL file."),
    ] = None,
    prefect: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option(
            "--prefect/--no-prefect",
            help="Run the pass as a Prefect flow (default: only when a Prefect API is "
            "configured: PREFECT_API_URL in the environment or the active Prefect profile).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run ONE monitoring pass, then print its summary.

    With a Prefect API configured the pass is a flow run recorded there; without one it
    runs as plain Python (Prefect would otherwise start a temporary API server for this
    process, 6-13 s, that nobody reads afterwards).
    """
    cfg = load_with_store(config_dir)
    _check_shard(cfg, shard)
    from newswatch.reaper import start_reaper

    start_reaper()  # before any child: the Prefect server and workers die with this process
    from newswatch.pass_.stats import DeliveryBlocked
    from newswatch.status import store_label
    from newswatch.store import StoreUnavailable

    err.print(f"store: {store_label(cfg.settings.store.url)}", highlight=False)
    jsonl = str(alerts_jsonl) if alerts_jsonl else None
    try:
        if prefect if prefect is not None else prefect_api_configured():
            from newswatch.flows.monitor import monitor_pass

            summary = monitor_pass(config_dir=str(cfg.config_dir), shard=shard, alerts_jsonl=jsonl)
        else:
            from newswatch.pass_ import run_pass

            stats = run_pass(cfg, shard=shard, alerts_jsonl=jsonl)
            if stats.delivery_blocked:  # as the flow run would end Failed
                raise DeliveryBlocked(stats.as_dict())
            summary = stats.as_dict()
    except StoreUnavailable as exc:  # the database went away mid-pass
        err.print(f"pass ended early: {exc}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    except DeliveryBlocked as exc:  # the pass itself was recorded
        _print_summary(exc.summary)
        err.print(f"[bold red]delivery blocked[/]: {exc}", highlight=False)
        raise typer.Exit(1) from None
    _print_summary(summary)


def prefect_api_configured() -> bool:
    """A Prefect API is configured (environment or active profile): `run` is then a flow."""
    from newswatch.setup_check import configured_prefect_api

    return configured_prefect_api() is not None


def _check_shard(cfg: Config, shard: str | None) -> None:
    from newswatch.pass_.poll import shard_sources

    try:
        shard_sources(cfg.sources, shard)
    except ValueError as exc:
        err.print(f"--shard: {exc}")
        raise typer.Exit(2) from None


def _print_summary(summary: dict) -> None:
    failed = summary.get("sources_failed") or []
    out.print(
        f"[bold]pass done[/]: sources polled {summary['sources_polled']} "
        f"({len(failed)} failed), new articles {summary['new_articles']}, "
        f"matches {summary['matches']}, alerts {summary['alerts_queued']} "
        f"(+{summary['followups_queued']} follow-ups), delivered {summary['alerts_sent']}; "
        f"events {summary.get('events_new', 0)} new, articles "
        f"{summary.get('articles_alerted', 0)}, outlets {summary.get('outlets', 0)}"
    )
    for name, reason in failed:
        out.print(f"  [yellow]source failed[/] {name}: {reason}", highlight=False)
    for name, reason in summary.get("sources_degraded") or []:
        out.print(f"  [yellow]source degraded[/] {name}: {reason}", highlight=False)
    if summary.get("alerts_held"):
        out.print(f"  {summary['alerts_held']} alert(s) held for their topic's digest")
    if summary.get("delivery_problem"):
        out.print(f"  [yellow]delivery[/]: {summary['delivery_problem']}", highlight=False)
    for notice in summary.get("notices") or []:
        out.print(f"  notice: {notice}", highlight=False)


@app.command()
def demo(
    keep: Annotated[
        bool, typer.Option(help="Keep the throw-away store and print its path.")
    ] = False,
) -> None:
    """Serve sample articles on loopback, run a real pass over them, print the alerts."""
    from newswatch.demo import run_demo

    run_demo(out, keep=keep)


@app.command()
def sources(config_dir: ConfigDir = None) -> None:
    """List the configured sources with their health (last success, failures, items)."""
    from newswatch.status import print_sources

    cfg = load_with_store(config_dir)
    print_sources(cfg, out)


@app.command()
def status(config_dir: ConfigDir = None) -> None:
    """The last passes, the pending outbox and source health."""
    from newswatch.status import print_status

    cfg = load_with_store(config_dir)
    print_status(cfg, out)


@app.command()
def serve(
    config_dir: ConfigDir = None,
    shard: Shard = None,
    run_now: Annotated[
        bool, typer.Option("--run-now", help="Run one pass at once, then keep the schedule.")
    ] = False,
) -> None:
    """Serve the pass on the schedule from settings.yaml (Ctrl-C / SIGTERM stops cleanly).

    Without PREFECT_API_URL it starts a local Prefect server (scheduler and UI) and
    stops it again on exit."""
    from newswatch.local_prefect import ServerStartError
    from newswatch.service import schedule_kwargs
    from newswatch.service import serve as serve_deployments

    cfg = load_with_store(config_dir)
    _check_shard(cfg, shard)
    from newswatch.reaper import start_reaper

    start_reaper()
    err.print(f"serving newswatch: {schedule_kwargs(cfg)}; Ctrl-C to stop")
    try:
        serve_deployments(cfg, shard=shard, run_now=run_now)
    except ServerStartError as exc:
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(1) from None
    err.print("newswatch serve stopped")


@app.command()
def deploy(
    pool: Annotated[str, typer.Option(help="Prefect work pool (process type).")] = "newswatch",
) -> None:
    """Register the deployments in prefect.yaml on a process work pool (`prefect deploy --all`)."""
    import subprocess

    subprocess.run(
        [sys.executable, "-m", "prefect", "work-pool", "create", pool, "--type", "process"],
        check=False,
    )
    code = subprocess.run([sys.executable, "-m", "prefect", "deploy", "--all"], check=False)
    raise typer.Exit(code.returncode)


outbox_app = typer.Typer(
    invoke_without_command=True,
    no_args_is_help=False,
    help="List undelivered alerts (pending, failed, expired) with reasons; `retry` re-queues.",
)
app.add_typer(outbox_app, name="outbox")
Topic = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--topic", help="Only this topic id."),
]


@outbox_app.callback()
def outbox(ctx: typer.Context, config_dir: ConfigDir = None, topic: Topic = None) -> None:
    """List undelivered alerts (pending, failed, expired) with their reasons."""
    if ctx.invoked_subcommand is not None:
        return
    from newswatch.outbox_cli import print_outbox

    print_outbox(load_or_exit(config_dir), out, topic=topic)


@outbox_app.command("retry")
def outbox_retry(
    config_dir: ConfigDir = None,
    topic: Topic = None,
    id: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--id", help="Only this alert (id or its first characters)."),
    ] = None,
) -> None:
    """Put failed and expired alerts back in the queue for the next pass."""
    from newswatch.outbox_cli import retry_outbox

    retry_outbox(load_or_exit(config_dir), out, topic=topic, alert_id=id)


@app.command()
def health(config_dir: ConfigDir = None) -> None:
    """Print (and deliver) the source-health report, as the daily deployment does."""
    from newswatch.health_report import health_report_text
    from newswatch.store import Store

    cfg = load_with_store(config_dir)
    store = Store(cfg.settings.store.url)
    try:
        out.print(health_report_text(cfg, store), highlight=False)
    finally:
        store.close()


register_quality_commands(app)  # score, eval, train, explain, backtest: newswatch.cli_quality
register_label_commands(app)  # `label` and `labels` live in newswatch.cli_labels


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
