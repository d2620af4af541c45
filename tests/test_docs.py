"""The manual matches the code, in the sqlite-utils manner: every command, option, topic
field and detector option is documented, with the defaults the code really has."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer.main

from newswatch.cli import app
from newswatch.detectors import registry
from newswatch.schema import Settings, TopicConfig

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
COMMANDS = (ROOT / "docs" / "commands.md").read_text()
TOPICS = (ROOT / "docs" / "topics.md").read_text()


def _commands() -> dict:
    return typer.main.get_command(app).commands


def _section(doc: str, heading: str) -> str:
    """The text under `## heading` up to the next heading of the same level."""
    m = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", doc, re.M | re.S)
    assert m, f"no section '## {heading}'"
    return m.group(1)


def test_every_command_is_in_the_readme_and_has_its_section():
    for name in _commands():
        assert f"`newswatch {name}`" in README, f"README does not name newswatch {name}"
        _section(COMMANDS, f"newswatch {name}")


def test_every_option_of_every_command_is_documented_in_its_section():
    for name, command in _commands().items():
        text = _section(COMMANDS, f"newswatch {name}")
        for param in command.params:
            for opt in (o for o in param.opts if o.startswith("--")):
                assert f"`{opt}" in text, f"newswatch {name} {opt} is not in docs/commands.md"


def test_no_documented_command_is_gone():
    documented = set(re.findall(r"^## newswatch (\S+)", COMMANDS, re.M))
    assert documented == set(_commands())


def _row(doc: str, name: str) -> str:
    m = re.search(rf"^\| `{re.escape(name)}` \|(.*)$", doc, re.M)
    assert m, f"`{name}` has no row in docs/topics.md"
    return m.group(1)


def test_every_topic_field_is_documented():
    for name in TopicConfig.model_fields:
        _row(TOPICS, name)


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return json.dumps(value) if value else "[]"
    return str(value)


def test_every_detector_option_is_documented_with_its_default():
    for kind, cls in registry.DETECTORS.items():
        section = TOPICS.split(f"### `{kind}`", 1)
        assert len(section) == 2, f"docs/topics.md has no section for detector {kind}"
        body = section[1].split("\n### ", 1)[0]
        documented = set(re.findall(r"^\| `(\w+)` \|", body, re.M))
        assert documented == set(cls.Options.model_fields), kind
        for name, field in cls.Options.model_fields.items():
            if field.default is not None:
                assert _row(body, name).split("|")[0].strip() == _shown(field.default), (
                    kind,
                    name,
                )


def test_every_settings_section_is_in_the_readme():
    for section, field in Settings.model_fields.items():
        if hasattr(field.annotation, "model_fields"):
            for key in field.annotation.model_fields:
                assert key in README, f"settings {section}.{key} is not in the README"
        else:
            assert f"`{section}`" in README
