"""Hybrid detector: lexical gate, then a learned judgement of the gated sentences.

Why: event topics are decided by one sentence, and most articles never mention
the event's words at all. So:
1. Names carry their titles (`detectors.actors`): "Chirac said" is read as
   "Prime Minister Chirac said", a coffee institute's "president" as its "chief".
   The headline is a sentence of its own.
2. Guards (require_any + every entity role in one sentence, no exclude_any in
   the passage) pick *candidate sentences* from the text as read; a document
   without one is rejected with the guard as the reason - cheap, and explainable.
3. Candidate sentences of the whole batch are embedded in one extra encode call
   (short, few: the gate keeps them rare) and scored by the few-shot classifier
   (P(topic) from examples vs counter-examples) blended with semantic similarity
   to the examples: `base = w * P + (1 - w) * sim_scaled`. Sentences, not
   80-word passages, because the examples are sentences and one event sentence
   is diluted inside a passage about something else.
4. Who does the event word (`detectors.frames`, a dependency parse; only when
   `frame_bonus`/`frame_penalty` are set and the topic has entity roles): +bonus
   when an entity role is its agent (twice when a role meets a role), -penalty
   when someone else is ("the oil minister will meet the president").
   A *story frame* (`story_frame_floor`): the agent is a role-holder the story
   opens with (named in the headline or first sentence), the trip goes abroad
   (`rules.travel.abroad`: a country; a foreign city by a verb; wire copy's "here"), and it
   is not told as history ("last year",
   "in 1975", "once"): "Weizsaecker, on a four-day official visit to Argentina,
   said ..." in paragraph 5 of a story about him. The visit frames the story,
   so that sentence counts as lead and its base score is at least the floor.
5. Centrality, as the labelling guidelines define it (headline / lead, or a
   substantial part of the article): a candidate among the first
   `lead_sentences` sentences gets `lead_bonus`. When no candidate is in the
   lead, the event is a passing mention unless it recurs: the score is scaled by
   `off_lead_floor + (1 - off_lead_floor) * min(1, n / central_count)` for n
   candidate sentences. With `headline_centrality`, the classifier's P(topic) of
   the headline also counts as centrality and as lead weight (a story headlined
   "trade curbs against Japan" that says "sanctions" in paragraph 5). So do
   `central_any` phrases in the headline or the first `opening_sentences`
   ("retaliation", "tariffs"), for each later candidate that names no country
   the opening does not (`detectors.places`): that sentence names the story's
   own measure, so it counts as lead and its base score is at least
   `opening_floor` ("... talks to forestall sanctions" in paragraph 10 of a story
   opening on threatened tariffs); "the EU extended sanctions on Russia" in the
   same story is a passing mention.
   Each further candidate adds `repeat_bonus` (capped at `max_repeat`).
Document score = that centrality-weighted best candidate; `matched = score >= threshold`.
The evidence is that sentence (the best body sentence when the headline won; its
passage index, the sentence as read and the agents are in `details`): quoting the
whole passage could drag in boilerplate that shares the passage (paywalls).
Options (topic `detector_options.hybrid`): weight, lead_bonus, lead_sentences,
central_count, off_lead_floor, repeat_bonus, max_repeat, C, sim_low, sim_high,
frame_bonus, frame_penalty, story_frame_floor, domestic_penalty, headline_centrality,
central_any, opening_sentences, opening_floor, threshold. `details["why_central"]`
says which of these made the sentence count.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from newswatch.detectors.actors import ActorIndex, neutralise_titles
from newswatch.detectors.base import Batch, Detector, Document
from newswatch.detectors.classifier import FewShotModel
from newswatch.detectors.frames import Frame, FrameReader
from newswatch.detectors.hybrid_options import HybridOptions
from newswatch.detectors.lexical import Guards
from newswatch.detectors.lexicon import PhraseSet
from newswatch.detectors.places import countries_in, country_of
from newswatch.detectors.rules.measures import own_measure
from newswatch.detectors.rules.travel import abroad, domestic, home_country, story_frame
from newswatch.detectors.semantic import SemanticDetector
from newswatch.models import Decision, Evidence
from newswatch.passages import normalise_ws, sentences


@lru_cache(maxsize=256)  # a chunk of articles; bounded across a long pass
def _actors(title: str, text: str, known: tuple[str, ...]) -> ActorIndex:
    return ActorIndex.of(text if title.isupper() else f"{title}\n{text}", known=known)


def actors_of(doc: Document, known: tuple[str, ...] = ()) -> ActorIndex:
    """The document's actor index, built once for all topics (with the same known people)."""
    return _actors(doc.title, doc.text, known)


def _why_central(
    story: bool, in_lead: bool, said: list[str], central: float, n: int, recurs_at: int
) -> str:
    """What made the chosen sentence count, in the analyst's words (shown by `explain`)."""
    if story:
        return "story frame: the story's own leader travels abroad"
    if in_lead:
        return "in the headline or lead"
    if said:
        return "the opening says " + ", ".join(said)
    if central < 1:
        return f"passing mention: {n} sentence(s), none in the lead (scaled down)"
    return f"recurs: {n} sentences" if n >= recurs_at else "the headline is about the topic"


class HybridDetector(Detector):
    kind = "hybrid"
    needs_passage_vectors = False
    Options = HybridOptions
    opts: HybridOptions

    def __init__(self, topic, embedder) -> None:
        super().__init__(topic, embedder)
        o = self.opts
        self.guards = Guards(topic)
        self.fewshot = FewShotModel(topic, embedder, c=o.C)
        self.semantic = SemanticDetector(topic, embedder)
        # options read in the hot path, kept as attributes
        self.weight, self.lead_bonus, self.repeat_bonus = o.weight, o.lead_bonus, o.repeat_bonus
        self.lead_sentences, self.central_count = o.lead_sentences, o.central_count
        self.off_lead_floor, self.max_repeat = o.off_lead_floor, o.max_repeat
        self.sim_low, self.sim_high = o.sim_low, o.sim_high
        self.headline_centrality = o.headline_centrality
        self.frame_bonus, self.frame_penalty = o.frame_bonus, o.frame_penalty
        self.story_frame_floor, self.domestic_penalty = o.story_frame_floor, o.domestic_penalty
        # words that, in the opening, say the gated story is about the topic ("retaliation")
        self.central_any = PhraseSet.of(o.central_any)
        self.opening_sentences, self.opening_floor = o.opening_sentences, o.opening_floor
        roles = PhraseSet.of(a for aliases in topic.entities.values() for a in aliases)
        by_frame = self.frame_bonus or self.frame_penalty or self.story_frame_floor
        wanted = (by_frame or self.domestic_penalty) and roles
        self.frames = FrameReader(self.guards.require, roles) if wanted else None
        self._last_candidates: tuple[list[Document], list] | None = None

    def gate(self, doc: Document) -> bool:
        return not self.guards.quick_reject(doc)

    def key_words(self, sentence: str, actors: ActorIndex) -> tuple[str, ...]:
        """The quoted sentence's words that made it a candidate: event phrases, role words,
        and the names of the people it titles (bold in the alert)."""
        names = [n for n in actors.titles if re.search(rf"\b{re.escape(n)}\b", sentence)]
        return tuple(dict.fromkeys([*self.guards.key_words(sentence), *names]))

    def candidates(self, doc: Document) -> list[tuple[int, int, str, str]]:
        """(passage, sentence index in the document, sentence, sentence as judged).

        Judged = with known names titled ("Prime Minister Chirac said"), so a
        sentence naming a leader only by name still passes an entity guard, and the
        model sees who acts.
        """
        if self.guards.quick_reject(doc):  # titles come from the text: no need to read them yet
            return []
        actors = actors_of(doc, self.topic.known_people)
        out: list[tuple[int, int, str, str]] = []
        n = 0
        for i, passage in enumerate(doc.passages):
            if self.guards.exclude.occurs_in(passage):
                n += len(self._sentences(doc, i, passage))
                continue
            for sent in self._sentences(doc, i, passage):
                if self.guards.require and not self.guards.require.occurs_in(sent):
                    n += 1  # titles add entity words, never event words: skip the rewrite
                    continue
                judged = actors.expand(sent)
                if n == 0 and sent.isupper():  # wire headlines: the parser reads lower case
                    judged = re.sub(r"\b[A-Z][A-Z'-]+\b", lambda m: m.group(0).lower(), judged)
                    judged = neutralise_titles(judged)
                if self.guards.sentence_ok(judged):
                    out.append((i, n, sent, judged))
                n += 1
        return out

    @staticmethod
    def _protagonists(actors: ActorIndex, opening: str) -> list[str]:
        """Known names in the headline or the first sentence: whom the story is about."""
        return [n for n in actors.titles if re.search(rf"(?i)\b{re.escape(n)}\b", opening)]

    def _opening(self, doc: Document, n: int) -> list[str]:
        """The headline and the story's first `n` sentences."""
        out: list[str] = []
        for i, passage in enumerate(doc.passages):
            out += self._sentences(doc, i, passage)
            if len(out) > n:
                break
        return out[: n + 1]

    @staticmethod
    def _sentences(doc: Document, i: int, passage: str) -> list[str]:
        """Sentences of a passage; the title is one of its own (it has no full stop)."""
        title = normalise_ws(doc.title)
        if i == 0 and title and passage.startswith(title) and len(passage) > len(title):
            return [title, *(sentences(passage[len(title) :]) or [])]
        return sentences(passage) or [passage]

    def sentence_scores(self, vecs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Base score, classifier probability and nearest-anchor index per sentence vector."""
        prob = self.fewshot.proba(vecs)
        sim, which = self.semantic.passage_scores(vecs)
        sim_scaled = np.clip((sim - self.sim_low) / (self.sim_high - self.sim_low), 0, 1)
        return self.weight * prob + (1 - self.weight) * sim_scaled, prob, which

    def _reject(self, doc: Document) -> Decision:
        ex = self.guards.exclude.find(f"{doc.title}\n{doc.text}") if self.guards.exclude else []
        if ex:
            return self.no_match(guard="exclude_any: " + ", ".join(ex))
        return self.no_match(guard="no sentence passes require_any/entities")

    def _batch_candidates(self, docs) -> list[list[tuple[int, int, str, str]]]:
        """Candidates per document; the last batch's are kept, so `texts_to_encode` and
        `detect` on the same documents read them once."""
        last = self._last_candidates
        if (
            last is not None
            and len(last[0]) == len(docs)
            and all(a is b for a, b in zip(last[0], docs, strict=True))
        ):
            return last[1]
        cands = [self.candidates(d) for d in docs]
        self._last_candidates = (list(docs), cands)
        return cands

    def _texts(self, docs, cands) -> list[str]:
        flat = [j for c in cands for *_, j in c]
        # headlines of the candidates' documents: is the topic what the story is about?
        heads = [d.title for d, c in zip(docs, cands, strict=True) if c and d.title]
        return flat + (heads if self.headline_centrality else [])

    def texts_to_encode(self, docs) -> list[str]:
        return self._texts(docs, self._batch_candidates(docs))

    def detect(self, batch: Batch) -> list[Decision]:
        cands = self._batch_candidates(batch.docs)
        self._last_candidates = None  # the batch is done: do not keep its documents
        flat = [j for c in cands for *_, j in c]
        vecs = self.embedder.encode(self._texts(batch.docs, cands))
        head_p = iter(self.fewshot.proba(vecs[len(flat) :]))
        out: list[Decision] = []
        start = 0
        for doc, cand in zip(batch.docs, cands, strict=True):
            if not cand:
                out.append(self._reject(doc))
                continue
            v = vecs[start : start + len(cand)]
            start += len(cand)
            headline = float(next(head_p)) if self.headline_centrality and doc.title else 0.0
            out.append(self._decide(doc, cand, v, headline))
        return out

    def _framed(
        self, cand: list[tuple[int, int, str, str]], story_opening: str, said: list[str]
    ) -> np.ndarray:
        """Later sentences naming the measure the opening's `central_any` words are about.

        The opening says "retaliation" and a later sentence calls it sanctions: the
        story's own measure, unless another country's or told as background; a
        sentence of the opening speaks for itself.
        """
        if not said:
            return np.zeros(len(cand), dtype=bool)
        parties = countries_in(story_opening)  # the countries the opening names
        return np.array(
            [
                n > self.opening_sentences and own_measure(s, parties, self.guards.require)
                for _, n, s, _ in cand
            ],
            dtype=bool,
        )

    def _by_agents(
        self, base: np.ndarray, frames: list[list[Frame]], actors: ActorIndex, opening: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Base scores adjusted for who does the event word, and which sentences are
        story frames (the story's own leader on a trip abroad)."""
        base = base.copy()
        for j, fs in enumerate(frames):
            if any(f.mutual for f in fs):  # a leader meets a leader
                base[j] += 2 * self.frame_bonus
            elif any(f.role for f in fs):
                base[j] += self.frame_bonus
            elif any(f.agent for f in fs):
                base[j] -= self.frame_penalty
            if self.domestic_penalty and any(domestic(f, actors, opening) for f in fs):
                base[j] -= self.domestic_penalty  # a leader touring at home
        story = np.zeros(len(base), dtype=bool)
        heroes = self._protagonists(actors, opening) if self.story_frame_floor and frames else []
        if heroes:
            # the event frames the whole story, wherever the sentence stands
            story = np.array(
                [any(story_frame(f, heroes, actors, opening) for f in fs) for fs in frames],
                dtype=bool,
            )
            base = np.where(story, np.maximum(base, self.story_frame_floor), base)
        return base, story

    @classmethod
    def _event_actors(
        cls, actors: ActorIndex, opening: str, sentence: str, frames: list[Frame]
    ) -> tuple[str, ...]:
        """Who the event is about (for grouping outlets' write-ups): the titled people of the
        headline and first sentence, then those of the evidence sentence and its agents."""
        text = " ".join([opening, sentence, *(f.agent for f in frames)])
        found = [n for n in actors.titles if re.search(rf"\b{re.escape(n)}\b", text)]
        return tuple(sorted(dict.fromkeys(found)))

    @staticmethod
    def _event_places(
        actors: ActorIndex, opening: str, sentence: str, frames: list[Frame]
    ) -> tuple[str, ...]:
        """The countries involved: named in the headline, first sentence or evidence, a trip's
        destination, and the travellers' own countries."""
        codes = countries_in(opening) | countries_in(sentence)
        for f in frames:
            if f.place and (c := country_of(f.place)):
                codes.add(c)
            if f.agent and (home := home_country(f, actors)):
                codes.add(home)
        return tuple(sorted(codes))

    def _decide(
        self, doc: Document, cand: list[tuple[int, int, str, str]], v: np.ndarray, headline: float
    ) -> Decision:
        """One document's decision from its candidate sentences' vectors."""
        return self._judge(doc, cand, v, headline)[0]

    def _judge(
        self, doc: Document, cand: list[tuple[int, int, str, str]], v: np.ndarray, headline: float
    ) -> tuple[Decision, dict[str, float]]:
        """The decision and the signals it was made from (the `learned` kind's features)."""
        actors = actors_of(doc, self.topic.known_people)
        first = self._opening(doc, max(1, self.opening_sentences))
        opening = " ".join(first[:2])  # headline and first sentence: whom the story is about
        story_opening = " ".join(first[: self.opening_sentences + 1])
        said = self.central_any.matched(story_opening)  # "retaliation" in the opening
        base, prob, which = self.sentence_scores(v)
        framed = self._framed(cand, story_opening, said)
        base = np.where(framed, np.maximum(base, self.opening_floor), base)
        lead = actors.lead if self.frames else ""
        frames = self.frames.frames([c[3] for c in cand], lead) if self.frames else []
        base, story = self._by_agents(base, frames, actors, opening)
        in_lead = np.array([n < self.lead_sentences for _, n, _, _ in cand])
        extra = self.repeat_bonus * min(len(cand) - 1, self.max_repeat)
        # a headline about the topic puts every candidate in the story's frame
        lead_weight = np.maximum(in_lead | story | framed, headline)
        scores = np.clip(base + self.lead_bonus * lead_weight + extra, 0, 1)
        central = 1.0 if (in_lead | story).any() else min(1.0, len(cand) / self.central_count)
        central = np.where(framed, 1.0, max(central, headline))
        scores = scores * (self.off_lead_floor + (1 - self.off_lead_floor) * central)
        k = int(np.argmax(scores))
        p, _, sentence, judged = cand[k]
        score = float(scores[k])
        why = _why_central(
            bool(story[k]),
            bool(in_lead[k]),
            said if framed[k] else [],
            central[k],
            len(cand),
            self.central_count,
        )
        if cand[k][1] == 0 and len(cand) > 1:
            # the headline decided; quote the story's best sentence (the title is shown anyway)
            rest = [j for j in range(len(cand)) if cand[j][1] != 0]
            j = max(rest, key=lambda j: scores[j])
            p, sentence = cand[j][0], cand[j][2]
        sims = self.semantic.passage_scores(v)[0]
        signals = {
            "hybrid": score,
            "prob_max": float(prob.max()),
            "prob_best": float(prob[k]),
            "sim_max": float(sims.max()),
            "base_max": float(base.max()),
            "in_lead": float(in_lead.any()),
            "story": float(story.any()),
            "framed": float(framed.any()),
            "headline": headline,
            "centrality": float(central[k]),
            "n_candidates": float(np.log1p(len(cand))),
            "first_at": 1.0 / (1.0 + min(n for _, n, _, _ in cand)),
            "agent_role": float(any(f.role for fs in frames for f in fs)) if frames else 0.0,
            "agent_other": float(
                any(f.agent and not f.role for fs in frames for f in fs) if frames else 0.0
            ),
            "abroad": float(
                any(
                    f.role and not f.background and abroad(f, actors, opening)
                    for fs in frames
                    for f in fs
                )
            )
            if frames
            else 0.0,
            "mutual": float(any(f.mutual for fs in frames for f in fs)) if frames else 0.0,
            "background": float(any(f.background for fs in frames for f in fs)) if frames else 0.0,
            "domestic": float(
                any(domestic(f, actors, opening) for fs in frames for f in fs) if frames else 0.0
            ),
        }
        decision = Decision(
            score=score,
            matched=score >= self.threshold,
            evidence=Evidence(
                text=sentence,
                passage=p,
                judged=judged,
                why=why,
                agents=tuple(f"{f.trigger}: {f.agent or '?'}" for f in frames[k]) if frames else (),
                highlights=self.key_words(sentence, actors),
                classifier=round(float(prob[k]), 3),
                base=round(float(base[k]), 3),
                centrality=round(float(central[k]), 3),
                candidates=len(cand),
                actors=self._event_actors(actors, opening, sentence, frames[k] if frames else []),
                places=self._event_places(actors, opening, sentence, frames[k] if frames else []),
            ),
            detector=self.kind,
            example=self.semantic.anchors[int(which[k])],
            guard=self.guards.check(judged).describe(),
        )
        return decision, signals
