"""The builder's links: splits that do not wait, contact fields, and every step's `next`.

A part of `Builder` (building.py): a split on an earlier result becomes `next` rules,
other splits are followed along one branch and reported; `set_contact_field` and
`set_contact_language` change the question they read; at the end every step gets an
explicit `next`, steps only reached through dropped branches are left out, and the
first node's step comes first.
"""

from __future__ import annotations

from typing import Any

from bot.flows.importing import actions as act
from bot.flows.importing import routers
from bot.flows.importing.graph import (
    END,
    Route,
    category_by_uuid,
    category_named,
    default_goto,
    exit_to,
    frozen,
    merge_rules,
)
from bot.flows.importing.texts import option_value


class Linking:
    """Splits, contact fields and links of a flow; mixed into `Builder`."""

    def _split_routes(self, node: dict[str, Any], router: dict[str, Any]) -> list[Route]:
        uuid = node["uuid"]
        categories = [c for c in router.get("categories") or [] if c.get("uuid")]
        default = category_by_uuid(router, router.get("default_category_uuid"))
        kinds = {a.get("type") for a in node.get("actions") or []}
        if "enter_flow" in kinds:
            chosen = category_named(router, "Complete") or (categories[0] if categories else None)
            return [Route(None, exit_to(node, chosen) if chosen else None)]
        if kinds - {"set_contact_field", "set_contact_language", "set_run_result", "send_msg"}:
            # A webhook, a ticket, airtime...: reported with its action; go on as if it worked.
            first = (router.get("cases") or [{}])[0].get("category_uuid")
            chosen = category_by_uuid(router, first) or (categories[0] if categories else None)
            return [Route(None, exit_to(node, chosen) if chosen else None)]
        if router.get("type") == "random":
            first = categories[0] if categories else None
            name = first.get("name") if first else "?"
            self.note(uuid, f'a random split is not carried over: everyone takes "{name}"')
            return [Route(None, exit_to(node, first) if first else None)]
        result = routers.result_of(router.get("operand"))
        if result is None:
            name = default.get("name") if default else "?"
            self.note(
                uuid,
                f'a split on {router.get("operand")} cannot be evaluated: everyone takes "{name}"',
            )
            return [Route(None, exit_to(node, default) if default else None)]
        return [
            Route(
                {"_result": result, "_case": case},
                exit_to(node, category_by_uuid(router, case.get("category_uuid"))),
                "split",
            )
            for case in router.get("cases") or []
        ] + [Route(None, exit_to(node, default) if default else None)]

    def _condition(self, node: str, result: str, case: dict[str, Any]) -> dict[str, Any] | None:
        """A condition on an earlier answer for one case of a split on `@results.x`."""
        key = self.results.get(result)
        test = str(case.get("type"))
        if key is None or key not in self.questions:
            self.note(node, f"a split on the result {result!r}: no question gives it; left out")
            return None
        answer = self.questions[key].get("answer_key", key)
        # Every step that gives the result (it may be written in two branches).
        giving = [self.questions[k] for k in self.shared.get(answer, [key]) if k in self.questions]
        giving.sort(key=lambda s: s["kind"] == "set")
        step = giving[0]
        if test in routers.TEXT_TESTS and {s["kind"] for s in giving} <= {"set", "choice"}:
            wanted = {w.casefold() for w in routers.words(case)}
            wanted |= {" ".join(routers.words(case)).casefold()}
            values: list[Any] = []
            for giver in giving:
                if giver["kind"] == "set":
                    said = {str(giver["value"]).casefold(), str(giver.get("label", "")).casefold()}
                    if said & wanted:
                        values.append(giver["value"])
                    continue
                values += [
                    option["value"]
                    for option in giver.get("options", [])
                    if option["label"].casefold() in wanted
                    or option["value"] in wanted
                    or option["value"] in {option_value(w) for w in wanted}
                ]
            values = list(dict.fromkeys(values))
            if len(values) == 1 and all(s["kind"] == "set" for s in giving):
                return {"step": answer, "equals": values[0]}
            if values:
                return {"step": answer, "in": values}
            if all(s["kind"] == "set" for s in giving):
                self.note(node, f"case {test} on the result {result!r} never holds: left out")
                return None
        if step["kind"] == "number" and test in routers.NUMBER_TESTS:
            bounds = routers.number_range(case)
            if bounds:
                when: dict[str, Any] = {"step": answer}
                if bounds[0] is not None:
                    when["min"] = routers.whole(bounds[0])
                if bounds[1] is not None:
                    when["max"] = routers.whole(bounds[1])
                if len(when) > 1:
                    return when
        if test == "has_text":
            return {"step": answer, "skipped": False}
        self.note(node, f"case {test} on the result {result!r} cannot be evaluated: left out")
        return None

    # ---- contact fields and language --------------------------------------------------

    def _apply_after_input(self) -> None:
        for kind, result, action in self.after_input:
            node = action["_node"]
            key = self.results.get(result) if result else self.results.get("@last")
            step = self.questions.get(key or "")
            if step is None or step["kind"] == "set":
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
            start = default_goto(start)
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

    def _next(self, routes: list[Route], step: dict[str, Any]) -> str | list[dict[str, Any]]:
        resolved = [(route.when, self._target(route.destination, set())) for route in routes]
        targets = {frozen(t) for _, t in resolved}
        if len(targets) == 1:
            return resolved[-1][1]
        rules: list[dict[str, Any]] = []
        for when, target in resolved:
            goto = target if isinstance(target, str) else default_goto(target)
            if not isinstance(target, str):
                self.note(
                    None, f"step {step['key']}: two splits in a row; the second takes its default"
                )
            rule = {"goto": goto} if when is None else {"when": when, "goto": goto}
            rules.append(rule)
            if when is None:
                break
        return merge_rules(rules)

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
            goto = target if isinstance(target, str) else default_goto(target)
            if route.when is None:
                rules.append({"goto": goto})
                break
            condition = self._condition(destination, route.when["_result"], route.when["_case"])
            if condition is not None:
                rules.append({"when": condition, "goto": goto})
        rules = merge_rules(rules)
        if len(rules) == 1:
            return rules[0]["goto"]
        return rules
