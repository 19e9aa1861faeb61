"""One goflow flow definition -> one Buurtbot flow (as plain data), its texts and a report.

The node graph is walked from the first node. Each node gives its steps in order: its
messages, then its question when it waits for a message. A message right before a
question (the usual "send, then wait" pair) becomes the question's text. A router that
does not wait is not a step: a split on an earlier result (`@results.x`) becomes the
`next` rules of the step that leads to it; any other split is followed along one branch,
and reported. Every step gets an explicit `next`, so the file's order does not matter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.flows.importing import actions as act
from bot.flows.importing import routers
from bot.flows.importing.texts import language_code, option_value, plain, snakify, unique

END = "end"
KEY_LIMIT = 32


@dataclass
class Note:
    """Something not carried over: at a node (uuid) or of the flow as a whole (None)."""

    node: str | None
    text: str


@dataclass
class Built:
    """A flow as data for its YAML file, with its texts and what was not carried over."""

    id: str
    name: str
    uuid: str
    data: dict[str, Any]
    #: msgctxt -> (source text, {language: translation})
    texts: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)


@dataclass
class _Route:
    """Where an answer leads: `when` (a condition, or None for always) -> a node uuid."""

    when: dict[str, Any] | None
    destination: str | None
    label: str = ""


class Builder:
    def __init__(self, flow: dict[str, Any], flow_id: str, ids: dict[str, str]):
        self.flow = flow
        self.id = flow_id
        self.ids = ids  # flow uuid -> flow id, for subflows in the same export
        self.name = str(flow.get("name") or flow_id)
        self.nodes: dict[str, dict[str, Any]] = {n["uuid"]: n for n in flow["nodes"]}
        self.first = flow["nodes"][0]["uuid"]
        self.localization: dict[str, dict[str, Any]] = flow.get("localization") or {}
        self.notes: list[Note] = []
        self.texts: dict[str, tuple[str, dict[str, str]]] = {}
        self.steps: list[dict[str, Any]] = []
        self.keys: set[str] = set()
        self.entry: dict[str, str] = {}  # node uuid -> its first step's key
        self.leaving: dict[str, list[_Route]] = {}  # last step key of a node -> routes
        self.results: dict[str, str] = {}  # result key (snakified) -> step key
        self.questions: dict[str, dict[str, Any]] = {}  # step key -> step
        self.after_input: list[tuple[str, str | None, dict[str, Any]]] = []
        self.then: str | None = None
        self.fields: set[str] = set()  # contact fields the flow sets
        self.prompt_nodes: dict[str, str] = {}  # wait node -> the node of its question
        # Messages after a wrong answer, before asking again (left out).
        self.sorry_nodes: set[str] = set()
        self.step_nodes: dict[str, str] = {}  # step key -> the node it came from
        self.messages = 0

    # ---- texts ----------------------------------------------------------------------

    def note(self, node: str | None, text: str) -> None:
        if not any(n.node == node and n.text == text for n in self.notes):
            self.notes.append(Note(node, text))

    def text(self, node: str, uuid: str, part: str, source: str, context: str) -> str:
        """A text in plain form; it and its translations are recorded under `context`."""
        cleaned, dropped = plain(source)
        for expression in dropped:
            self.note(node, f"expression {expression} cannot be evaluated: left out of the text")
        if cleaned:
            self.texts[context] = (cleaned, self.translations(uuid, part))
        return cleaned

    def translations(self, uuid: str, part: str, index: int = 0) -> dict[str, str]:
        """The translations of one text of the export (`localization[lang][uuid][part]`)."""
        found = {}
        for code, items in self.localization.items():
            values = (items.get(uuid) or {}).get(part)
            if values and len(values) > index:
                translated, _ = plain(values[index])
                if translated:
                    found[language_code(code)] = translated
        return found

    # ---- the walk -------------------------------------------------------------------

    def build(self) -> Built:
        reached = self._walk()
        # The steps stand in the export's order of nodes (the author's), not the walk's.
        order = [uuid for uuid in self.nodes if uuid in reached]
        unreachable = [uuid for uuid in self.nodes if uuid not in order]
        for uuid in unreachable:
            self.note(uuid, "cannot be reached from the first node: left out")
        prompts = self._prompts(order)
        for uuid in order:
            self._node(self.nodes[uuid], prompts)
        self._apply_after_input()
        self._link()
        return self._result()

    def _walk(self) -> set[str]:
        seen: set[str] = set()
        stack = [self.first]
        while stack:
            uuid = stack.pop()
            if uuid in seen or uuid not in self.nodes:
                continue
            seen.add(uuid)
            exits = self.nodes[uuid].get("exits") or []
            for exit_ in reversed(exits):
                destination = exit_.get("destination_uuid")
                if destination and destination not in seen:
                    stack.append(destination)
        return seen

    def _prompts(self, order: list[str]) -> dict[str, dict[str, Any]]:
        """Wait node uuid -> the send_msg action that asks its question."""
        into: dict[str, list[str]] = {}
        for uuid in order:
            for exit_ in self.nodes[uuid].get("exits") or []:
                destination = exit_.get("destination_uuid")
                if destination:
                    into.setdefault(destination, []).append(uuid)
        prompts: dict[str, dict[str, Any]] = {}
        for uuid in order:
            node = self.nodes[uuid]
            router = node.get("router") or {}
            if not router.get("wait"):
                continue
            own = [a for a in node.get("actions") or [] if a.get("type") == "send_msg"]
            if own:
                prompts[uuid] = own[-1]
                self.prompt_nodes[uuid] = uuid
                continue
            before = [p for p in dict.fromkeys(into.get(uuid, [])) if p != uuid]
            if len(before) != 1:
                continue
            previous = self.nodes[before[0]]
            actions = previous.get("actions") or []
            exits = previous.get("exits") or []
            if (
                not previous.get("router")
                and len(exits) == 1
                and actions
                and actions[-1].get("type") == "send_msg"
                and actions[-1].get("uuid") not in {p.get("uuid") for p in prompts.values()}
            ):
                prompts[uuid] = actions[-1]
                self.prompt_nodes[uuid] = before[0]
        return prompts

    def _add(self, node: str, step: dict[str, Any]) -> dict[str, Any]:
        self.steps.append(step)
        self.step_nodes[step["key"]] = node
        self.entry.setdefault(node, step["key"])
        return step

    def _node(self, node: dict[str, Any], prompts: dict[str, dict[str, Any]]) -> None:
        uuid = node["uuid"]
        consumed = {p.get("uuid") for p in prompts.values()}
        previous: dict[str, Any] | None = None
        for action in node.get("actions") or []:
            kind = action.get("type")
            if kind == "send_msg":
                if action.get("uuid") in consumed:
                    continue
                step = self._message(uuid, action)
                if step is not None:
                    if previous is not None:
                        previous["next"] = step["key"]
                    previous = self._add(uuid, step)
            elif kind in ("set_contact_field", "set_contact_language"):
                if kind == "set_contact_field":
                    self.fields.add(act.field_key(action))
                reads = act.reads_result(action.get("value") or action.get("language"))
                if reads is None:
                    what = "a fixed value" if kind == "set_contact_field" else "a fixed language"
                    self.note(uuid, f"{kind} with {what} is not carried over")
                else:
                    self.after_input.append((kind, reads[1], action | {"_node": uuid}))
            elif kind == "enter_flow":
                self._subflow(uuid, action, node)
            else:
                self.note(uuid, act.not_carried(action))
        router = node.get("router")
        routes: list[_Route]
        if isinstance(router, dict) and router.get("wait"):
            question = self._question(node, router, prompts.get(uuid))
            if previous is not None:
                previous["next"] = question["key"]
            previous = self._add(uuid, question)
            routes = self._question_routes(node, router, question)
        elif isinstance(router, dict):
            routes = self._split_routes(node, router)
        else:
            exits = node.get("exits") or [{}]
            routes = [_Route(None, exits[0].get("destination_uuid"))]
        if previous is not None:
            self.leaving[previous["key"]] = routes
        else:
            self.leaving[f"node:{uuid}"] = routes

    # ---- actions --------------------------------------------------------------------

    def _message(self, node: str, action: dict[str, Any]) -> dict[str, Any] | None:
        self.messages += 1
        key = unique(f"message_{self.messages}", self.keys, KEY_LIMIT)
        source = str(action.get("text") or "")
        text = self.text(node, action["uuid"], "text", source, f"{self.id}:{key}")
        if not text:
            self.keys.discard(key)
            self.messages -= 1
            self.note(node, "a message without text is left out")
            return None
        if action.get("attachments"):
            self.note(node, "attachments of a message are not carried over")
        if action.get("quick_replies"):
            self.note(node, "quick replies of a message that waits for no answer are left out")
        return {"key": key, "kind": "message", "text": text}

    def _subflow(self, node: str, action: dict[str, Any], definition: dict[str, Any]) -> None:
        flow = action.get("flow") or {}
        target = self.ids.get(str(flow.get("uuid")))
        name = flow.get("name") or flow.get("uuid") or "?"
        if target is None:
            self.note(
                node, f'enter_flow: the flow "{name}" is not in this export: not carried over'
            )
            return
        if self.then is not None and self.then != target:
            self.note(node, f'enter_flow "{name}": only one flow can follow; not carried over')
            return
        self.then = target
        router = definition.get("router") or {}
        complete = _category(router, "Complete")
        leads = _destination(definition, complete) if complete else None
        if leads is not None:
            self.note(
                node,
                f'enter_flow "{name}": the subflow starts when this flow ends '
                f"(then: {target}), not in the middle",
            )

    # ---- questions ------------------------------------------------------------------

    def _question(
        self, node: dict[str, Any], router: dict[str, Any], prompt: dict[str, Any] | None
    ) -> dict[str, Any]:
        uuid = node["uuid"]
        result = str(router.get("result_name") or "")
        base = snakify(result) or "question"
        key = unique(base[:KEY_LIMIT].rstrip("_") or "question", self.keys, KEY_LIMIT)
        if result:
            self.results.setdefault(snakify(result), key)
        self.results.setdefault("@input", key)
        self.results["@last"] = key
        text = ""
        if prompt is not None:
            source = str(prompt.get("text") or "")
            text = self.text(uuid, prompt["uuid"], "text", source, f"{self.id}:{key}")
            if prompt.get("attachments"):
                self.note(uuid, "attachments of a message are not carried over")
        if not text:
            text = result or key
            self.texts[f"{self.id}:{key}"] = (text, {})
            self.note(uuid, f"the question has no message before it: its text is {text!r}")
        cases = [c for c in router.get("cases") or [] if isinstance(c, dict)]
        kind = routers.kind_of(cases)
        step: dict[str, Any] = {"key": key, "kind": kind, "text": text}
        wait = router.get("wait") or {}
        if wait.get("timeout"):
            self.note(uuid, "the wait's timeout is not carried over (Buurtbot reminds instead)")
        for case in cases:
            test = str(case.get("type"))
            family = (
                "choice"
                if test in routers.TEXT_TESTS
                else "number"
                if test in routers.NUMBER_TESTS
                else "date"
                if test in routers.DATE_TESTS
                else "text"
            )
            if family != kind and not (kind == "text" and test in routers.UNCHECKED):
                self.note(uuid, f"case {test} does not fit a {kind} question: left out")
            elif routers.UNCHECKED.get(test):
                self.note(
                    uuid,
                    f"case {test}: the answer is kept as text, not checked as "
                    f"{routers.UNCHECKED[test]}",
                )
            elif family == "text" and test not in routers.UNCHECKED:
                self.note(uuid, f"case {test} cannot be evaluated: the answer is kept as text")
        if kind == "choice":
            self._options(node, router, step, cases, prompt)
        elif kind == "number":
            self._number(node, router, step, cases)
        elif kind == "date":
            when = routers.date_when([c for c in cases if c.get("type") in routers.DATE_TESTS])
            if when:
                step["when"] = when
            elif any(c.get("type") != "has_date" for c in cases):
                self.note(uuid, "date comparisons other than with today are not carried over")
        elif prompt is not None and prompt.get("quick_replies"):
            self._quick_replies(node, step, prompt)
        self.questions[key] = step
        return step

    def _options(
        self,
        node: dict[str, Any],
        router: dict[str, Any],
        step: dict[str, Any],
        cases: list[dict[str, Any]],
        prompt: dict[str, Any] | None,
    ) -> None:
        values: set[str] = set()
        options = []
        step["_values"] = {}
        for category in _answer_categories(router, cases):
            name = str(category.get("name") or "")
            value = unique(option_value(name) or f"option_{len(options) + 1}", values, 24)
            options.append({"value": value, "label": plain(name)[0] or name})
            step["_values"][category["uuid"]] = value
            self.texts[f"{self.id}:{step['key']}:{value}"] = (
                plain(name)[0] or name,
                self.translations(category["uuid"], "name"),
            )
            matched = [
                w
                for c in cases
                if c.get("category_uuid") == category["uuid"]
                for w in routers.words(c)
            ]
            extra = [w for w in matched if w.casefold() != name.casefold()]
            if extra:
                shown = ", ".join(dict.fromkeys(extra))
                self.note(
                    node["uuid"],
                    f'category "{name}": the words {shown} are not matched; people answer '
                    "with the button, its number or its label",
                )
        other = _category_by_uuid(router, router.get("default_category_uuid"))
        if other is not None and not self._asks_again(node, router, other):
            name = str(other.get("name") or "Other")
            value = unique(option_value(name) or "other", values, 24)
            options.append({"value": value, "label": name})
            step["_values"][other["uuid"]] = value
            self.texts[f"{self.id}:{step['key']}:{value}"] = (
                name,
                self.translations(other["uuid"], "name"),
            )
        step["options"] = options

    def _asks_again(
        self, node: dict[str, Any], router: dict[str, Any], category: dict[str, Any]
    ) -> bool:
        """Whether a category leads back to its own question (RapidPro's "ask again").

        Back to the wait, to the message that asks, or through a message ("Sorry, please
        answer with...") to either. Buurtbot explains a wrong answer and asks again by
        itself, so such a message is left out (and reported).
        """
        question = {node["uuid"], self.prompt_nodes.get(node["uuid"])}
        destination = _destination(node, category)
        if destination is None:
            return False
        if destination in question:
            return True
        target = self.nodes.get(destination) or {}
        exits = target.get("exits") or []
        if (
            not target.get("router")
            and len(exits) == 1
            and exits[0].get("destination_uuid") in question
        ):
            if destination not in self.prompt_nodes.values():
                self.sorry_nodes.add(destination)
            return True
        return False

    def _quick_replies(self, node: dict[str, Any], step: dict[str, Any], prompt: dict[str, Any]):
        step["kind"] = "choice"
        values: set[str] = set()
        options = []
        for index, reply in enumerate(prompt.get("quick_replies") or []):
            label = plain(str(reply))[0]
            if not label:
                continue
            value = unique(option_value(label) or f"option_{index + 1}", values, 24)
            options.append({"value": value, "label": label})
            self.texts[f"{self.id}:{step['key']}:{value}"] = (
                label,
                self.translations(prompt["uuid"], "quick_replies", index),
            )
        if options:
            step["options"] = options
        else:
            step["kind"] = "text"

    def _number(
        self,
        node: dict[str, Any],
        router: dict[str, Any],
        step: dict[str, Any],
        cases: list[dict[str, Any]],
    ) -> None:
        decimals = any(
            (n := routers.number(a)) is not None and not float(n).is_integer()
            for c in cases
            for a in c.get("arguments") or []
        )
        if decimals:
            step["integer"] = False
        numeric = [c for c in cases if c.get("type") in routers.NUMBER_TESTS]
        other = _category_by_uuid(router, router.get("default_category_uuid"))
        if len(numeric) == 1 and other is not None and self._asks_again(node, router, other):
            bounds = routers.number_range(numeric[0])
            if bounds:
                low, high = bounds
                if low is not None:
                    step["min"] = routers.whole(low)
                if high is not None:
                    step["max"] = routers.whole(high)

    def _question_routes(
        self, node: dict[str, Any], router: dict[str, Any], step: dict[str, Any]
    ) -> list[_Route]:
        key = step["key"]
        routes: list[_Route] = []
        cases = [c for c in router.get("cases") or [] if isinstance(c, dict)]
        categories = {c["uuid"]: c for c in router.get("categories") or [] if c.get("uuid")}
        default = categories.get(router.get("default_category_uuid"))
        if step["kind"] == "choice" and "_values" in step:
            values: dict[str, str] = step.pop("_values")
            for category_uuid, value in values.items():
                category = categories.get(category_uuid)
                if category is not None:
                    routes.append(
                        _Route({"step": key, "in": [value]}, _destination(node, category))
                    )
        elif step["kind"] == "number":
            for case in cases:
                bounds = (
                    routers.number_range(case) if case.get("type") in routers.NUMBER_TESTS else None
                )
                category = categories.get(case.get("category_uuid"))
                if bounds is None and case.get("type") in routers.NUMBER_TESTS:
                    shown = " ".join(case.get("arguments") or [])
                    self.note(
                        node["uuid"],
                        f"case {case.get('type')} {shown} cannot be evaluated: left out",
                    )
                if bounds is None or category is None:
                    continue
                low, high = bounds
                when: dict[str, Any] = {"step": key}
                if low is not None:
                    when["min"] = routers.whole(low)
                if high is not None:
                    when["max"] = routers.whole(high)
                routes.append(_Route(when if len(when) > 1 else None, _destination(node, category)))
        else:
            answered = [
                categories[c["category_uuid"]]
                for c in cases
                if c.get("category_uuid") in categories
                and categories[c["category_uuid"]] is not default
            ]
            if answered:
                # A text, date or typed answer: every accepted answer goes the same way.
                routes.append(_Route(None, _destination(node, answered[0])))
        goes_on = default is not None and not self._asks_again(node, router, default)
        if goes_on and (step["kind"] != "choice" or not routes):
            routes.append(_Route(None, _destination(node, default)))
        if not routes or routes[-1].when is not None:
            fallback = routes[-1].destination if routes else None
            if default is not None and not self._asks_again(node, router, default):
                fallback = _destination(node, default)
            routes.append(_Route(None, fallback))
        return routes

    # ---- splits that do not wait ------------------------------------------------------

    def _split_routes(self, node: dict[str, Any], router: dict[str, Any]) -> list[_Route]:
        uuid = node["uuid"]
        categories = [c for c in router.get("categories") or [] if c.get("uuid")]
        default = _category_by_uuid(router, router.get("default_category_uuid"))
        kinds = {a.get("type") for a in node.get("actions") or []}
        if "enter_flow" in kinds:
            chosen = _category(router, "Complete") or (categories[0] if categories else None)
            return [_Route(None, _destination(node, chosen) if chosen else None)]
        if kinds - {"set_contact_field", "set_contact_language", "send_msg"}:
            # A webhook, a ticket, airtime...: reported with its action; go on as if it worked.
            first = (router.get("cases") or [{}])[0].get("category_uuid")
            chosen = _category_by_uuid(router, first) or (categories[0] if categories else None)
            return [_Route(None, _destination(node, chosen) if chosen else None)]
        if router.get("type") == "random":
            first = categories[0] if categories else None
            name = first.get("name") if first else "?"
            self.note(uuid, f'a random split is not carried over: everyone takes "{name}"')
            return [_Route(None, _destination(node, first) if first else None)]
        result = routers.result_of(router.get("operand"))
        if result is None:
            name = default.get("name") if default else "?"
            self.note(
                uuid,
                f'a split on {router.get("operand")} cannot be evaluated: everyone takes "{name}"',
            )
            return [_Route(None, _destination(node, default) if default else None)]
        return [
            _Route(
                {"_result": result, "_case": case},
                _destination(node, _category_by_uuid(router, case.get("category_uuid"))),
                "split",
            )
            for case in router.get("cases") or []
        ] + [_Route(None, _destination(node, default) if default else None)]

    def _condition(self, node: str, result: str, case: dict[str, Any]) -> dict[str, Any] | None:
        """A condition on an earlier answer for one case of a split on `@results.x`."""
        key = self.results.get(result)
        step = self.questions.get(key or "")
        test = str(case.get("type"))
        if step is None:
            self.note(node, f"a split on the result {result!r}: no question gives it; left out")
            return None
        if step["kind"] == "choice" and test in routers.TEXT_TESTS:
            wanted = {w.casefold() for w in routers.words(case)}
            wanted |= {" ".join(routers.words(case)).casefold()}
            values = [
                option["value"]
                for option in step.get("options", [])
                if option["label"].casefold() in wanted
                or option["value"] in wanted
                or option["value"] in {option_value(w) for w in wanted}
            ]
            if values:
                return {"step": step["key"], "in": values}
        if step["kind"] == "number" and test in routers.NUMBER_TESTS:
            bounds = routers.number_range(case)
            if bounds:
                when: dict[str, Any] = {"step": step["key"]}
                if bounds[0] is not None:
                    when["min"] = routers.whole(bounds[0])
                if bounds[1] is not None:
                    when["max"] = routers.whole(bounds[1])
                if len(when) > 1:
                    return when
        if test == "has_text":
            return {"step": step["key"], "skipped": False}
        self.note(node, f"case {test} on the result {result!r} cannot be evaluated: left out")
        return None

    # ---- contact fields and language --------------------------------------------------

    def _apply_after_input(self) -> None:
        for kind, result, action in self.after_input:
            node = action["_node"]
            key = self.results.get(result) if result else self.results.get("@last")
            step = self.questions.get(key or "")
            if step is None:
                self.note(node, f"{kind}: no question gives its value; not carried over")
                continue
            if kind == "set_contact_language":
                step["kind"] = "language"
                for part in ("options", "min", "max", "integer", "when", "store_as"):
                    step.pop(part, None)
                self._drop_option_texts(step["key"])
                continue
            field_key = act.field_key(action)
            if field_key in act.NEIGHBOURHOOD_FIELDS:
                step["kind"] = "neighbourhood"
                for part in ("options", "min", "max", "integer", "when", "store_as"):
                    step.pop(part, None)
                self._drop_option_texts(step["key"])
                self.note(
                    node,
                    f"the contact field {field_key!r} is asked as Buurtbot's neighbourhood "
                    "question (the deployment's neighbourhoods or a postcode)",
                )
            elif field_key in act.AGE_GROUP_FIELDS and step["kind"] == "choice":
                step["store_as"] = "age_group"
            else:
                self.note(
                    node,
                    f"set_contact_field {field_key!r} is not carried over: the answer is kept "
                    f"under {step['key']!r} only",
                )

    def _drop_option_texts(self, key: str) -> None:
        for context in [c for c in self.texts if c.startswith(f"{self.id}:{key}:")]:
            del self.texts[context]

    # ---- linking ----------------------------------------------------------------------

    def _link(self) -> None:
        for step in self.steps:
            routes = self.leaving.get(step["key"])
            if routes is None:
                continue  # linked inside its node already
            step["next"] = self._next(routes, step)
        start = self._target(self.first, set())
        if not isinstance(start, str):
            start = _default_goto(start)
        by_key = {step["key"]: step for step in self.steps}
        reached: list[str] = []
        todo = [start] if start in by_key else []
        while todo:
            key = todo.pop()
            if key in reached or key not in by_key:
                continue
            reached.append(key)
            following = by_key[key].get("next")
            if isinstance(following, str):
                todo.append(following)
            elif isinstance(following, list):
                todo.extend(rule["goto"] for rule in reversed(following))
        for step in self.steps:
            if step["key"] not in reached:
                node = self.step_nodes.get(step["key"])
                if node in self.sorry_nodes:
                    self.note(
                        node,
                        "the message after a wrong answer is left out: Buurtbot says "
                        "what is wrong and asks again by itself",
                    )
                else:
                    self.note(
                        node,
                        f"step {step['key']} can only be reached through a split "
                        "that is not carried over: left out",
                    )
                for context in [c for c in self.texts if c.split(":")[1:2] == [step["key"]]]:
                    del self.texts[context]
        ordered = [step for step in self.steps if step["key"] in reached]
        ordered.sort(key=lambda step: step["key"] != start)
        self.steps = ordered

    def _next(self, routes: list[_Route], step: dict[str, Any]) -> str | list[dict[str, Any]]:
        resolved = [(route.when, self._target(route.destination, set())) for route in routes]
        targets = {_frozen(t) for _, t in resolved}
        if len(targets) == 1:
            return resolved[-1][1]
        rules: list[dict[str, Any]] = []
        for when, target in resolved:
            goto = target if isinstance(target, str) else _default_goto(target)
            if not isinstance(target, str):
                self.note(
                    None, f"step {step['key']}: two splits in a row; the second takes its default"
                )
            rule = {"goto": goto} if when is None else {"when": when, "goto": goto}
            rules.append(rule)
            if when is None:
                break
        return _merge(rules)

    def _target(self, destination: str | None, seen: set[str]) -> str | list[dict[str, Any]]:
        """A step key, `end`, or rules (a split on an earlier answer) for a node."""
        if destination is None or destination not in self.nodes:
            return END
        if destination in self.entry:
            return self.entry[destination]
        if destination in seen:
            return END
        seen = seen | {destination}
        routes = self.leaving.get(f"node:{destination}") or []
        if not routes:
            return END
        if len(routes) == 1 or routes[0].label != "split":
            return self._target(routes[0].destination, seen)
        rules: list[dict[str, Any]] = []
        for route in routes:
            target = self._target(route.destination, seen)
            goto = target if isinstance(target, str) else _default_goto(target)
            if route.when is None:
                rules.append({"goto": goto})
                break
            condition = self._condition(destination, route.when["_result"], route.when["_case"])
            if condition is not None:
                rules.append({"when": condition, "goto": goto})
        rules = _merge(rules)
        if len(rules) == 1:
            return rules[0]["goto"]
        return rules

    # ---- the result -------------------------------------------------------------------

    def _result(self) -> Built:
        language = language_code(str(self.flow.get("language") or "und"))
        data: dict[str, Any] = {
            "id": self.id,
            "version": max(1, _int(self.flow.get("revision"), 1)),
            "language": language,
            "title": self.name,
            "_spec": str(self.flow.get("spec_version") or ""),
        }
        self.texts[f"{self.id}:title"] = (self.name, {})
        if self.then:
            data["then"] = self.then
        minutes = _int(self.flow.get("expire_after_minutes"), 0)
        if minutes > 0:
            data["expires_after"] = duration(timedelta(minutes=minutes))
            if minutes <= 24 * 60:
                data["remind_after"] = duration(timedelta(minutes=max(1, minutes // 2)))
        data["steps"] = self.steps
        if language not in ("en", "und") and "eng" in self.localization:
            data["language"] = self._in_english(language)
        languages = sorted({code for _, t in self.texts.values() for code in t})
        if language == "und":
            self.note(None, "the flow names no base language (und): its texts are kept as written")
        return Built(
            self.id,
            self.name,
            str(self.flow.get("uuid") or ""),
            data,
            self.texts,
            self.notes,
            languages,
        )

    def _in_english(self, base: str) -> str:
        """Write the flow in English, its base language as a translation; returns "en".

        Buurtbot's catalogs have English source texts (the template is English, the
        English catalog follows it), so an export with an English translation is
        written in English. A text without one stays in the base language, reported.
        """
        by_context: dict[str, tuple[dict[str, Any], str]] = {}
        for step in self.steps:
            by_context[f"{self.id}:{step['key']}"] = (step, "text")
            for option in step.get("options", []):
                by_context[f"{self.id}:{step['key']}:{option['value']}"] = (option, "label")
        missing = 0
        for context, (source, translations) in list(self.texts.items()):
            english = translations.get("en")
            if not english:
                # Stays in the base language: its catalog gets the text itself.
                self.texts[context] = (source, {**translations, base: source})
                missing += 0 if context.endswith(":title") else 1
                continue
            others = {code: text for code, text in translations.items() if code != "en"}
            self.texts[context] = (english, {**others, base: source})
            if context in by_context:
                holder, field_name = by_context[context]
                holder[field_name] = english
        if missing:
            self.note(
                None,
                f"written in English (the catalogs' source language), {base} as a translation; "
                f"{missing} texts have no English translation and stay in {base}",
            )
        return "en"


def duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    for unit, size in (("w", 7 * 24 * 60), ("d", 24 * 60), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _category(router: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next(
        (
            c
            for c in router.get("categories") or []
            if str(c.get("name")).casefold() == name.casefold()
        ),
        None,
    )


def _category_by_uuid(router: dict[str, Any], uuid: Any) -> dict[str, Any] | None:
    return next((c for c in router.get("categories") or [] if c.get("uuid") == uuid), None)


def _answer_categories(router: dict[str, Any], cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The categories that cases lead to (not Other, not a timeout), in category order."""
    used = {c.get("category_uuid") for c in cases if c.get("type") in routers.TEXT_TESTS}
    return [c for c in router.get("categories") or [] if c.get("uuid") in used]


def _destination(node: dict[str, Any], category: dict[str, Any] | None) -> str | None:
    if category is None:
        return None
    for exit_ in node.get("exits") or []:
        if exit_.get("uuid") == category.get("exit_uuid"):
            return exit_.get("destination_uuid")
    return None


def _frozen(target: str | list[dict[str, Any]]) -> str:
    return target if isinstance(target, str) else repr(target)


def _default_goto(rules: list[dict[str, Any]]) -> str:
    return next((r["goto"] for r in rules if "when" not in r), rules[-1]["goto"])


def _merge(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rules of one step that test the same step with `in` and go the same way: one rule."""
    merged: list[dict[str, Any]] = []
    for rule in rules:
        when = rule.get("when")
        last = merged[-1] if merged else None
        if (
            last is not None
            and when is not None
            and "in" in when
            and last.get("goto") == rule["goto"]
            and "in" in (last.get("when") or {})
            and last["when"]["step"] == when["step"]
        ):
            last["when"]["in"] = list(dict.fromkeys([*last["when"]["in"], *when["in"]]))
            continue
        merged.append({**rule, "when": dict(when)} if when is not None else dict(rule))
    if merged and "when" in merged[-1]:
        merged.append({"goto": END})
    # A rule just before the default that goes where the default goes says nothing.
    while len(merged) > 1 and "when" in merged[-2] and merged[-2]["goto"] == merged[-1]["goto"]:
        del merged[-2]
    return merged
