"""The flow extractor: every text, with the msgctxt the engine looks it up with."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from babel.messages.extract import extract

from bot.deployment import load_deployment
from bot.flows.check import check_folder
from bot.flows.context import FlowContext
from bot.flows.extract import extract_flows
from bot.flows.state import State
from bot.i18n import workflow

ROOT = Path(__file__).resolve().parents[2]

SAMPLE = """\
id: sample
version: 1
language: en
title: A sample
description: Only for the test.
steps:
  - key: intro
    kind: message
    text: |
      Hello from {organisation}!
      Type /stop to stop.

  - key: age
    kind: choice
    text: How old are you?
    options:
      - {value: young, label: 12 to 17}
      - {value: adult, label: 18 or older}

  - key: rating
    kind: scale
    text: How was it?
    labels:
      1: Bad
      5: Very good

  - key: sure
    kind: confirm
    action: forget
    text: Sure?
    yes_label: Delete it
    no_label: Keep it
"""


def _found(text: str = SAMPLE) -> list[tuple[int, str, tuple[str, str], list[str]]]:
    handle = io.BytesIO(text.encode())
    handle.name = "conversations/sample.yaml"  # type: ignore[attr-defined]
    return list(extract_flows(handle, ["pgettext"], [], {}))


def test_every_text_with_its_context_and_line() -> None:
    found = {(messages[0], messages[1]): line for line, _, messages, _ in _found()}
    assert found == {
        ("sample:title", "A sample"): 4,
        ("sample:description", "Only for the test."): 5,
        ("sample:intro", "Hello from {organisation}!\nType /stop to stop.\n"): 9,
        ("sample:age", "How old are you?"): 15,
        ("sample:age:young", "12 to 17"): 17,
        ("sample:age:adult", "18 or older"): 18,
        ("sample:rating", "How was it?"): 22,
        ("sample:rating:1", "Bad"): 24,
        ("sample:rating:5", "Very good"): 25,
        ("sample:sure", "Sure?"): 30,
        ("sample:sure:yes", "Delete it"): 31,
        ("sample:sure:no", "Keep it"): 32,
    }
    assert {funcname for _, funcname, _, _ in _found()} == {"pgettext"}


def test_translator_comments_say_where_and_what_to_keep() -> None:
    comments = {messages[0]: found for _, _, messages, found in _found()}
    assert comments["sample:intro"][0] == "flow sample, step intro (message)"
    assert any("{organisation}" in c and "untranslated" in c for c in comments["sample:intro"])
    assert any("/stop" in c for c in comments["sample:intro"])
    assert any("line breaks" in c for c in comments["sample:intro"])
    assert comments["sample:age"] == ["flow sample, step age (choice question)"]
    assert comments["sample:age:young"][0].startswith("flow sample, step age (choice question)")
    assert "'young'" in comments["sample:age:young"][0]
    assert "point 5" in comments["sample:rating:5"][0]


def test_registered_as_a_babel_extractor() -> None:
    """`pybabel extract` finds the extractor by the name used in babel.cfg."""
    found = list(extract("buurtbot_flows", io.BytesIO(SAMPLE.encode())))
    lineno, message, _comments, context = found[2]
    assert (lineno, message, context) == (
        9,
        "Hello from {organisation}!\nType /stop to stop.\n",
        "sample:intro",
    )


def test_a_broken_flow_file_yields_nothing_it_cannot_read() -> None:
    assert _found("just text") == []
    assert _found("id: x\nsteps: nope\n") == []


class Recorder:
    """A translator that notes every lookup."""

    def __init__(self) -> None:
        self.calls: set[tuple[str | None, str]] = set()

    def gettext(self, message: str) -> str:
        self.calls.add((None, message))
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        self.calls.add((None, singular))
        return singular if n == 1 else plural

    def pgettext(self, context: str, message: str) -> str:
        self.calls.add((context, message))
        return message


def test_every_text_the_engine_asks_for_is_in_the_template(
    project: workflow.Project,
) -> None:
    """Render every step of every shipped flow; each lookup must be in the catalog."""
    template = {workflow.message_key(m) for m in workflow.extract(project) if m.id}
    recorder = Recorder()
    ctx = FlowContext(
        language="en",
        translators=lambda _code: recorder,
        deployment=load_deployment(ROOT / "buurtbot.yaml"),
    )
    for loaded in check_folder(ROOT / "conversations")[0]:
        flow = loaded.flow
        recorder.pgettext(f"{flow.id}:title", flow.title)
        for step in flow.steps:
            state = State(flow=flow.id, version=flow.version, step=step.key)
            step.ask(ctx, flow.id, state)
    missing: list[Any] = sorted(
        (call for call in recorder.calls if (call[1], call[0]) not in template), key=str
    )
    assert missing == []


def test_the_code_s_method_calls_are_extracted(project: workflow.Project) -> None:
    """`t.gettext(...)`, `ctx.t.ngettext(...)`, `t.pgettext(...)` are all found."""
    catalog = workflow.extract(project)
    question = catalog.get("Question {n} of {total}")
    assert question is not None
    assert any(path.endswith("engine.py") for path, _ in question.locations)
    assert catalog.get("Please choose at least {n} option.") is not None
    assert catalog.get("stop, unsubscribe", context="keywords for /stop") is not None
    stop = catalog.get("stop, unsubscribe", context="keywords for /stop")
    assert any("comma" in comment for comment in stop.auto_comments)
    assert catalog.get("{date} at {time}", context="date and time") is not None
