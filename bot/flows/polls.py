"""A poll a worker wrote (a question, its options, each with translations) as a flow.

The flow is `poll-<id>`: one `choice` step, `answer`, with the options `o1`, `o2`, ...
and then a short thanks. Its texts are not in the catalogs: they are the worker's, in
`Flow.written` by the same message contexts a YAML flow's texts have
(`poll-7:answer`, `poll-7:answer:o1`, `poll-7:thanks`, `poll-7:title`), so the engine,
the reports and the exports read them as they read any flow's. Pure: the rows come from
`bot.storage.polls`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from bot.flows.model import Flow

PREFIX = "poll-"
QUESTION = "answer"
THANKS = "thanks"
_ID = re.compile(r"^poll-([1-9][0-9]{0,9})$")
# How much of the question a flow's title keeps (the dashboard's lists, report headings).
TITLE_LENGTH = 80


def flow_id(poll_id: int) -> str:
    return f"{PREFIX}{poll_id}"


def poll_id(flow_id: str | None) -> int | None:
    """The poll behind a flow id (`poll-7` -> 7), or None for any other flow."""
    match = _ID.match(flow_id or "")
    return int(match[1]) if match else None


def option_value(number: int) -> str:
    """The stored value of the `number`th option (1-based): `o1`, `o2`, ..."""
    return f"o{number}"


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"


def _texts(value: Mapping[str, str]) -> dict[str, str]:
    return {str(code): str(text) for code, text in value.items() if text}


def poll_flow(
    poll_id: int,
    question: Mapping[str, str],
    options: Sequence[Mapping[str, str]],
    thanks: Mapping[str, str],
    language: str,
) -> Flow:
    """The flow of poll `poll_id`; each text is `{"_": original, "tr": ...}`."""
    fid = flow_id(poll_id)
    values = [option_value(n) for n in range(1, len(options) + 1)]
    written = {
        f"{fid}:title": {code: _short(text) for code, text in _texts(question).items()},
        f"{fid}:{QUESTION}": _texts(question),
        f"{fid}:{THANKS}": _texts(thanks),
    }
    for value, option in zip(values, options, strict=True):
        written[f"{fid}:{QUESTION}:{value}"] = _texts(option)
    return Flow.model_validate(
        {
            "id": fid,
            "version": 1,
            "language": language,
            "title": _short(question.get("_", "")) or fid,
            "role": "resident",
            "written": written,
            "steps": [
                {
                    "key": QUESTION,
                    "kind": "choice",
                    "text": question.get("_", ""),
                    "options": [
                        {"value": value, "label": option.get("_", "") or value}
                        for value, option in zip(values, options, strict=True)
                    ],
                },
                {"key": THANKS, "kind": "message", "text": thanks.get("_", "") or "…"},
            ],
        }
    )
