"""The hybrid kind's options (`detector_options.hybrid`), validated once at config load.

docs/topics.md lists them with these defaults (tests/test_docs.py keeps the two equal).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from newswatch.detectors.base import DetectorOptions


def _opt(default: object, description: str, **bounds: float) -> Any:
    return Field(default, description=description, **bounds)


class HybridOptions(DetectorOptions):
    """`detector_options.hybrid`; every option is optional (see docs/topics.md)."""

    C: float = _opt(4.0, "Inverse regularisation of the few-shot classifier.", gt=0)
    weight: float = _opt(
        0.7, "Blend: weight of the classifier's P(topic) against example similarity.", ge=0, le=1
    )
    sim_low: float = _opt(0.2, "Example similarity mapped to 0 in the blend.")
    sim_high: float = _opt(0.7, "Example similarity mapped to 1 in the blend.")
    lead_bonus: float = _opt(0.2, "Added to a candidate sentence in the headline or lead.")
    lead_sentences: int = _opt(3, "How many sentences (after the headline) are the lead.", ge=0)
    central_count: int = _opt(
        3, "Candidate sentences off the lead that make the event central.", ge=1
    )
    off_lead_floor: float = _opt(
        0.7, "Scale of a passing mention (no candidate in the lead, few elsewhere).", ge=0, le=1
    )
    repeat_bonus: float = _opt(0.0, "Added per further candidate sentence.", ge=0)
    max_repeat: int = _opt(3, "Cap on the candidates counted by repeat_bonus.", ge=0)
    headline_centrality: bool = _opt(
        False, "The headline's classifier score counts as centrality and lead weight."
    )
    frame_bonus: float = _opt(
        0.0, "Added when an entity role does the event word (twice when a role meets a role).",
        ge=0,
    )  # fmt: skip
    frame_penalty: float = _opt(0.0, "Subtracted when someone else does the event word.", ge=0)
    story_frame_floor: float = _opt(
        0.0,
        "Minimum base score when the story's own role-holder travels abroad (counts as lead).",
        ge=0,
        le=1,
    )
    domestic_penalty: float = _opt(
        0.0, "Subtracted when a role-holder travels only within their own country.", ge=0
    )
    central_any: list[str] = _opt(
        [], "Phrases that, in the opening, make later sentences about the same parties central."
    )
    opening_sentences: int = _opt(
        1, "Sentences after the headline read as the opening (for central_any).", ge=0
    )
    opening_floor: float = _opt(
        0.0, "Minimum base score of a sentence central_any makes central.", ge=0, le=1
    )
