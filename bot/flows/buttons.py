"""How a question's options are laid out as buttons: which labels share a row, where
"rather not say" and a multiple-choice question's "done" button go.

Pure: the Telegram channel signs each button and sends the rows as an inline keyboard;
the dashboard's preview draws the same rows, so what a worker sees before sending is
what residents get.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.flows.events import Ask

SELECTED = "✅"
SKIP_VALUE = "_skip"
OPTION, SKIP, DONE = "option", "skip", "done"

# (longest label, buttons a row): short labels share a row.
_ROW_WIDTHS = ((4, 5), (8, 3), (14, 2))


@dataclass(frozen=True)
class Button:
    """One button: its label, what it does, and the option's index for an option."""

    label: str
    does: str = OPTION
    index: int | None = None


def _per_row(labels: list[str]) -> int:
    longest = max((len(label) for label in labels), default=0)
    for width, count in _ROW_WIDTHS:
        if longest <= width:
            return count
    return 1


def button_rows(ask: Ask) -> list[list[Button]]:
    """The rows of buttons of a question; none when it takes typed answers.

    One option a row unless every label is short; "rather not say" gets its own row,
    and so does the "done" button of a multiple-choice question. Selected options of a
    multiple-choice question carry a ✅.
    """
    if not ask.options:
        return []
    buttons: list[Button] = []
    skip: Button | None = None
    for index, option in enumerate(ask.options):
        if option.value == SKIP_VALUE:
            skip = Button(option.label, SKIP)
            continue
        label = option.label
        if ask.multiple and option.value in ask.selected:
            label = f"{SELECTED} {label}"
        buttons.append(Button(label, OPTION, index))
    per_row = _per_row([button.label for button in buttons])
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    if skip is not None:
        rows.append([skip])
    if ask.multiple:
        rows.append([Button(ask.done_label or "OK", DONE)])
    return rows
