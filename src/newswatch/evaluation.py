"""`newswatch eval`: precision/recall/F1 per topic, the errors, and a plot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from newswatch.runtime import scorer_for
from newswatch.schema import Config
from newswatch.scoring_cli import score_batches


@dataclass
class TopicEval:
    topic_id: str
    threshold: float
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    borderline: int = 0
    scores_pos: list[float] = field(default_factory=list)
    scores_neg: list[float] = field(default_factory=list)
    errors: list[tuple[str, str, float, str]] = field(default_factory=list)  # kind,id,score,title

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(
    config: Config, rows: Sequence[dict], label_rows: Sequence[dict], console: Console | None = None
) -> dict[str, TopicEval]:
    """Labels: 1 positive, 2 borderline (left out), 0 or an unlisted id negative."""
    labels = {str(r["id"]): r for r in label_rows}
    # the threshold in use: a trained model's (`newswatch train`) replaces the topic's
    thresholds = {tid: dets[0].threshold for tid, dets in scorer_for(config).detectors.items()}
    result = {t.id: TopicEval(t.id, thresholds.get(t.id, t.threshold)) for t in config.topics}
    for row, decisions in score_batches(config, rows, console=console):
        lab = labels.get(str(row["id"]), {})
        for tid, d in decisions.items():
            ev = result[tid]
            y = int(lab.get(tid, 0) or 0)
            if y == 2:
                ev.borderline += 1
                continue
            (ev.scores_pos if y == 1 else ev.scores_neg).append(float(d.score))
            title = (row.get("title") or "")[:90]
            if y == 1 and d.matched:
                ev.tp += 1
            elif y == 1:
                ev.fn += 1
                ev.errors.append(("missed", str(row["id"]), d.score, title))
            elif d.matched:
                ev.fp += 1
                ev.errors.append(("false alert", str(row["id"]), d.score, title))
            else:
                ev.tn += 1
    return result


def print_eval(result: dict[str, TopicEval], console: Console, show_errors: int = 20) -> None:
    table = Table(title="newswatch eval")
    for col in ("topic", "threshold", "precision", "recall", "F1", "TP", "FP", "FN", "borderline"):
        table.add_column(col, justify="right" if col != "topic" else "left")
    for ev in result.values():
        table.add_row(
            ev.topic_id,
            f"{ev.threshold:.2f}",
            f"{ev.precision:.3f}",
            f"{ev.recall:.3f}",
            f"{ev.f1:.3f}",
            str(ev.tp),
            str(ev.fp),
            str(ev.fn),
            str(ev.borderline),
        )
    console.print(table)
    for ev in result.values():  # one greppable line per topic, whatever the terminal width
        console.print(
            f"{ev.topic_id}: precision {ev.precision:.3f} recall {ev.recall:.3f} "
            f"F1 {ev.f1:.3f} (threshold {ev.threshold:.2f}, tp {ev.tp} fp {ev.fp} fn {ev.fn}, "
            f"{ev.borderline} borderline left out)",
            highlight=False,
            soft_wrap=True,
        )
    for ev in result.values():
        if not ev.errors:
            continue
        console.print(f"[bold]{ev.topic_id}[/]: {len(ev.errors)} error(s)")
        for kind, id_, score, title in ev.errors[:show_errors]:
            console.print(f"  {kind:<11} {id_:<20} score {score:.3f}  {title}", highlight=False)


def plot_eval(result: dict[str, TopicEval], path: Path) -> None:
    """Score histograms and a precision-recall curve per topic, threshold marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    n = max(1, len(result))
    fig, axes = plt.subplots(n, 2, figsize=(10, 3.2 * n), squeeze=False)
    for row, ev in zip(axes, result.values(), strict=False):
        ax = row[0]
        bins = np.linspace(0, 1, 41)
        ax.hist(ev.scores_neg, bins=bins, alpha=0.6, label=f"negative ({len(ev.scores_neg)})")
        ax.hist(ev.scores_pos, bins=bins, alpha=0.6, label=f"positive ({len(ev.scores_pos)})")
        ax.axvline(ev.threshold, color="k", linestyle="--", label=f"threshold {ev.threshold:.2f}")
        ax.set_yscale("log")
        ax.set_title(f"{ev.topic_id}: score distribution")
        ax.legend(fontsize=7)
        ax = row[1]
        scores = np.array(ev.scores_pos + ev.scores_neg)
        ys = np.array([1] * len(ev.scores_pos) + [0] * len(ev.scores_neg))
        if len(ev.scores_pos):
            order = np.argsort(-scores)
            tp = np.cumsum(ys[order])
            prec = tp / np.arange(1, len(ys) + 1)
            rec = tp / max(1, ys.sum())
            ax.plot(rec, prec)
            ax.scatter([ev.recall], [ev.precision], color="red", zorder=3, label="at threshold")
            ax.legend(fontsize=7)
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{ev.topic_id}: precision-recall (F1 {ev.f1:.3f})")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
