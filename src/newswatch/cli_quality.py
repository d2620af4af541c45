"""Commands that judge detection: `score`, `eval`, `train`, `explain`, `backtest`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from newswatch.cli_common import ConfigDir, err, load_or_exit, load_with_store, out, read_jsonl


def register(app: typer.Typer) -> None:
    """Add these commands to the `newswatch` app."""

    @app.command()
    def score(
        input: Annotated[Path, typer.Option("--input", "-i", help="JSONL of {id, title, text}.")],
        output: Annotated[
            Optional[Path],  # noqa: UP045
            typer.Option("--output", "-o", help="Write results here (default stdout)."),
        ] = None,
        config_dir: ConfigDir = None,
        batch_size: Annotated[int, typer.Option(help="Articles per batch.")] = 256,
    ) -> None:
        """Score articles against every topic exactly as `run` would decide."""
        from newswatch.scoring_cli import score_rows

        cfg = load_or_exit(config_dir)
        rows = read_jsonl(input)
        fh = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            for result in score_rows(cfg, rows, batch_size=batch_size, console=err):
                fh.write(json.dumps(result, ensure_ascii=False) + "\n")
        finally:
            if output:
                fh.close()

    @app.command("eval")
    def eval_(
        input: Annotated[Path, typer.Option("--input", "-i", help="JSONL of {id, title, text}.")],
        labels: Annotated[
            Path, typer.Option("--labels", "-l", help='JSONL of {"id", "<topic>": 0|1|2}.')
        ],
        config_dir: ConfigDir = None,
        plot: Annotated[
            Path, typer.Option(help="PNG with score distributions and PR curves.")
        ] = Path("eval.png"),
        show_errors: Annotated[int, typer.Option(help="Errors listed per topic.")] = 20,
    ) -> None:
        """Precision, recall and F1 per topic against labels (2 = borderline, not scored)."""
        from newswatch.evaluation import evaluate, plot_eval, print_eval

        cfg = load_or_exit(config_dir)
        rows = read_jsonl(input)
        label_rows = read_jsonl(labels)
        result = evaluate(cfg, rows, label_rows, console=err)
        print_eval(result, out, show_errors=show_errors)
        plot_eval(result, plot)
        out.print(f"plot written to {plot}")

    @app.command()
    def train(
        topic: Annotated[
            Optional[str],  # noqa: UP045
            typer.Option("--topic", "-t", help="Only this topic (default: every `learned` topic)."),
        ] = None,
        input: Annotated[
            Optional[Path],  # noqa: UP045
            typer.Option("--input", "-i", help="JSONL of {id, title, text} the --labels judge."),
        ] = None,
        labels: Annotated[
            Optional[Path],  # noqa: UP045
            typer.Option("--labels", "-l", help='JSONL of {"id", "<topic>": 0|1|2}, as for eval.'),
        ] = None,
        config_dir: ConfigDir = None,
        plot: Annotated[
            Optional[Path],  # noqa: UP045
            typer.Option(help="PNG: out-of-fold precision-recall and learning curve per topic."),
        ] = None,
    ) -> None:
        """Fit each `learned` topic from its labels; threshold and figures by cross-validation."""
        from newswatch.train_cli import run_train

        if (input is None) != (labels is None):
            err.print("give --input and --labels together")
            raise typer.Exit(2)
        cfg = load_or_exit(config_dir)
        rows = read_jsonl(input) if input else []
        label_rows = read_jsonl(labels) if labels else []
        try:
            run_train(cfg, out, topic_id=topic, rows=rows, label_rows=label_rows, plot=plot)
        except ValueError as exc:
            err.print(str(exc), highlight=False)
            raise typer.Exit(2) from None

    @app.command()
    def explain(
        url: Annotated[Optional[str], typer.Option(help="Fetch and explain this page.")] = None,  # noqa: UP045
        file: Annotated[Optional[Path], typer.Option(help="Explain a saved HTML page.")] = None,  # noqa: UP045
        text: Annotated[Optional[str], typer.Option(help="Explain this text.")] = None,  # noqa: UP045
        config_dir: ConfigDir = None,
    ) -> None:
        """Per topic: the score, the passage and example that drove it, and which guard fired."""
        from newswatch.explain import explain_article, load_for_explain

        if sum(x is not None for x in (url, file, text)) != 1:
            err.print("give exactly one of --url, --file or --text")
            raise typer.Exit(2)
        cfg = load_or_exit(config_dir)
        try:
            title, body = load_for_explain(cfg, url=url, file=file, text=text)
        except Exception as exc:
            err.print(f"cannot read input: {exc}")
            raise typer.Exit(1) from None
        explain_article(cfg, title, body, out)

    @app.command()
    def backtest(
        since: Annotated[str, typer.Option(help="Window: 7d, 24h, 30m or an ISO date.")] = "7d",
        config_dir: ConfigDir = None,
    ) -> None:
        """Re-score stored articles with the current topics: what would alert, what changed."""
        from newswatch.backtest import run_backtest

        cfg = load_with_store(config_dir)
        run_backtest(cfg, since, out)
