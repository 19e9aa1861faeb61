"""The deployment file: the organisation that runs the bot and its neighbourhoods.

Residents must be told who asks, so the organisation is part of every onboarding; the
neighbourhoods are the options of every neighbourhood question and the unit of reports.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

_POSTCODE = re.compile(r"^\s*([1-9][0-9]{3})\s*([A-Za-z]{2})?\s*$")


def normalise_postcode(text: str) -> str | None:
    """`7606 ab` -> `7606AB`; `7606` -> `7606`; anything else -> None."""
    match = _POSTCODE.match(text)
    if not match:
        return None
    digits, letters = match.groups()
    return digits + (letters or "").upper()


class Organisation(BaseModel):
    """Who runs this bot: named to every resident before any question."""

    name: str
    town: str = ""
    website: str = ""
    privacy_url: str = ""
    contact: str = ""
    privacy_version: str = "1"


class Neighbourhood(BaseModel):
    """A wijk or buurt. `postcodes` holds `7606`, `7606AB` or ranges like `7604AA-7604KZ`."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    postcodes: list[str] = []

    @field_validator("postcodes")
    @classmethod
    def _valid_ranges(cls, values: list[str]) -> list[str]:
        for value in values:
            for part in value.split("-"):
                if normalise_postcode(part) is None:
                    raise ValueError(f"not a Dutch postcode or range: {value!r}")
        return values

    def covers(self, postcode: str) -> bool:
        """Whether a normalised postcode (`7606AB` or `7606`) lies in this neighbourhood."""
        for value in self.postcodes:
            low_text, _, high_text = value.partition("-")
            low = normalise_postcode(low_text) or ""
            high = normalise_postcode(high_text) if high_text else low
            high = high or low
            width = max(len(low), len(high))
            probe = postcode[:width]
            low_key = low.ljust(width, "A") if len(low) > 4 else low
            high_key = high.ljust(width, "Z") if len(high) > 4 else high
            if len(probe) < width:
                if low_key[:4] <= postcode[:4] <= high_key[:4]:
                    return True
                continue
            if low_key <= probe <= high_key:
                return True
        return False


def postcode_span(value: str) -> tuple[int, int] | None:
    """A postcode entry (`7604`, `7604AB`, `7604AA-7604KZ`) as the first and last
    six-character postcode it covers, numbered, so two entries can be compared."""
    low_text, _, high_text = value.partition("-")
    low = normalise_postcode(low_text)
    high = normalise_postcode(high_text) if high_text else low
    if low is None or high is None:
        return None

    def number(code: str, fill: str) -> int:
        letters = code[4:].ljust(2, fill)
        return int(code[:4]) * 676 + (ord(letters[0]) - 65) * 26 + (ord(letters[1]) - 65)

    return number(low, "A"), number(high, "Z")


class Deployment(BaseModel):
    """The whole deployment file."""

    organisation: Organisation
    neighbourhoods: list[Neighbourhood]

    def neighbourhood(self, key: str) -> Neighbourhood | None:
        return next((n for n in self.neighbourhoods if n.key == key), None)

    def by_postcode(self, postcode: str) -> Neighbourhood | None:
        """The neighbourhood of a postcode, or None when it is outside the deployment."""
        code = normalise_postcode(postcode)
        if code is None:
            return None
        return next((n for n in self.neighbourhoods if n.covers(code)), None)


class DeploymentError(ValueError):
    """The deployment file is missing or wrong; `problems` are its lines, each saying which
    and where (`file:line: message` where a line is known)."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


def _postcode_lines(text: str) -> dict[tuple[int, int], int]:
    """The line (1-based) of each postcode entry: (neighbourhood index, entry index)."""
    lines: dict[tuple[int, int], int] = {}
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return lines
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key, value in root.value:
        if key.value != "neighbourhoods" or not isinstance(value, yaml.SequenceNode):
            continue
        for n, item in enumerate(value.value):
            if not isinstance(item, yaml.MappingNode):
                continue
            for field, entries in item.value:
                if field.value == "postcodes" and isinstance(entries, yaml.SequenceNode):
                    for e, entry in enumerate(entries.value):
                        lines[(n, e)] = entry.start_mark.line + 1
    return lines


def overlaps(deployment: Deployment, path: Path, text: str) -> list[str]:
    """Postcode entries of two neighbourhoods that share postcodes, as `file:line: ...`.

    Such a postcode would be put in whichever neighbourhood comes first in the file,
    so every resident of the other is counted in the wrong place.
    """
    lines = _postcode_lines(text)
    entries = [
        (n, e, hood, value, span)
        for n, hood in enumerate(deployment.neighbourhoods)
        for e, value in enumerate(hood.postcodes)
        if (span := postcode_span(value)) is not None
    ]
    problems = []
    for i, (n, e, hood, value, span) in enumerate(entries):
        for m, f, other, other_value, other_span in entries[i + 1 :]:
            if m == n or span[1] < other_span[0] or other_span[1] < span[0]:
                continue
            problems.append(
                f"{path}:{lines.get((m, f), 1)}: postcode {other_value} of {other.name} "
                f"overlaps {value} of {hood.name} (line {lines.get((n, e), 1)}): "
                "a postcode must belong to one neighbourhood"
            )
    return problems


def check_deployment(path: Path) -> list[str]:
    """Every problem of a deployment file, as `file:line: message` (none when it is fine)."""
    try:
        load_deployment(path)
    except DeploymentError as error:
        return error.problems
    return []


def load_deployment(path: Path) -> Deployment:
    """Read the deployment file; a missing or invalid one raises `DeploymentError`.

    There is no default: residents must be told who asks ("Deze chat is van ... in
    ..."), and a bot started in the wrong folder should say so, not run as nobody. A
    file that gives one postcode to two neighbourhoods is refused too: the bot does not
    start with it.
    """
    if not path.is_file():
        raise DeploymentError(
            f"BUURTBOT_DEPLOYMENT_FILE: no deployment file {path} "
            f"(in {Path.cwd()}): nothing to work on here. Run buurtbot in the bot's "
            "folder, or set BUURTBOT_DEPLOYMENT_FILE"
        )
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        where = getattr(error, "problem_mark", None)
        line = f":{where.line + 1}" if where is not None else ""
        raise DeploymentError(f"{path}{line}: not a readable YAML file") from None
    if not isinstance(data, dict):
        raise DeploymentError(f"{path}: expected organisation: and neighbourhoods:")
    try:
        found = Deployment.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise DeploymentError(f"{path}: {field}: {first['msg']}") from None
    for field in ("name", "town"):
        if not getattr(found.organisation, field).strip():
            # The consent says "This chat is from {organisation} in {town}."
            raise DeploymentError(f"{path}: organisation.{field}: empty")
    if not found.neighbourhoods:
        raise DeploymentError(f"{path}: neighbourhoods: none given")
    problems = overlaps(found, path, text)
    if problems:
        raise DeploymentError(problems)
    return found
