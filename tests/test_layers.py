"""The layer contract covers the whole package: a new package must take its place.

import-linter (`lint-imports`) checks the imports between the layers listed in
pyproject.toml; a package listed nowhere would be checked against nothing.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_part_of_the_bot_package_is_in_a_layer() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    listed = {
        name.strip("()")
        for layer in contract["layers"]
        for name in re.split(r"\s*[|:]\s*", layer.strip())
    }
    parts = {
        f"bot.{path.stem}"
        for path in (ROOT / "bot").iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }
    missing = sorted(parts - listed)
    assert not missing, f"add to the layers in pyproject.toml (docs/architecture.md): {missing}"
