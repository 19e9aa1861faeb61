"""`flows check` points at the file and line of every problem."""

from __future__ import annotations

from pathlib import Path

from bot.flows.check import check_folder

BROKEN = """\
id: broken
version: 1
title: Broken
steps:
  - key: a
    kind: choice
    text: Pick
    options:
      - {value: x, label: X}
    next:
      - when: {step: a, equals: nope}
        goto: b
      - goto: nowhere
  - key: b
    kind: number
    text: How many?
    min: 10
    max: 1
  - key: a
    kind: text
    text: Again
  - key: c
    kind: wobble
    text: What kind?
  - key: d
    kind: scale
    text: Rate
    max: 40
"""

LOOP = """\
id: loop
version: 1
title: Loop
steps:
  - key: a
    kind: yes_no
    text: Again?
    next: b
  - key: b
    kind: message
    text: Round we go
    next: a
  - key: orphan
    kind: message
    text: Nobody comes here
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shape_errors_name_their_lines(tmp_path: Path) -> None:
    write(tmp_path, "broken.yaml", BROKEN)
    _, problems = check_folder(tmp_path)
    found = {(p.line, p.message.split(":")[0]) for p in problems}
    path = str(tmp_path / "broken.yaml")
    assert all(p.path == path for p in problems)
    lines = sorted(p.line for p in problems)
    assert 19 in lines  # duplicate key a
    assert 23 in lines  # unknown kind wobble
    assert 14 in lines  # min > max on b (the step)
    assert 25 in lines  # scale of 40 points (the step)
    assert any("duplicate step key 'a'" in p.message for p in problems), found


def test_graph_errors_name_their_lines(tmp_path: Path) -> None:
    text = BROKEN.split("  - key: a\n    kind: text")[0]  # only the first two steps
    text = text.replace("    min: 10\n    max: 1\n", "")
    write(tmp_path, "graph.yaml", text)
    _, problems = check_folder(tmp_path)
    messages = {p.line: p.message for p in problems}
    assert messages[11] == "step 'a' has no option 'nope'"
    assert messages[13] == "unknown step 'nowhere'"


def test_unreachable_and_no_way_out(tmp_path: Path) -> None:
    write(tmp_path, "loop.yaml", LOOP)
    _, problems = check_folder(tmp_path)
    messages = {(p.line, p.message) for p in problems}
    assert (13, "step 'orphan' can never be reached") in messages
    assert (5, "step 'a' has no way out: the flow can never end") in messages
    assert (9, "step 'b' has no way out: the flow can never end") in messages


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    write(tmp_path, "bad.yaml", "id: x\nsteps:\n  - key: [unclosed\n")
    _, problems = check_folder(tmp_path)
    assert problems and problems[0].line >= 3 and "YAML" in problems[0].message


def test_condition_on_a_later_question_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        "later.yaml",
        """\
id: later
version: 1
title: Later
steps:
  - key: first
    kind: yes_no
    text: First?
    next:
      - when: {step: second, equals: true}
        goto: end
  - key: second
    kind: yes_no
    text: Second?
""",
    )
    _, problems = check_folder(tmp_path)
    assert [str(p).split(":", 1)[1] for p in problems] == [
        "9: step 'second' is never answered before 'first'"
    ]


AUDIENCE = """\
id: plan
version: 1
title: Plan
role: worker
audience: {audience}
steps:
  - key: a
    kind: text
    text: What?
"""


def test_a_flow_says_who_answers_it(tmp_path: Path) -> None:
    write(tmp_path, "plan.yaml", AUDIENCE.format(audience="workers"))
    flows, problems = check_folder(tmp_path)
    assert problems == [] and not flows[0].flow.for_residents
    write(tmp_path, "plan.yaml", AUDIENCE.format(audience="residents"))
    _, problems = check_folder(tmp_path)
    assert problems and "audience: residents" in problems[0].message
    write(tmp_path, "plan.yaml", AUDIENCE.format(audience="everyone"))
    _, problems = check_folder(tmp_path)
    assert problems and problems[0].line == 5


FOLLOWUP_WHEN = """\
id: asks
version: 1
title: Asks
followups:
  - after: 14d
    flow: asks
    when: {step: keep, equals: true}
  - after: 1d
    flow: asks
    when: {step: nowhere, equals: true}
  - after: 2d
    flow: asks
    when: {step: keep, equals: maybe}
steps:
  - key: keep
    kind: yes_no
    text: Do you want to hear back?
"""


def test_a_followup_condition_is_checked_like_a_branch(tmp_path: Path) -> None:
    write(tmp_path, "asks.yaml", FOLLOWUP_WHEN)
    _, problems = check_folder(tmp_path)
    found = sorted((p.line, p.message) for p in problems)
    assert found == [
        (10, "condition on unknown step 'nowhere'"),
        (13, "step 'keep' answers true or false, not 'maybe'"),
    ]


SHARING = """\
id: sharing
version: 1
title: Sharing
steps:
  - key: uses
    kind: yes_no
    text: Do you come?
    next:
      - when: {step: uses, equals: true}
        goto: status
      - goto: status_2
  - key: status
    kind: choice
    text: How often?
    options:
      - {value: weekly, label: Weekly}
    next: done
  - key: status_2
    kind: set
    answer_key: status
    value: never
    next: done
  - key: done
    kind: message
    text: Thanks
    next:
      - when: {step: status, in: [weekly, never]}
        goto: end
      - goto: end
"""


def test_steps_on_two_branches_may_share_an_answer_key(tmp_path: Path) -> None:
    write(tmp_path, "sharing.yaml", SHARING)
    _, problems = check_folder(tmp_path)
    assert problems == []
    # A value neither step gives is still refused.
    write(tmp_path, "sharing.yaml", SHARING.replace("[weekly, never]", "[weekly, daily]"))
    _, problems = check_folder(tmp_path)
    assert [(p.line, p.message) for p in problems] == [(27, "step 'status' has no option 'daily'")]


def test_a_shared_answer_key_of_another_kind_or_step_is_refused(tmp_path: Path) -> None:
    number = SHARING.replace(
        "  - key: status_2\n    kind: set\n    answer_key: status\n    value: never\n",
        "  - key: status_2\n    kind: number\n    answer_key: status\n    text: How many?\n",
    ).replace("      - when: {step: status, in: [weekly, never]}\n        goto: end\n", "")
    write(tmp_path, "sharing.yaml", number)
    _, problems = check_folder(tmp_path)
    assert [(p.line, p.message) for p in problems] == [
        (
            20,
            "steps sharing the answer key 'status' ask in different ways (choice, number): "
            "they must be of one kind",
        )
    ]
    write(tmp_path, "sharing.yaml", SHARING.replace("answer_key: status", "answer_key: uses"))
    _, problems = check_folder(tmp_path)
    # A set step may share a question's answer; then `status` gives weekly only.
    assert [p.message for p in problems] == ["step 'status' has no option 'never'"]
    write(tmp_path, "sharing.yaml", SHARING.replace("answer_key: status", "answer_key: done"))
    _, problems = check_folder(tmp_path)
    assert (20, "answer_key 'done' is the key of a message step, which keeps no answer") in [
        (p.line, p.message) for p in problems
    ]


def test_a_subflow_must_name_another_known_flow(tmp_path: Path) -> None:
    flow = (
        "id: {id}\nversion: 1\ntitle: T\nsteps:\n"
        "  - key: go\n    kind: subflow\n    flow: {target}\n"
        "  - key: bye\n    kind: message\n    text: Bye\n"
    )
    write(tmp_path, "a.yaml", flow.format(id="a", target="b"))
    write(tmp_path, "b.yaml", flow.format(id="b", target="nope"))
    write(tmp_path, "c.yaml", flow.format(id="c", target="c"))
    _, problems = check_folder(tmp_path)
    assert [(Path(p.path).name, p.line, p.message) for p in problems] == [
        ("b.yaml", 7, "unknown flow 'nope'"),
        ("c.yaml", 7, "a flow cannot run itself as a subflow"),
    ]
