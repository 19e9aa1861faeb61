"""What goes into the engine (events) and what comes out (messages, answers, effects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.flows.effects import Effect

# ---- incoming -------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """The person typed something."""

    text: str


@dataclass(frozen=True)
class Pick:
    """The person pressed an option button of question `step` (already verified).

    A channel that cannot carry the value (Telegram's 64-byte buttons) sends the option's
    position as `index` instead; on a multiple-choice question a pick toggles.
    """

    step: str
    value: str = ""
    index: int | None = None


@dataclass(frozen=True)
class Toggle:
    """The person toggled one option of multiple-choice question `step`."""

    step: str
    value: str


@dataclass(frozen=True)
class Done:
    """The person pressed "done" on multiple-choice question `step`."""

    step: str


@dataclass(frozen=True)
class Skip:
    """The person pressed "rather not say" on question `step`."""

    step: str


@dataclass(frozen=True)
class Media:
    """A photo or voice note; `ref` is the platform's file reference."""

    kind: str
    ref: str
    caption: str = ""


@dataclass(frozen=True)
class Other:
    """Anything the flow cannot take as an answer (sticker, location, contact, ...)."""

    kind: str


Event = Text | Pick | Toggle | Done | Skip | Media | Other

# ---- outgoing -------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One answer button: `value` is stored, `label` is shown (already translated)."""

    value: str
    label: str


@dataclass(frozen=True)
class Say:
    """A plain message."""

    text: str


@dataclass(frozen=True)
class Ask:
    """A question; channels show options as buttons or numbered lines.

    `selected` is the current pick of a multiple-choice question; `refresh` says the
    question is the same one again with a new selection (edit it in place if you can).
    `done_label` is the button that closes a multiple-choice question; `none_allowed`
    says it may be closed with nothing chosen (text channels tell how: type 0).
    """

    step: str
    text: str
    options: tuple[Option, ...] = ()
    multiple: bool = False
    selected: tuple[str, ...] = ()
    done_label: str = ""
    refresh: bool = False
    expects: str = "text"
    none_allowed: bool = False


@dataclass(frozen=True)
class Document:
    """A file to send (a person's data as JSON, a chart as PNG), with a short caption."""

    filename: str
    data: bytes
    caption: str = ""
    mime_type: str = "application/octet-stream"


Outgoing = Say | Ask | Document

# ---- results --------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """An accepted answer. `value` is normalised (None when skipped)."""

    step: str
    value: Any
    raw: str = ""
    display: str = ""
    skipped: bool = False


@dataclass
class Turn:
    """What one event produced."""

    messages: list[Outgoing] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    accepted: Answer | None = None
    finished: bool = False
    stale: bool = False
    language: str | None = None
