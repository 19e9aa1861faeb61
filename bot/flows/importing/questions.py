"""The builder's questions: a wait for a message as one Buurtbot question, and its routes.

A part of `Builder` (building.py), kept apart because it is the mapping of goflow's
cases onto step kinds: options from categories, "Other" as asking again or an option,
number ranges, dates, quick replies, and where each answer leads.
"""

from __future__ import annotations

from typing import Any

from bot.flows.importing import routers
from bot.flows.importing.graph import Route, answer_categories, category_by_uuid, exit_to
from bot.flows.importing.texts import option_value, plain, snakify, unique


class Questions:
    """Questions of a flow; mixed into `Builder`, whose state it uses."""

    def _question(
        self, node: dict[str, Any], router: dict[str, Any], prompt: dict[str, Any] | None
    ) -> dict[str, Any]:
        uuid = node["uuid"]
        result = str(router.get("result_name") or "")
        key, shares = self._result_step(snakify(result), "question")
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
        if shares:
            step["answer_key"] = shares
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
        for category in answer_categories(router, cases):
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
        other = category_by_uuid(router, router.get("default_category_uuid"))
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
        destination = exit_to(node, category)
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
        other = category_by_uuid(router, router.get("default_category_uuid"))
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
    ) -> list[Route]:
        key = step["key"]
        routes: list[Route] = []
        cases = [c for c in router.get("cases") or [] if isinstance(c, dict)]
        categories = {c["uuid"]: c for c in router.get("categories") or [] if c.get("uuid")}
        default = categories.get(router.get("default_category_uuid"))
        if step["kind"] == "choice" and "_values" in step:
            values: dict[str, str] = step.pop("_values")
            for category_uuid, value in values.items():
                category = categories.get(category_uuid)
                if category is not None:
                    routes.append(Route({"step": key, "in": [value]}, exit_to(node, category)))
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
                routes.append(Route(when if len(when) > 1 else None, exit_to(node, category)))
        else:
            answered = [
                categories[c["category_uuid"]]
                for c in cases
                if c.get("category_uuid") in categories
                and categories[c["category_uuid"]] is not default
            ]
            if answered:
                # A text, date or typed answer: every accepted answer goes the same way.
                routes.append(Route(None, exit_to(node, answered[0])))
        goes_on = default is not None and not self._asks_again(node, router, default)
        if goes_on and (step["kind"] != "choice" or not routes):
            routes.append(Route(None, exit_to(node, default)))
        if not routes or routes[-1].when is not None:
            fallback = routes[-1].destination if routes else None
            if default is not None and not self._asks_again(node, router, default):
                fallback = exit_to(node, default)
            routes.append(Route(None, fallback))
        return routes
