"""The `newswatch train` command's work: gather labels, fit, print the CV figures, plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from newswatch.runtime import embedder_for
from newswatch.schema import Config
from newswatch.training import (
    Labelled,
    TrainReport,
    labelled_from_files,
    labelled_from_store,
    train_topic,
)


def stored_labels(config: Config) -> list:
    """Labels kept in the store (`newswatch label`, Slack reactions); none on a store
    without a labels table."""
    from newswatch.store import Store

    store = Store(config.settings.store.url)
    try:
        read = getattr(store, "training_labels", None)
        return list(read()) if read else []
    finally:
        store.close()


def run_train(
    config: Config,
    console: Console,
    topic_id: str | None = None,
    rows: Sequence[dict] = (),
    label_rows: Sequence[dict] = (),
    plot: Path | None = None,
) -> list[TrainReport]:
    topics = [t for t in config.topics if topic_id in (None, t.id)]
    if topic_id and not topics:
        raise ValueError(
            f"unknown topic {topic_id!r} (known: {', '.join(t.id for t in config.topics)})"
        )
    stored = stored_labels(config)
    embedder = embedder_for(config)
    reports: list[TrainReport] = []
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        for topic in topics:
            if "learned" not in topic.detectors:
                console.print(
                    f"{topic.id}: skipped (its detectors {list(topic.detectors)} do not include "
                    "`learned`, the kind a trained model drives)",
                    highlight=False,
                    soft_wrap=True,
                )
                continue
            docs: list[Labelled] = labelled_from_files(topic.id, rows, label_rows) if rows else []
            docs += labelled_from_store(topic.id, stored)
            task = bar.add_task(f"{topic.id}", total=None)

            def progress(stage: str, done: int, total: int, task=task, tid=topic.id) -> None:
                bar.update(task, description=f"{tid}: {stage}", completed=done, total=total)

            report = train_topic(topic, embedder, docs, progress=progress)
            bar.remove_task(task)
            print_report(report, console)
            reports.append(report)
    if plot and reports:
        plot_reports(reports, plot)
        console.print(f"plot written to {plot}")
    return reports


def print_report(r: TrainReport, console: Console) -> None:
    if r.source == "labels":
        used = f"{r.n_pos + r.n_neg} labels ({r.n_pos} relevant, {r.n_neg} not)"
    else:
        used = "no labels: threshold calibrated on held-out folds of its examples/counter-examples"
    cv = ", ".join(f"{m} {a:.3f} ± {s:.3f}" for m, (a, s) in r.cv.items()) or "no CV"
    console.print(
        f"[bold]{r.topic_id}[/]: model {r.version}, threshold {r.threshold:.3f}; {used}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"  cross-validated {cv}", highlight=False, soft_wrap=True)
    if r.pooled:
        console.print(
            "  pooled out-of-fold: precision {precision:.3f} recall {recall:.3f} "
            "F1 {f1:.3f}".format(**r.pooled),
            highlight=False,
            soft_wrap=True,
        )
    if r.before:
        console.print(
            "  untrained (hand-set formula, threshold {threshold:.2f}) on the same labels: "
            "precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f}".format(**r.before),
            highlight=False,
            soft_wrap=True,
        )
    if r.decider:
        console.print(f"  decides by: {r.decider}", highlight=False, soft_wrap=True)
    if r.warning:
        console.print(f"  [yellow]warning[/]: {r.warning}", highlight=False, soft_wrap=True)
    if r.path:
        console.print(f"  saved {r.path}", highlight=False, soft_wrap=True)


def plot_reports(reports: Sequence[TrainReport], path: Path) -> None:
    """Per topic: the out-of-fold precision-recall curve and F1 against labels used."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(reports), 2, figsize=(10, 3.2 * len(reports)), squeeze=False)
    for (pr_ax, lc_ax), r in zip(axes, reports, strict=True):
        rec, prec = r.pr
        pr_ax.plot(rec, prec)
        if r.pooled:
            pr_ax.scatter([r.pooled["recall"]], [r.pooled["precision"]], color="red", zorder=3)
        pr_ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02))
        pr_ax.set_title(f"{r.topic_id}: out-of-fold precision-recall")
        if r.curve:
            lc_ax.plot([n for n, _ in r.curve], [f for _, f in r.curve], marker="o")
        lc_ax.set(xlabel="labels used to fit", ylabel="CV F1", ylim=(0, 1.02))
        lc_ax.set_title(f"{r.topic_id}: learning curve")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
