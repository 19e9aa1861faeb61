"""Names and texts from a RapidPro export made fit for a Buurtbot flow.

RapidPro writes texts with expressions (`@contact.name`, `@(upper(results.x))`), names
its languages with ISO 639-3 codes (`eng`, `nld`) and allows any category or result
name; Buurtbot's flows need plain texts (a `{brace}` is a placeholder there), two-letter
gettext codes and ASCII keys. Everything here is pure.
"""

from __future__ import annotations

import re
import unicodedata

import langcodes

#: Top-level names of goflow's expression context: `@name...` starts an expression only
#: with one of these (so `a@b.org` stays text).
TOP_LEVELS = (
    "child",
    "contact",
    "fields",
    "globals",
    "input",
    "legacy_extra",
    "locals",
    "node",
    "parent",
    "results",
    "resume",
    "run",
    "step",
    "ticket",
    "trigger",
    "urns",
    "webhook",
    "flow",
    "extra",
    "date",
    "channel",
)
_IDENTIFIER = re.compile(r"[A-Za-z_][\w]*(?:\.[\w]+)*")
#: Languages of an export that name no language.
UNNAMED = ("base", "und", "")


def language_code(code: str) -> str:
    """`eng` -> `en`, `nld` -> `nl`, `prs` -> `fa_AF`; unnamed (`base`, `und`) stays `und`."""
    if code in UNNAMED:
        return "und"
    try:
        tag = langcodes.standardize_tag(code)
    except ValueError:
        return code.lower()
    language, _, region = tag.partition("-")
    return f"{language}_{region.upper()}" if region else language


def fold(text: str) -> str:
    """ASCII letters for a name: `Café Öz` -> `Cafe Oz` (other scripts fall away)."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def snakify(name: str) -> str:
    """A result name as RapidPro keys it (`Favourite Colour` -> `favourite_colour`)."""
    return re.sub(r"[^a-z0-9]+", "_", fold(name).lower()).strip("_")


def flow_id(name: str, fallback: str) -> str:
    """A flow id from its name: `U-Report: Water Access` -> `u-report-water-access`."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(name).lower()).strip("-")[:48].rstrip("-")
    return slug or fallback


def unique(candidate: str, taken: set[str], limit: int) -> str:
    """`candidate`, or `candidate-2`, `-3`... within `limit` characters; added to `taken`."""
    name, number = candidate[:limit], 2
    while name in taken:
        suffix = f"_{number}"
        name = candidate[: limit - len(suffix)].rstrip("_-") + suffix
        number += 1
    taken.add(name)
    return name


def option_value(name: str) -> str:
    """An option value (stored, exported) from a category name: `Don't know` -> `dont_know`."""
    cleaned = fold(name).lower().replace("'", "").replace("’", "")
    value = re.sub(r"[^a-z0-9+-]+", "_", cleaned).lstrip("_-+")[:24]
    return value.rstrip("_-")


def _expression_end(text: str, start: int) -> int:
    """Where the expression that starts at `text[start] == '@'` ends, or `start` if none."""
    after = start + 1
    if text.startswith("(", after):
        depth, quoted = 0, False
        for index in range(after, len(text)):
            char = text[index]
            if char == '"':
                quoted = not quoted
            elif not quoted and char == "(":
                depth += 1
            elif not quoted and char == ")":
                depth -= 1
                if depth == 0:
                    return index + 1
        return start
    match = _IDENTIFIER.match(text, after)
    if not match or match[0].split(".")[0].lower() not in TOP_LEVELS:
        return start
    return match.end()


def plain(text: str) -> tuple[str, list[str]]:
    """The text without the expressions Buurtbot cannot evaluate, braces made literal.

    Returns the text and the expressions left out. `@@` is a literal `@`.
    """
    out: list[str] = []
    found: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "@":
            if text.startswith("@@", index):
                out.append("@")
                index += 2
                continue
            end = _expression_end(text, index)
            if end > index:
                found.append(text[index:end].rstrip("."))
                index = end
                continue
        out.append({"{": "{{", "}": "}}"}.get(char, char))
        index += 1
    result = "".join(out)
    if found:
        result = re.sub(r"[ \t]+([,.!?;:])", r"\1", result)
        result = re.sub(r"[ \t]{2,}", " ", result)
        result = "\n".join(line.strip() for line in result.split("\n"))
    return result.strip(), found
