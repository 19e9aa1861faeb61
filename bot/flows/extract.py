"""A Babel extractor for the conversation flows (`conversations/*.yaml`).

Registered as the `buurtbot_flows` entry point in `babel.extractors`, so that
`pybabel extract -F babel.cfg` (and `buurtbot i18n extract`) collects every text of every
flow next to the bot's own texts. Each text gets the message context the engine looks it
up with, so a sentence that changes in a flow keeps its place (and its old translation,
marked fuzzy) in every catalog:

| text                         | msgctxt                          |
|------------------------------|----------------------------------|
| flow title                   | `{flow_id}:title`                |
| flow description             | `{flow_id}:description`          |
| step text                    | `{flow_id}:{step_key}`           |
| option label (choice kinds)  | `{flow_id}:{step_key}:{value}`   |
| scale label                  | `{flow_id}:{step_key}:{point}`   |
| `yes_label`, `no_label`, ... | `{flow_id}:{step_key}:yes`, ...  |

and a translator comment that says where the text stands and what it is.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from bot.flows.loader import read_yaml
from bot.i18n.placeholders import hints

#: What a step of each kind is, in words for translators.
KIND_NAMES = {
    "message": "message",
    "choice": "choice question",
    "multiple_choice": "question with several answers",
    "scale": "scale question",
    "yes_no": "yes/no question",
    "text": "text question",
    "number": "number question",
    "date": "date question",
    "neighbourhood": "neighbourhood question",
    "media": "photo or voice question",
    "language": "language question",
    "consent": "consent question",
    "confirm": "confirmation question",
    "dynamic_choice": "choice question, options made by the bot",
    "time": "time question",
    "translations": "question for texts in other languages",
    "set": "answer the flow stores without asking",
    "subflow": "another flow that runs here",
}

Result = tuple[int, str, tuple[str, str], list[str]]


def extract_flows(
    fileobj: IO[bytes],
    keywords: Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Result]:
    """Yield `(lineno, "pgettext", (msgctxt, text), comments)` for every text of a flow."""
    encoding = options.get("encoding", "utf-8")
    name = str(getattr(fileobj, "name", "<flow>"))
    source = fileobj.read()
    text = source.decode(encoding) if isinstance(source, bytes) else source
    data, lines = read_yaml(text, name)
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return
    flow_id = data["id"]

    def line(*path: Any) -> int:
        return lines.get(path, 1)

    for field, what in (("title", "title (shown in /help)"), ("description", "description")):
        value = data.get(field)
        if isinstance(value, str) and value:
            yield _result(line(field), f"{flow_id}:{field}", value, f"flow {flow_id}: {what}")

    steps = data.get("steps")
    if not isinstance(steps, list):
        return
    for index, step in enumerate(steps):
        if not isinstance(step, dict) or not isinstance(step.get("key"), str):
            continue
        key = step["key"]
        kind = step.get("kind")
        where = f"flow {flow_id}, step {key} ({KIND_NAMES.get(kind, str(kind))})"
        if isinstance(step.get("text"), str) and step["text"]:
            yield _result(line("steps", index, "text"), f"{flow_id}:{key}", step["text"], where)
        for field, value in step.items():
            if isinstance(field, str) and field.endswith("_label") and isinstance(value, str):
                part = field.removesuffix("_label")
                if value:
                    yield _result(
                        line("steps", index, field),
                        f"{flow_id}:{key}:{part}",
                        value,
                        f"{where}: button for {part!r}; keep it short",
                    )
        options_ = step.get("options")
        if isinstance(options_, list):
            for number, option in enumerate(options_):
                if not isinstance(option, dict):
                    continue
                value, label = option.get("value"), option.get("label")
                if isinstance(label, str) and label and value is not None:
                    yield _result(
                        line("steps", index, "options", number, "label"),
                        f"{flow_id}:{key}:{value}",
                        label,
                        f"{where}: button for the answer {value!r}; keep it short",
                    )
        label, fixed = step.get("label"), step.get("value")
        if kind == "set" and isinstance(label, str) and label and fixed is not None:
            yield _result(
                line("steps", index, "label"),
                f"{flow_id}:{key}:{fixed}",
                label,
                f"{where}: name of the value {fixed!r} in reports; keep it short",
            )
        labels = step.get("labels")
        if isinstance(labels, dict):
            for point, label in labels.items():
                if not isinstance(label, str) or not label:
                    continue
                shown = _point(point)
                yield _result(
                    line("steps", index, "labels", point),
                    f"{flow_id}:{key}:{shown}",
                    label,
                    f"{where}: label of point {shown} on the scale; keep it short",
                )


def _point(point: Any) -> str:
    try:
        return str(int(point))
    except (TypeError, ValueError):
        return str(point)


def _result(lineno: int, context: str, text: str, where: str) -> Result:
    return lineno, "pgettext", (context, text), [where, *hints(text)]
