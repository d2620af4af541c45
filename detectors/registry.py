"""Detector kinds by name: adding a kind is one file plus one line here."""

from __future__ import annotations

from newswatch.detectors.base import Detector
from newswatch.detectors.classifier import ClassifierDetector
from newswatch.detectors.hybrid import HybridDetector
from newswatch.detectors.learned import LearnedDetector
from newswatch.detectors.lexical import LexicalDetector
from newswatch.detectors.semantic import SemanticDetector

DETECTORS: dict[str, type[Detector]] = {
    SemanticDetector.kind: SemanticDetector,
    ClassifierDetector.kind: ClassifierDetector,
    LexicalDetector.kind: LexicalDetector,
    HybridDetector.kind: HybridDetector,
    LearnedDetector.kind: LearnedDetector,
}


def build(kind: str, topic, embedder) -> Detector:
    return DETECTORS[kind](topic, embedder)
