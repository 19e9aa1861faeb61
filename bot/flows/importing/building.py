"""One goflow flow definition -> one Buurtbot flow (as plain data), its texts and a report.

The node graph is walked from the first node. Each node gives its steps in order: its
messages, then its question when it waits for a message. A message right before a
question (the usual "send, then wait" pair) becomes the question's text. A router that
does not wait is not a step: a split on an earlier result (`@results.x`) becomes the
`next` rules of the step that leads to it; any other split is followed along one branch,
and reported. Every step gets an explicit `next`, so the file's order does not matter.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.flows.importing import actions as act
from bot.flows.importing.graph import (
    KEY_LIMIT,
    Built,
    Note,
    Route,
    as_int,
    category_named,
    duration,
    exit_to,
)
from bot.flows.importing.linking import Linking
from bot.flows.importing.questions import Questions
from bot.flows.importing.setting import Setting
from bot.flows.importing.texts import language_code, plain, unique

__all__ = ["Builder", "Built", "Note", "duration"]


class Builder(Questions, Linking, Setting):
    """One flow: the walk, its nodes' messages and actions, and the result."""

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
        self.leaving: dict[str, list[Route]] = {}  # last step key of a node -> routes
        self.results: dict[str, str] = {}  # result key (snakified) -> step key
        # answer key -> the steps that give it (one result written by several nodes)
        self.shared: dict[str, list[str]] = {}
        self.questions: dict[str, dict[str, Any]] = {}  # step key -> step
        self.after_input: list[tuple[str, str | None, dict[str, Any]]] = []
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
        self._unshare()
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

    def _result_step(self, result: str, fallback: str) -> tuple[str, str | None]:
        """A key for a step that gives `result`, and the answer key it shares, if any.

        RapidPro keeps one value a result name, whichever node wrote it last; so a
        result written by two nodes (`status` in the yes and in the no branch) is one
        answer key here too: the later steps get their own key (`status_2`) and
        `answer_key: status`, and export and reports show one column.
        """
        first = self.results.get(result) if result else None
        base = (result or fallback)[:KEY_LIMIT].rstrip("_") or fallback
        key = unique(base, self.keys, KEY_LIMIT)
        if first is None:
            if result:
                self.results[result] = key
                self.shared[key] = [key]
            return key, None
        answer = self.questions[first].get("answer_key", first)
        self.shared.setdefault(answer, [first]).append(key)
        return key, answer

    def _unshare(self) -> None:
        """Steps that give one result but ask in different ways keep their own keys."""
        for answer, keys in self.shared.items():
            steps = [self.questions[key] for key in keys if key in self.questions]
            kinds = {step["kind"] for step in steps if step["kind"] != "set"}
            if len(kinds) <= 1:
                continue
            first = next(step for step in steps if step["kind"] != "set")
            for step in steps:
                if step["kind"] not in ("set", first["kind"]):
                    step.pop("answer_key", None)
                    self.note(
                        self.step_nodes.get(step["key"]),
                        f"the result {answer!r} is asked here as {step['kind']}, elsewhere as "
                        f"{first['kind']}: this answer is kept under {step['key']!r}",
                    )
            self.shared[answer] = [
                s["key"] for s in steps if s.get("answer_key", s["key"]) == answer
            ]

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
            elif kind in ("set_contact_field", "set_contact_language", "set_run_result"):
                if kind == "set_contact_field":
                    self.fields.add(act.field_key(action))
                reads = act.reads_result(action.get("value") or action.get("language"))
                if reads is not None and kind != "set_run_result":
                    self.after_input.append((kind, reads[1], action | {"_node": uuid}))
                    continue
                if kind == "set_run_result":
                    step = self._set_result(uuid, action)
                else:
                    step = self._set_field(uuid, kind, action)
                if step is not None:
                    if previous is not None:
                        previous["next"] = step["key"]
                    previous = self._add(uuid, step)
            elif kind == "enter_flow":
                step = self._subflow(uuid, action, node)
                if step is not None:
                    if previous is not None:
                        previous["next"] = step["key"]
                    previous = self._add(uuid, step)
            else:
                self.note(uuid, act.not_carried(action))
        router = node.get("router")
        routes: list[Route]
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
            routes = [Route(None, exits[0].get("destination_uuid"))]
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

    def _subflow(
        self, node: str, action: dict[str, Any], definition: dict[str, Any]
    ) -> dict[str, Any] | None:
        """A `subflow` step: the subflow runs here, and the flow goes on at "Complete".

        An "Expired" exit that leads elsewhere is reported: when a subflow expires,
        Buurtbot lets the flow that waits for it expire too.
        """
        flow = action.get("flow") or {}
        target = self.ids.get(str(flow.get("uuid")))
        name = flow.get("name") or flow.get("uuid") or "?"
        if target is None:
            self.note(
                node, f'enter_flow: the flow "{name}" is not in this export: not carried over'
            )
            return None
        if target == self.id:
            self.note(node, f'enter_flow "{name}": a flow cannot enter itself; not carried over')
            return None
        router = definition.get("router") or {}
        complete = category_named(router, "Complete")
        expired = category_named(router, "Expired")
        goes = exit_to(definition, complete) if complete else None
        expires = exit_to(definition, expired) if expired else None
        if expires is not None and expires != goes:
            self.note(
                node,
                f'enter_flow "{name}": the "Expired" exit is not carried over; when the '
                "subflow expires, this flow waits and expires too",
            )
        key = unique(f"enter_{target}"[:KEY_LIMIT].rstrip("_-"), self.keys, KEY_LIMIT)
        return {"key": key, "kind": "subflow", "flow": target}

    # ---- the result -------------------------------------------------------------------

    def _result(self) -> Built:
        language = language_code(str(self.flow.get("language") or "und"))
        data: dict[str, Any] = {
            "id": self.id,
            "version": max(1, as_int(self.flow.get("revision"), 1)),
            "language": language,
            "title": self.name,
            "_spec": str(self.flow.get("spec_version") or ""),
        }
        self.texts[f"{self.id}:title"] = (self.name, {})
        minutes = as_int(self.flow.get("expire_after_minutes"), 0)
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
