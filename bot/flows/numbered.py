"""Options as numbered lines, for channels without buttons (Signal, the terminal), and
for the dashboard's preview of how they read there: one function, so the preview is
what is sent.

A person answers with the number, the label, or several numbers (`1, 3`); the engine
reads all of these, so every such channel shows a question the same way.
"""

from __future__ import annotations

from bot.flows.events import Ask
from bot.i18n.translator import Translator


def numbered(ask: Ask, t: Translator | None = None) -> str:
    """A question with its options one per line as `1. label` (checked ones marked)."""
    lines = [ask.text.rstrip()]
    if ask.options:
        lines.append("")
    for number, option in enumerate(ask.options, start=1):
        mark = "✅ " if ask.multiple and option.value in ask.selected else ""
        lines.append(f"{number}. {mark}{option.label}")
    if ask.multiple and ask.options and t is not None:
        lines.append("")
        lines.append(t.gettext("Type the numbers of your choice, for example: 1, 3"))
        if ask.none_allowed:
            lines.append(t.gettext("Type 0 if none of them fits."))
    return "\n".join(lines)
