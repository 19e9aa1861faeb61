"""The parts of a text a translation must keep: `{placeholders}`, /commands, line breaks.

The flows' extractor writes them as translator comments, and the catalog workflow checks
that every translation kept them.
"""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")
COMMAND = re.compile(r"(?<![\w/])/[a-z][a-z0-9_]*\b")


def placeholders(text: str) -> list[str]:
    """The `{names}` in a text, each once, in order."""
    return list(dict.fromkeys(match[1] for match in PLACEHOLDER.finditer(text)))


def hints(text: str) -> list[str]:
    """Translator comments every text with placeholders, commands or line breaks needs."""
    found = []
    names = placeholders(text)
    if names:
        shown = ", ".join("{" + name + "}" for name in names)
        found.append(
            f"Keep {shown} exactly as written, untranslated: the bot fills in the value there."
        )
    commands = list(dict.fromkeys(COMMAND.findall(text)))
    if commands:
        found.append(f"Keep {', '.join(commands)} as written: these are commands.")
    if "\n" in text.rstrip("\n"):
        found.append("Keep the line breaks: each line is shown on its own line.")
    return found
