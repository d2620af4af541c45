"""Labels are data: the store's rules, Slack reactions, `label` imports and `labels` export.

Real parts: SQLite and PostgreSQL stores, a real pass (loopback news site, the real
model, trafilatura) posting to the local Slack-compatible server, analysts reacting
with their own user tokens through the real slack_sdk WebClient, and the CLI as a
user calls it. Nothing is mocked.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from newsroom import SPORT, serve, visit_article, write_config
from slack_sdk import WebClient
from typer.testing import CliRunner

from newswatch.cli import app
from newswatch.clock import utcnow
from newswatch.models import Label
from newswatch.store import Store

runner = CliRunner()
VISIT = "leader-foreign-visit"
VISIT_TEXT = (
    "The prime minister will travel to Tokyo next week for talks with the Japanese "
    "prime minister on trade and security, her office announced on Monday."
)


def _label(topic, key, value, who, minutes, source="cli") -> tuple[Label, str, str]:
    at = utcnow() - timedelta(hours=1) + timedelta(minutes=minutes)
    return Label(topic, key, value, source, who, at), f"title {key}", f"text of {key} by {who}"


def test_latest_label_per_person_wins_and_training_takes_the_majority(store_url):
    store = Store(store_url)
    try:
        store.put_labels(
            [
                _label(VISIT, "a", 1, "alice", 0),
                _label(VISIT, "a", 0, "alice", 5),  # alice changed her mind
                _label(VISIT, "a", 0, "bob", 1),
                _label(VISIT, "a", 1, "carol", 2),
                _label(VISIT, "b", 1, "alice", 1),  # a tie: the latest (bob's 0) wins
                _label(VISIT, "b", 0, "bob", 3),
                _label("sanctions", "b", 1, "alice", 1),
            ]
        )
        # an older label never overwrites a newer one of the same person
        assert store.put_labels([_label(VISIT, "a", 1, "alice", -30)]) == 0
        mine = {(x.article_key, x.who): x.value for x in store.labels(VISIT)}
        assert mine == {("a", "alice"): 0, ("a", "bob"): 0, ("a", "carol"): 1} | {
            ("b", "alice"): 1,
            ("b", "bob"): 0,
        }
        rows = store.training_labels(VISIT)
        assert [(r.article_key, r.value) for r in rows] == [("a", 0), ("b", 0)]
        assert rows[1].text == "text of b by bob"  # the text most recently judged
        assert [(r.topic_id, r.value) for r in store.training_labels() if r.article_key == "b"] == [
            (VISIT, 0),
            ("sanctions", 1),
        ]
        assert (VISIT, "cli", 0, 3) in store.label_counts()
        assert store.delete_label(VISIT, "a", "carol")
        assert store.training_labels(VISIT)[0].value == 0
    finally:
        store.close()


# -- Slack reactions ----------------------------------------------------------------------


def _wire_story() -> list[dict]:
    """One story from three outlets: a lead alert and two follow-ups in its thread."""
    from newswatch.demo import demo_articles

    first, second = (a for a in demo_articles() if a["slug"].startswith("kim-"))
    third = {
        **second,
        "slug": "kim-third-outlet",
        "outlet": "Third Outlet",
        "title": "Kim Jong Un accepts Kremlin invitation to Moscow victory parade",
        "paragraphs": [
            p.replace("Kremlin said", "Kremlin announced") for p in second["paragraphs"]
        ],
    }
    return [first, second, third]


def test_reactions_on_alerts_become_labels_and_removed_ones_stop_being_labels(
    site, slack_server, monkeypatch, tmp_path
):
    from newswatch.config import load_config
    from newswatch.pass_ import fetch as pipeline
    from newswatch.pass_ import run_pass

    monkeypatch.setenv("NEWSWATCH_TEST_SLACK_TOKEN", slack_server.token)
    monkeypatch.setattr(pipeline, "PREFETCH", False)
    copies = _wire_story()
    feeds = [serve(site, [a], feed_path=f"/outlet{i}.xml") for i, a in enumerate(copies)]
    cfg_dir = write_config(
        tmp_path / "config",
        store_url=f"sqlite:///{tmp_path / 'nw.db'}",
        sources=[
            {"name": a["outlet"], "url": f, "kind": "feed"}
            for a, f in zip(copies, feeds, strict=True)
        ],
        slack_api_url=slack_server.api_url,
    )
    cfg = load_config(cfg_dir)
    run_pass(cfg)
    posted = [m for m in slack_server.messages if (m.get("metadata") or {}).get("event_type")]
    alerts = [m for m in posted if m["metadata"]["event_payload"].get("topic") == VISIT]
    lead = next(m for m in alerts if not m["thread_ts"])
    reply = next(m for m in alerts if m["thread_ts"])
    url_of = {m["ts"]: m["metadata"]["event_payload"]["url"] for m in alerts}

    alice = WebClient(token=slack_server.user_token("U0ALICE"), base_url=slack_server.api_url)
    bob = WebClient(token=slack_server.user_token("U0BOB"), base_url=slack_server.api_url)
    alice.reactions_add(channel=lead["channel"], timestamp=lead["ts"], name="white_check_mark")
    bob.reactions_add(channel=lead["channel"], timestamp=lead["ts"], name="x")
    bob.reactions_add(channel=lead["channel"], timestamp=lead["ts"], name="eyes")  # not a label
    alice.reactions_add(channel=reply["channel"], timestamp=reply["ts"], name="+1::skin-tone-3")

    run_pass(cfg)  # no new articles: this pass only reads the reactions

    store = Store(cfg.settings.store.url)
    try:
        got = {(x.article_key, x.who): (x.value, x.source) for x in store.labels(VISIT)}
        lead_key = next(k for k, _ in got if url_of[lead["ts"]].endswith(k.split("/")[-1]))
        reply_key = next(k for k, _ in got if url_of[reply["ts"]].endswith(k.split("/")[-1]))
        assert got == {
            (lead_key, "U0ALICE"): (1, "slack"),
            (lead_key, "U0BOB"): (0, "slack"),
            (reply_key, "U0ALICE"): (1, "slack"),
        }
        kept = {r.article_key: r for r in store.training_labels(VISIT)}
        assert "Kim" in kept[lead_key].text and len(kept[lead_key].text) > 200  # the article
        # the threaded follow-up was read from its thread (conversations.replies)
        assert slack_server.requests_to("conversations.replies")

        # alice takes back her verdict on the lead; bob switches his to relevant
        alice.reactions_remove(
            channel=lead["channel"], timestamp=lead["ts"], name="white_check_mark"
        )
        bob.reactions_remove(channel=lead["channel"], timestamp=lead["ts"], name="x")
        bob.reactions_add(channel=lead["channel"], timestamp=lead["ts"], name="+1")
        run_pass(cfg)
        got = {(x.article_key, x.who): x.value for x in store.labels(VISIT)}
        assert got == {(lead_key, "U0BOB"): 1, (reply_key, "U0ALICE"): 1}

        # a later CLI label by bob is not overwritten by his reaction still being there
        store.put_labels([(Label(VISIT, lead_key, 0, "cli", "U0BOB", utcnow()), "t", "x")])
        run_pass(cfg)
        assert {
            (x.who, x.value, x.source) for x in store.labels(VISIT) if x.article_key == lead_key
        } == {("U0BOB", 0, "cli")}
    finally:
        store.close()


def test_reactions_are_left_alone_when_slack_cannot_be_read(store_url, slack_server):
    """A failed read (here: a server error on every history call) removes no label."""
    from newswatch.labels import sync_reactions
    from newswatch.notify import SlackNotifier, notice_message
    from newswatch.schema import Settings

    store = Store(store_url)
    notifier = SlackNotifier(slack_server.token, base_url=slack_server.api_url, max_retries=0)
    try:
        queued = store.enqueue_alert(
            topic_id=VISIT,
            story_id="s1",
            article_url="https://example.org/a",
            channel="#newswatch-test",
            delivery="immediate",
            score=0.9,
            payload={"title": "A visit", "evidence": "The president flew to Tokyo."},
        )
        assert queued is not None
        sent = notifier.send(notice_message("#newswatch-test", "an alert"))
        store.mark_sent(queued[0], sent.channel, sent.ts)
        alice = WebClient(token=slack_server.user_token("U0ALICE"), base_url=slack_server.api_url)
        alice.reactions_add(channel=sent.channel, timestamp=sent.ts, name="-1")
        first = sync_reactions(store, notifier, Settings())
        assert (first.written, first.removed, first.problem) == (1, 0, "")
        assert store.training_labels()[0].text == "The president flew to Tokyo."  # no article

        calls = len(slack_server.requests)
        assert sync_reactions(store, notifier, Settings(), shard="1/2").alerts == 0
        assert len(slack_server.requests) == calls  # only shard 0 reads Slack

        slack_server.fail_all(status=500)
        failed = sync_reactions(store, notifier, Settings())
        assert "conversations.history" in failed.problem and failed.removed == 0
        assert [x.value for x in store.labels()] == [0]

        slack_server.recover()
        alice.reactions_remove(channel=sent.channel, timestamp=sent.ts, name="-1")
        again = sync_reactions(store, notifier, Settings())
        assert (again.removed, again.problem, store.labels()) == (1, "", [])
    finally:
        slack_server.recover()
        store.close()


# -- the CLI ------------------------------------------------------------------------------


@pytest.fixture
def config_dir(tmp_path):
    return write_config(
        tmp_path / "config",
        store_url=f"sqlite:///{tmp_path / 'nw.db'}",
        sources=[{"name": "Example", "url": "https://example.org/feed.xml", "kind": "feed"}],
    )


def _jsonl(path, rows) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


ARTICLES = [
    {"id": "v1", "title": "PM flies to Tokyo", "text": "The prime minister flew to Tokyo."},
    {"id": "s1", "title": SPORT["title"], "text": " ".join(SPORT["paragraphs"]), "extra": 1},
    {"id": "b1", "title": "Maybe", "text": "The president may travel."},
]


def test_label_imports_a_labels_file_and_labels_counts_and_exports_it(config_dir, tmp_path):
    arts = _jsonl(tmp_path / "a.jsonl", ARTICLES)
    labs = _jsonl(
        tmp_path / "l.jsonl",
        [
            {"id": "v1", VISIT: 1, "sanctions": 0},
            {"id": "s1", VISIT: 0},
            {"id": "b1", VISIT: 2},  # borderline: not stored
        ],
    )
    cfg = ["--config-dir", str(config_dir)]
    result = runner.invoke(app, ["label", "--input", arts, "--labels", labs, "--who", "ann", *cfg])
    assert result.exit_code == 0, result.output
    assert "labels stored: 3 of 3 as 'ann'" in result.output
    assert "1 borderline (2) not stored" in result.output

    result = runner.invoke(app, ["labels", *cfg])
    assert result.exit_code == 0, result.output
    lines = [" ".join(x.split("│")).split() for x in result.output.splitlines()]
    assert [VISIT, "file", "1", "1"] in lines and ["sanctions", "file", "0", "1"] in lines
    assert f"{VISIT}: 2 article(s) for training (1 relevant, 1 not)" in result.output

    export = tmp_path / "out" / "labels.jsonl"
    result = runner.invoke(app, ["labels", "--topic", VISIT, "--export", str(export), *cfg])
    assert result.exit_code == 0, result.output
    exported = [json.loads(x) for x in export.read_text().splitlines()]
    assert exported == [{"id": "s1", VISIT: 0}, {"id": "v1", VISIT: 1}]
    texts = [
        json.loads(x) for x in (tmp_path / "out" / "labels.articles.jsonl").read_text().splitlines()
    ]
    assert texts[1] == {"id": "v1", "title": "PM flies to Tokyo", "text": ARTICLES[0]["text"]}

    # the export re-imports as is (here into a second store, as someone else)
    other = write_config(
        tmp_path / "other",
        store_url=f"sqlite:///{tmp_path / 'other.db'}",
        sources=[{"name": "Example", "url": "https://example.org/feed.xml", "kind": "feed"}],
    )
    articles_out = str(tmp_path / "out" / "labels.articles.jsonl")
    result = runner.invoke(
        app, ["label", "-i", articles_out, "-l", str(export), "--who", "bo", "-c", str(other)]
    )
    assert result.exit_code == 0, result.output
    store = Store(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        assert [(r.article_key, r.value, r.text) for r in store.training_labels()] == [
            ("s1", 0, ARTICLES[1]["text"]),
            ("v1", 1, ARTICLES[0]["text"]),
        ]
        assert {x.who for x in store.labels()} == {"bo"}
    finally:
        store.close()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"id": "v1", "no-such-topic": 1}, "l.jsonl:2: unknown topic 'no-such-topic'"),
        ({"id": "zz", VISIT: 1}, "l.jsonl:2: id 'zz' is not in"),
        ({"id": "v1", VISIT: 3}, f"l.jsonl:2: topic '{VISIT}': label must be 0, 1 or 2, not 3"),
        ({"id": "v1", VISIT: True}, "label must be 0, 1 or 2, not True"),
        ({VISIT: 1}, "l.jsonl:2: each line needs an object with an 'id'"),
    ],
    ids=["unknown-topic", "unknown-id", "bad-value", "bool", "no-id"],
)
def test_label_import_errors_name_the_file_and_line_and_store_nothing(
    config_dir, tmp_path, line, message
):
    arts = _jsonl(tmp_path / "a.jsonl", ARTICLES)
    labs = _jsonl(tmp_path / "l.jsonl", [{"id": "s1", VISIT: 0}, line])
    result = runner.invoke(app, ["label", "-i", arts, "-l", labs, "-c", str(config_dir)])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    store = Store(f"sqlite:///{tmp_path / 'nw.db'}")
    try:
        assert store.labels() == []  # the good first line was not stored either
    finally:
        store.close()


def test_label_url_fetches_stores_and_labels_the_page(config_dir, site, tmp_path, monkeypatch):
    monkeypatch.setenv("USER", "analyst7")
    visit = visit_article()
    serve(site, [visit])
    url = site.url(f"/news/{visit['slug']}.html?utm_source=mail")
    cfg = ["--config-dir", str(config_dir)]
    result = runner.invoke(app, ["label", "--url", url, "--topic", VISIT, "--relevant", *cfg])
    assert result.exit_code == 0, result.output
    assert "labelled it relevant for leader-foreign-visit as 'analyst7'" in result.output
    store = Store(f"sqlite:///{tmp_path / 'nw.db'}")
    try:
        (row,) = store.training_labels()
        assert "utm_" not in row.article_key and row.value == 1
        assert "Kim" in row.text
        assert store.get_articles([row.article_key])[row.article_key].article.text == row.text
        assert store.labels()[0].source == "cli"
    finally:
        store.close()

    result = runner.invoke(app, ["label", "--url", url, "--topic", "nope", "--relevant", *cfg])
    assert result.exit_code == 2 and "unknown topic" in result.output
    result = runner.invoke(app, ["label", "--url", url, "--topic", VISIT, *cfg])
    assert result.exit_code == 2 and "--relevant or --not-relevant" in result.output
    missing = site.url("/news/missing.html")
    result = runner.invoke(app, ["label", "--url", missing, "-t", VISIT, "--not-relevant", *cfg])
    assert result.exit_code == 1 and f"cannot fetch {missing}" in result.output


# -- label --review in a real terminal ----------------------------------------------------


class Terminal:
    """A child process on a real pty; `expect` reads until a text appears (with a deadline)."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        import os
        import pty
        import subprocess

        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
        )
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 600) -> str:
        import os
        import select
        import time

        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} did not appear; the terminal shows:\n{self.seen}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(
                        f"{text!r} never appeared; the terminal shows:\n{self.seen}"
                    )
                self.seen += chunk.decode("utf-8", "replace")
        head, _, self.seen = self.seen.partition(text)
        return head

    def press(self, key: str) -> None:
        import os

        os.write(self.master, key.encode())

    def close(self) -> int:
        import os

        try:
            return self.proc.wait(timeout=60)
        finally:
            os.close(self.master)


def test_review_in_a_terminal_stores_each_answer_as_it_is_given(config_dir, tmp_path):
    import os
    import sys

    from newswatch.labels.review import PROMPT
    from newswatch.models import Article

    texts = {
        "visit": ("PM flies to Tokyo for talks", VISIT_TEXT),
        "maybe": ("President may travel", "The president may travel abroad later this year."),
        "sport": (SPORT["title"], " ".join(SPORT["paragraphs"])),
        "home": ("Minister tours the north", "The prime minister toured flooded northern towns."),
        "trade": (
            "Exports rise",
            "Exports rose four percent in March, the statistics office said.",
        ),
    }
    store = Store(f"sqlite:///{tmp_path / 'nw.db'}")
    try:
        store.upsert_articles(
            [
                (Article(f"https://news.test/{k}", f"https://news.test/{k}", "Test", t, b), k, None)
                for k, (t, b) in texts.items()
            ]
        )
        # already labelled by this reviewer: not asked again
        store.put_labels(
            [(Label(VISIT, "https://news.test/trade", 0, "cli", "rev", utcnow()), "", "")]
        )
    finally:
        store.close()
    env = {**os.environ, "USER": "rev", "COLUMNS": "100", "TERM": "xterm"}
    argv = [sys.executable, "-m", "newswatch.cli", "label", "--review", "--topic", VISIT]
    term = Terminal([*argv, "--config-dir", str(config_dir)], env)
    db = f"sqlite:///{tmp_path / 'nw.db'}"

    def on_screen() -> str:
        screen = term.expect(PROMPT.strip())
        return next(k for k, (title, _) in texts.items() if title in screen)

    try:
        shown = [on_screen()]
        term.press("r")
        shown.append(on_screen())
        check = Store(db)  # the first answer is in the store before the next question
        assert [(x.article_key, x.value) for x in check.labels(VISIT)][-1:] == [
            (f"https://news.test/{shown[0]}", 1)
        ]
        check.close()
        term.press("x")  # not an answer: asked again
        term.expect("press r, n, s or q")
        term.expect(PROMPT.strip())
        term.press("n")
        shown.append(on_screen())
        term.press("s")
        term.expect(PROMPT.strip())
        term.press("q")
        term.expect("review done: 1 relevant, 1 not relevant, 1 skipped")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
    store = Store(f"sqlite:///{tmp_path / 'nw.db'}")
    try:
        got = {x.article_key.rsplit("/", 1)[1]: (x.value, x.who) for x in store.labels(VISIT)}
    finally:
        store.close()
    assert "trade" not in shown
    assert got == {"trade": (0, "rev"), shown[0]: (1, "rev"), shown[1]: (0, "rev")}


def test_reaction_emoji_settings_are_slack_names_and_may_not_overlap():
    from pydantic import ValidationError

    from newswatch.labels import verdicts
    from newswatch.schema import LabelSettings

    s = LabelSettings(relevant_emoji=[":heavy_check_mark:"], not_relevant_emoji=["no_entry"])
    assert s.relevant_emoji == ["heavy_check_mark"]
    got = verdicts({"heavy_check_mark": ["U1", "U2"], "no_entry": ["U2", "U3"], "eyes": ["U4"]}, s)
    assert got == {"U1": 1, "U3": 0}  # U2 said both: no label
    with pytest.raises(ValidationError, match="both relevant and not relevant"):
        LabelSettings(relevant_emoji=["x"])
