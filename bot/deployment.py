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
    """The deployment file is missing or wrong; the message says which and where."""


def load_deployment(path: Path) -> Deployment:
    """Read the deployment file; a missing or invalid one raises `DeploymentError`.

    There is no default: residents must be told who asks ("Deze chat is van ... in
    ..."), and a bot started in the wrong folder should say so, not run as nobody.
    """
    if not path.is_file():
        raise DeploymentError(
            f"BUURTBOT_DEPLOYMENT_FILE: no deployment file {path} "
            f"(in {Path.cwd()}): nothing to work on here. Run buurtbot in the bot's "
            "folder, or set BUURTBOT_DEPLOYMENT_FILE"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
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
    return found
