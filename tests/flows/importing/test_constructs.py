"""Each construct of a RapidPro flow, imported on its own: what it becomes, what is reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.flows.check import check_folder
from bot.flows.importing import import_file
from tests.flows.importing.specs import export, flow, node, router_node, send, u


def run(tmp_path: Path, data: Any) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Import `data`; the flows written (id -> YAML data) and the report lines."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = tmp_path / "export.json"
    source.write_text(json.dumps(data), encoding="utf-8")
    into = tmp_path / "flows"
    outcome = import_file(source, into)
    _, problems = check_folder(into) if into.exists() else ([], [])
    assert problems == []
    flows = {
        path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(into.glob("*.yaml"))
    }
    assert set(outcome.imported) <= set(flows)
    return flows, outcome.lines


def steps(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["key"]: step for step in data["steps"]}


def question(kind_cases, categories, ask_again: bool = True, quick=None):
    other_to = "ask" if ask_again else "after"
    return flow(
        "Q",
        [
            node("ask", [send("ask/m", "Your answer?", quick)], "wait"),
            router_node("wait", "Answer", [*categories, ("Other", other_to)], kind_cases),
            node("after", [send("after/m", "Thanks")], None),
        ],
    )


def test_send_msg_and_wait_with_text_cases_is_a_choice_with_category_labels(tmp_path):
    data = question(
        [("has_any_word", ["yes y"], "Yes"), ("has_phrase", ["not really"], "No")],
        [("Yes", "after"), ("No", "after")],
    )
    flows, lines = run(tmp_path, export(data))
    answer = steps(flows["q"])["answer"]
    assert answer["kind"] == "choice"
    assert answer["text"] == "Your answer?"
    assert answer["options"] == [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]
    assert answer["next"] == "message_1"
    assert any('category "Yes": the words y are not matched' in line for line in lines)
    assert any('category "No": the words not really' in line for line in lines)


@pytest.mark.parametrize(
    "case",
    ["has_any_word", "has_all_words", "has_phrase", "has_only_phrase", "has_beginning"],
)
def test_every_text_test_gives_options(tmp_path, case):
    data = question(
        [(case, ["Red"], "Red"), (case, ["Blue"], "Blue")], [("Red", "after"), ("Blue", "after")]
    )
    flows, _ = run(tmp_path, export(data))
    assert [o["label"] for o in steps(flows["q"])["answer"]["options"]] == ["Red", "Blue"]


def test_other_through_a_sorry_message_asks_again(tmp_path):
    data = flow(
        "Q",
        [
            node("ask", [send("ask/m", "Yes or no?")], "wait"),
            router_node(
                "wait",
                "Answer",
                [("Yes", "after"), ("No", "after"), ("Other", "sorry")],
                [("has_any_word", ["yes"], "Yes"), ("has_any_word", ["no"], "No")],
            ),
            node("sorry", [send("sorry/m", "Sorry, please answer yes or no.")], "ask"),
            node("after", [send("after/m", "Thanks")], None),
        ],
    )
    flows, lines = run(tmp_path, export(data))
    found = steps(flows["q"])
    assert [o["value"] for o in found["answer"]["options"]] == ["yes", "no"]
    assert "Sorry" not in json.dumps(flows)
    assert any(
        f"node {u('sorry')}: the message after a wrong answer is left out" in line for line in lines
    )


def test_other_that_goes_on_is_an_option_leading_where_it_led(tmp_path):
    data = flow(
        "Q",
        [
            node("ask", [send("ask/m", "Which?")], "wait"),
            router_node(
                "wait",
                "Which",
                [("Tea", "end"), ("Other", "specify")],
                [("has_any_word", ["tea"], "Tea")],
            ),
            node("specify", [send("specify/m", "What then?")], "free"),
            router_node(
                "free",
                "Which Other",
                [("Has Text", "end"), ("Other", "specify")],
                [("has_text", [], "Has Text")],
            ),
            node("end", [send("end/m", "Bye")], None),
        ],
    )
    flows, _ = run(tmp_path, export(data))
    found = steps(flows["q"])
    assert found["which"]["options"][-1] == {"value": "other", "label": "Other"}
    assert found["which"]["next"] == [
        {"when": {"step": "which", "in": ["tea"]}, "goto": "message_1"},
        {"goto": "which_other"},
    ]
    assert found["which_other"]["kind"] == "text"
    assert found["which_other"]["next"] == "message_1"


def test_has_text_wait_is_a_text_question_and_quick_replies_make_it_a_choice(tmp_path):
    flows, _ = run(
        tmp_path, export(question([("has_text", [], "Has Text")], [("Has Text", "after")]))
    )
    assert steps(flows["q"])["answer"]["kind"] == "text"
    quick = question(
        [("has_text", [], "Has Text")], [("Has Text", "after")], quick=["Morning", "Evening"]
    )
    flows, _ = run(tmp_path / "2", export(quick))
    answer = steps(flows["q"])["answer"]
    assert answer["kind"] == "choice"
    assert [o["label"] for o in answer["options"]] == ["Morning", "Evening"]


def test_number_between_with_other_asking_again_is_a_bounded_number(tmp_path):
    flows, _ = run(
        tmp_path,
        export(question([("has_number_between", ["1", "20"], "Valid")], [("Valid", "after")])),
    )
    answer = steps(flows["q"])["answer"]
    assert (answer["kind"], answer["min"], answer["max"]) == ("number", 1, 20)


@pytest.mark.parametrize(
    ("case", "arguments", "bounds"),
    [
        ("has_number", [], (None, None)),
        ("has_number_lt", ["10"], (None, 9)),
        ("has_number_lte", ["10"], (None, 10)),
        ("has_number_gt", ["0"], (1, None)),
        ("has_number_gte", ["1.5"], (1.5, None)),
        ("has_number_eq", ["3"], (3, 3)),
    ],
)
def test_every_number_test_gives_a_number_question(tmp_path, case, arguments, bounds):
    flows, _ = run(tmp_path, export(question([(case, arguments, "Valid")], [("Valid", "after")])))
    answer = steps(flows["q"])["answer"]
    assert answer["kind"] == "number"
    assert (answer.get("min"), answer.get("max")) == bounds
    assert answer.get("integer", True) is ("." not in "".join(arguments))


def test_number_categories_become_branches(tmp_path):
    data = flow(
        "Q",
        [
            node("ask", [send("ask/m", "How old are you?")], "wait"),
            router_node(
                "wait",
                "Age",
                [("Young", "young"), ("Old", "old"), ("Other", "ask")],
                [("has_number_lt", ["18"], "Young"), ("has_number_gte", ["18"], "Old")],
            ),
            node("young", [send("young/m", "Young!")], None),
            node("old", [send("old/m", "Grown up!")], None),
        ],
    )
    flows, _ = run(tmp_path, export(data))
    rules = steps(flows["q"])["age"]["next"]
    assert rules[0]["when"] == {"step": "age", "max": 17}
    assert rules[1] == {"goto": "message_2"}  # 18 and over: all the rest


@pytest.mark.parametrize(
    ("case", "when"),
    [("has_date_gt", "future"), ("has_date_lt", "past"), ("has_date", None)],
)
def test_date_tests(tmp_path, case, when):
    arguments = [] if case == "has_date" else ["@(today())"]
    flows, _ = run(tmp_path, export(question([(case, arguments, "Valid")], [("Valid", "after")])))
    answer = steps(flows["q"])["answer"]
    assert answer["kind"] == "date"
    assert answer.get("when") == when


@pytest.mark.parametrize(("case", "what"), [("has_email", "e-mail"), ("has_phone", "phone")])
def test_email_and_phone_are_text_and_reported(tmp_path, case, what):
    flows, lines = run(tmp_path, export(question([(case, [], "Valid")], [("Valid", "after")])))
    assert steps(flows["q"])["answer"]["kind"] == "text"
    assert any(
        f"not checked as a{'n' if what == 'e-mail' else ''} {what}" in line for line in lines
    )


def test_split_on_an_earlier_result_is_branching(tmp_path):
    data = flow(
        "Q",
        [
            node("ask", [send("ask/m", "Coffee or tea?")], "wait"),
            router_node(
                "wait",
                "Drink",
                [("Coffee", "split"), ("Tea", "split"), ("Other", "ask")],
                [("has_any_word", ["coffee"], "Coffee"), ("has_any_word", ["tea"], "Tea")],
            ),
            router_node(
                "split",
                None,
                [("Coffee", "c"), ("Other", "t")],
                [("has_only_text", ["Coffee"], "Coffee")],
                operand="@results.drink.category",
                wait=False,
            ),
            node("c", [send("c/m", "Espresso it is")], None),
            node("t", [send("t/m", "Green tea it is")], None),
        ],
    )
    flows, _ = run(tmp_path, export(data))
    drink = steps(flows["q"])["drink"]
    assert drink["next"][0] == {"when": {"step": "drink", "in": ["coffee"]}, "goto": "message_1"}
    assert drink["next"][-1] == {"goto": "message_2"}


def test_contact_fields_language_and_subflow(tmp_path):
    main = flow(
        "Main",
        [
            node("ask", [send("ask/m", "Your language?")], "wait"),
            router_node(
                "wait",
                "Language",
                [("English", "set"), ("Dutch", "set"), ("Other", "ask")],
                [("has_any_word", ["english"], "English"), ("has_any_word", ["dutch"], "Dutch")],
            ),
            node(
                "set",
                [
                    {
                        "uuid": u("set/a"),
                        "type": "set_contact_language",
                        "language": "@results.language",
                    }
                ],
                "hood",
            ),
            node("hood", [send("hood/m", "Your neighbourhood?")], "hoodw"),
            router_node(
                "hoodw",
                "Wijk",
                [("Has Text", "field"), ("Other", "hood")],
                [("has_text", [], "Has Text")],
            ),
            node(
                "field",
                [
                    {
                        "uuid": u("f/a"),
                        "type": "set_contact_field",
                        "field": {"key": "wijk", "name": "Wijk"},
                        "value": "@results.wijk",
                    },
                    {
                        "uuid": u("f/b"),
                        "type": "set_contact_field",
                        "field": {"key": "favourite", "name": "Favourite"},
                        "value": "@input.text",
                    },
                    {"uuid": u("f/c"), "type": "set_run_result", "name": "Done", "value": "yes"},
                ],
                "sub",
            ),
            router_node(
                "sub",
                None,
                [("Complete", None), ("Expired", None)],
                [
                    ("has_run_status", ["completed"], "Complete"),
                    ("has_run_status", ["expired"], "Expired"),
                ],
                operand="@child.run.status",
                wait=False,
                default=None,
                actions=[
                    {
                        "uuid": u("sub/a"),
                        "type": "enter_flow",
                        "flow": {"uuid": u("flow/Child"), "name": "Child"},
                    }
                ],
            ),
        ],
    )
    child = flow("Child", [node("hi", [send("hi/m", "Hello from the subflow")], None)])
    flows, lines = run(tmp_path, export(main, child))
    found = steps(flows["main"])
    assert found["language"]["kind"] == "language" and "options" not in found["language"]
    assert found["wijk"]["kind"] == "neighbourhood"
    assert "then" not in flows["main"]
    assert found["done"]["next"] == "enter_child"
    assert found["enter_child"] == {
        "key": "enter_child",
        "kind": "subflow",
        "flow": "child",
        "next": "end",
    }
    assert {k: found["done"][k] for k in ("kind", "value")} == {"kind": "set", "value": "yes"}
    assert any("set_contact_field 'favourite' is not carried over" in line for line in lines)


@pytest.mark.parametrize(
    ("action", "words"),
    [
        ({"type": "call_webhook", "method": "GET", "url": "https://x.example/h"}, "call_webhook"),
        ({"type": "add_contact_groups", "groups": []}, "add_contact_groups"),
        (
            {"type": "send_email", "addresses": ["a@b.org"], "subject": "s", "body": "b"},
            "send_email",
        ),
        ({"type": "open_ticket", "topic": {}}, "open_ticket"),
        ({"type": "transfer_airtime", "amounts": {}}, "transfer_airtime"),
        ({"type": "call_classifier", "classifier": {}}, "call_classifier"),
    ],
)
def test_actions_without_a_counterpart_are_reported_with_their_node(tmp_path, action, words):
    data = flow("Q", [node("a", [send("a/m", "Hi"), {"uuid": u("x"), **action}], None)])
    flows, lines = run(tmp_path, export(data))
    assert flows["q"]["steps"][0]["text"] == "Hi"
    assert any(
        line.startswith(f'{tmp_path / "export.json"}: flow "Q" node {u("a")}: {words}')
        for line in lines
    ), lines


def test_expressions_are_left_out_and_reported_braces_stay_literal(tmp_path):
    data = flow(
        "Q", [node("a", [send("a/m", "Hi @contact.name, mail a@b.org {now} @@home")], None)]
    )
    flows, lines = run(tmp_path, export(data))
    assert flows["q"]["steps"][0]["text"] == "Hi, mail a@b.org {{now}} @home"
    assert any("expression @contact.name cannot be evaluated" in line for line in lines)


def test_expiry_version_and_stable_id(tmp_path):
    data = flow(
        "Poll: Safe Streets!",
        [node("a", [send("a/m", "Hi")], None)],
        expire_after_minutes=720,
        revision=9,
    )
    flows, _ = run(tmp_path, export(data))
    imported = flows["poll-safe-streets"]
    assert (imported["expires_after"], imported["version"]) == ("12h", 9)


def test_background_voice_and_survey_flows_are_skipped_and_named(tmp_path):
    flows_ = [
        flow("Voice", [node("v", [], None)], type="voice"),
        flow("Background", [node("b", [], None)], type="messaging_background"),
        flow("Text", [node("t", [send("t/m", "Hi")], None)]),
    ]
    flows, lines = run(tmp_path, export(*flows_))
    assert list(flows) == ["text"]
    assert any('flow "Voice": a voice flow is not imported' in line for line in lines)
    assert any('flow "Background": a background flow is not imported' in line for line in lines)


def test_random_split_and_contact_split_take_one_branch_and_say_so(tmp_path):
    data = flow(
        "Q",
        [
            router_node(
                "r", None, [("A", "a"), ("B", "b")], [], wait=False, kind="random", default=None
            ),
            node("a", [send("a/m", "A")], None),
            node("b", [send("b/m", "B")], None),
        ],
    )
    flows, lines = run(tmp_path, export(data))
    assert flows["q"]["steps"][0]["text"] == "A"
    assert any('a random split is not carried over: everyone takes "A"' in line for line in lines)
    assert any("step message_2 can only be reached through a split" in line for line in lines)


def test_an_existing_own_flow_keeps_its_id(tmp_path):
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "welcome.yaml").write_text(
        "id: welcome\nversion: 1\ntitle: Welcome\nsteps:\n  - {key: hi, kind: message, text: Hi}\n"
    )
    flows, _ = run(tmp_path, export(flow("Welcome", [node("a", [send("a/m", "Hoi")], None)])))
    assert "welcome-imported" in flows and flows["welcome"]["steps"][0]["text"] == "Hi"


def set_result(name: str, value: str, category: str = "", action: str = "r") -> dict[str, Any]:
    found = {"uuid": u(action), "type": "set_run_result", "name": name, "value": value}
    return found | ({"category": category} if category else {})


def test_set_run_result_is_a_set_step_under_the_result_name(tmp_path):
    data = flow(
        "Q",
        [
            node(
                "a",
                [
                    send("a/m", "Welcome"),
                    set_result("Registration Status", "registered", "Registered"),
                    set_result("Score", "10", action="r2"),
                ],
                "b",
            ),
            node("b", [send("b/m", "Bye")], None),
        ],
    )
    flows, lines = run(tmp_path, export(data))
    found = steps(flows["q"])
    assert found["registration_status"] == {
        "key": "registration_status",
        "kind": "set",
        "value": "registered",
        "label": "Registered",
        "next": "score",
    }
    assert found["score"] == {"key": "score", "kind": "set", "value": "10", "next": "message_2"}
    assert found["message_1"]["next"] == "registration_status"
    assert not any("set_run_result" in line for line in lines)


def test_set_run_result_with_an_expression_stays_reported(tmp_path):
    data = flow(
        "Q",
        [
            node(
                "a",
                [
                    send("a/m", "Hi"),
                    set_result("Full Name", "@contact.name"),
                    set_result("Echo", "@(upper(input))", action="r2"),
                ],
                None,
            )
        ],
    )
    flows, lines = run(tmp_path, export(data))
    assert [step["kind"] for step in flows["q"]["steps"]] == ["message"]
    for name, value in (("Full Name", "@contact.name"), ("Echo", "@(upper(input))")):
        assert any(
            f'node {u("a")}: set_run_result "{name}" with the value {value!r}: an expression'
            in line
            for line in lines
        ), lines


def test_a_split_on_a_set_result_branches_on_its_value(tmp_path):
    data = flow(
        "Q",
        [
            node("a", [set_result("Group", "pilot", "Pilot")], "split"),
            router_node(
                "split",
                None,
                [("Pilot", "p"), ("Control", "c"), ("Other", "c")],
                [("has_any_word", ["pilot"], "Pilot"), ("has_any_word", ["control"], "Control")],
                operand="@results.group",
                wait=False,
            ),
            node("p", [send("p/m", "You are in the pilot")], None),
            node("c", [send("c/m", "Thanks anyway")], None),
        ],
    )
    flows, lines = run(tmp_path, export(data))
    group = steps(flows["q"])["group"]
    assert group["next"] == [
        {"when": {"step": "group", "equals": "pilot"}, "goto": "message_1"},
        {"goto": "message_2"},
    ]
    assert any("case has_any_word on the result 'group' never holds" in line for line in lines)


@pytest.mark.parametrize(
    ("action", "store_as", "value"),
    [
        (
            {"type": "set_contact_field", "field": {"key": "wijk"}, "value": "De Riet"},
            "neighbourhood",
            "de-riet",
        ),
        (
            {"type": "set_contact_field", "field": {"key": "age_group"}, "value": "18-27"},
            "age_group",
            "18-27",
        ),
        (
            {"type": "set_contact_field", "field": {"key": "language"}, "value": "nld"},
            "language",
            "nl",
        ),
        ({"type": "set_contact_language", "language": "ara"}, "language", "ar"),
    ],
)
def test_a_fixed_value_for_a_profile_field_is_a_set_step(tmp_path, action, store_as, value):
    data = flow("Q", [node("a", [send("a/m", "Hi"), {"uuid": u("x"), **action}], None)])
    flows, lines = run(tmp_path, export(data))
    step = flows["q"]["steps"][1]
    assert (step["kind"], step["store_as"], step["value"]) == ("set", store_as, value)
    assert step["key"] == action.get("field", {}).get("key", "language")
    if store_as == "neighbourhood":
        assert any("must be a neighbourhood key in buurtbot.yaml" in line for line in lines)


@pytest.mark.parametrize(
    ("action", "words"),
    [
        (
            {"type": "set_contact_field", "field": {"key": "favourite"}, "value": "blue"},
            "set_contact_field 'favourite' with the value 'blue' is not a field Buurtbot keeps",
        ),
        (
            {"type": "set_contact_field", "field": {"key": "wijk"}, "value": "@fields.old"},
            "set_contact_field 'wijk' with the value '@fields.old' has no fixed value",
        ),
        (
            {"type": "set_contact_field", "field": {"key": "language"}, "value": "Dutch"},
            "set_contact_field 'language': 'Dutch' is no value Buurtbot can keep",
        ),
    ],
)
def test_other_fixed_contact_fields_stay_reported(tmp_path, action, words):
    data = flow("Q", [node("a", [send("a/m", "Hi"), {"uuid": u("x"), **action}], None)])
    flows, lines = run(tmp_path, export(data))
    assert [step["kind"] for step in flows["q"]["steps"]] == ["message"]
    assert any(words in line for line in lines), lines


def test_a_contact_field_from_a_set_result_is_reported_and_the_result_kept(tmp_path):
    field = {
        "uuid": u("x"),
        "type": "set_contact_field",
        "field": {"key": "wijk"},
        "value": "@results.hood",
    }
    data = flow("Q", [node("a", [send("a/m", "Hi"), set_result("Hood", "centrum"), field], None)])
    flows, lines = run(tmp_path, export(data))
    hood = steps(flows["q"])["hood"]
    assert (hood["kind"], hood["value"], "store_as" in hood) == ("set", "centrum", False)
    assert any("set_contact_field: no question gives its value" in line for line in lines)


def test_enter_flow_in_the_middle_is_a_subflow_step_that_goes_on_at_complete(tmp_path):
    enter = {
        "uuid": u("sub/a"),
        "type": "enter_flow",
        "flow": {"uuid": u("flow/Child"), "name": "Child"},
    }
    main = flow(
        "Main",
        [
            node("hi", [send("hi/m", "Hello")], "sub"),
            router_node(
                "sub",
                None,
                [("Complete", "after"), ("Expired", "sorry")],
                [
                    ("has_run_status", ["completed"], "Complete"),
                    ("has_run_status", ["expired"], "Expired"),
                ],
                operand="@child.run.status",
                wait=False,
                default=None,
                actions=[enter],
            ),
            node("after", [send("after/m", "Welcome back")], None),
            node("sorry", [send("sorry/m", "Too late")], None),
        ],
    )
    child = flow("Child", [node("c", [send("c/m", "In the child")], None)])
    flows, lines = run(tmp_path, export(main, child))
    found = steps(flows["main"])
    assert [s["key"] for s in flows["main"]["steps"]] == ["message_1", "enter_child", "message_2"]
    assert found["message_1"]["next"] == "enter_child"
    assert found["enter_child"]["next"] == "message_2"
    assert found["message_2"]["text"] == "Welcome back"
    assert any(
        f'node {u("sub")}: enter_flow "Child": the "Expired" exit is not carried over' in line
        for line in lines
    ), lines
    # A subflow that is not in the export, or the flow itself, is reported.
    flows, lines = run(tmp_path / "alone", export(main))
    assert [s["kind"] for s in flows["main"]["steps"]] == ["message", "message"]
    assert any('enter_flow: the flow "' in line and "not in this export" in line for line in lines)


def test_a_result_set_in_two_branches_is_one_answer_key(tmp_path):
    data = flow(
        "Q",
        [
            node("ask", [send("ask/m", "Do you come to the centre?")], "wait"),
            router_node(
                "wait",
                "Comes",
                [("Yes", "yes"), ("No", "no"), ("Other", "ask")],
                [("has_any_word", ["yes"], "Yes"), ("has_any_word", ["no"], "No")],
            ),
            node(
                "yes",
                [set_result("Status", "regular", "Regular"), send("yes/m", "What for?")],
                "why1",
            ),
            router_node(
                "why1",
                "Reason",
                [("Has Text", "split"), ("Other", "yes")],
                [("has_text", [], "Has Text")],
            ),
            node(
                "no",
                [
                    set_result("Status", "stranger", "Stranger", action="r2"),
                    send("no/m", "Why not?"),
                ],
                "why2",
            ),
            router_node(
                "why2",
                "Reason",
                [("Has Text", "split"), ("Other", "no")],
                [("has_text", [], "Has Text")],
            ),
            router_node(
                "split",
                None,
                [("Stranger", "invite"), ("Other", "bye")],
                [("has_any_word", ["stranger"], "Stranger")],
                operand="@results.status",
                wait=False,
            ),
            node("invite", [send("invite/m", "Come and have a look!")], "bye"),
            node("bye", [send("bye/m", "Thanks")], None),
        ],
    )
    flows, lines = run(tmp_path, export(data))
    found = steps(flows["q"])
    assert {k: found[k].get("answer_key") for k in found if k.startswith(("status", "reason"))} == {
        "status": None,
        "reason": None,
        "status_2": "status",
        "reason_2": "reason",
    }
    assert found["status_2"]["value"] == "stranger" and found["reason_2"]["text"] == "Why not?"
    # A split on the result after the branches meet tests the one answer key.
    assert found["reason"]["next"][0] == {
        "when": {"step": "status", "equals": "stranger"},
        "goto": found["reason_2"]["next"][0]["goto"],
    }
    assert not any("kept under" in line for line in lines), lines
