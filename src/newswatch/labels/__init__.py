"""Labels are data: analysts' verdicts from Slack reactions, files, URLs and a review.

`sync_reactions` runs in every pass (after delivery); the CLI ways in live in
`newswatch.labels.files`, `newswatch.labels.fetch` and `newswatch.labels.review`.
What `train` reads is `Store.training_labels()`.
"""

from __future__ import annotations

from newswatch.labels.reactions import ReactionSync, sync_reactions, verdicts

__all__ = ["ReactionSync", "sync_reactions", "verdicts"]
