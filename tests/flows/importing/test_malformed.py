"""Files that are no export we can read: one clear line, exit 1, nothing written."""

from __future__ import annotations

import contextlib
import copy
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.flows.importing import ExportError, import_file
from tests.flows.importing.specs import export, flow, node, send


def import_(tmp_path: Path, content: bytes) -> tuple[int, str, Path]:
    source = tmp_path / "export.json"
    source.write_bytes(content)
    into = tmp_path / "flows"
    result = CliRunner().invoke(app, ["flows", "import", str(source), "--into", str(into)])
    return result.exit_code, result.output, into


CASES = {
    "not JSON": (b"<html>Not found</html>", "not JSON (line 1"),
    "not text": (b"\xff\xfe\x00PK\x03\x04", "not a text file"),
    "other JSON": (json.dumps({"name": "package", "dependencies": {}}).encode(), "not a RapidPro"),
    "a number": (b"42", "not a RapidPro"),
    "unknown version": (
        json.dumps(
            export(flow("Q", [node("a", [send("a/m", "Hi")], None)]), version="99")
        ).encode(),
        "export version '99' is not supported (RapidPro spec versions 11 to 14.x are)",
    ),
    "unknown spec": (
        json.dumps(
            export(flow("Q", [node("a", [send("a/m", "Hi")], None)], spec_version="7.0"))
        ).encode(),
        "flow \"Q\": spec version '7.0' is not supported",
    ),
    "no nodes": (json.dumps(export(flow("Empty", []))).encode(), 'flow "Empty" has no nodes'),
    "no flows": (json.dumps({"version": "13", "flows": []}).encode(), "the export has no flows"),
    "nodes of the wrong shape": (
        json.dumps(export(flow("Odd", ["a node?"]))).encode(),
        'flow "Odd" is not a valid flow definition (nodes.0: input should be a valid dictionary',
    ),
    "a case without a type": (
        json.dumps(
            export(
                flow(
                    "Odd",
                    [{"uuid": "n1", "router": {"cases": [{"arguments": []}]}, "exits": []}],
                )
            )
        ).encode(),
        "(nodes.0.router.cases.0.type: field required)",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_malformed_file_gets_one_line_and_exit_1(tmp_path: Path, case: str) -> None:
    content, expected = CASES[case]
    code, output, into = import_(tmp_path, content)
    assert code == 1
    lines = output.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], output
    assert lines[0].startswith(str(tmp_path / "export.json"))
    assert not into.exists()


def test_a_50_mb_file_is_refused_unread(tmp_path: Path) -> None:
    source = tmp_path / "huge.json"
    with source.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    into = tmp_path / "flows"
    result = CliRunner().invoke(app, ["flows", "import", str(source), "--into", str(into)])
    assert result.exit_code == 1
    assert result.output.strip() == f"{source}: the file is 50 MB; an export can be at most 20 MB"
    assert not into.exists()


def test_a_missing_file_and_an_export_with_only_voice_flows(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["flows", "import", str(tmp_path / "nope.json")])
    assert result.exit_code == 1 and "cannot read the file" in result.output
    voice = export(flow("Call", [node("a", [], None)], type="voice"))
    code, output, into = import_(tmp_path, json.dumps(voice).encode())
    assert code == 1
    assert 'flow "Call": a voice flow is not imported' in output
    assert "no flow could be imported" in output
    assert not into.exists()


def test_damaged_exports_never_crash(tmp_path: Path) -> None:
    """Parts of a real-shaped export replaced by wrong types: a report or one line, no traceback."""
    exports = Path(__file__).parent / "exports"
    sources = [
        json.loads((exports / name).read_text(encoding="utf-8"))
        for name in ("ureport-water-poll.json", "legacy-street-party.json")
    ]

    def places(value, path=()):
        yield path
        items = (
            value.items()
            if isinstance(value, dict)
            else enumerate(value)
            if isinstance(value, list)
            else []
        )
        for key, child in items:
            yield from places(child, (*path, key))

    chance = random.Random(22)
    outcomes = {"imported": 0, "refused": 0}
    for number in range(150):
        data = copy.deepcopy(chance.choice(sources))
        for path in chance.sample([p for p in places(data) if p], 2):
            with contextlib.suppress(IndexError, KeyError, TypeError):
                parent = data
                for key in path[:-1]:
                    parent = parent[key]
                parent[path[-1]] = chance.choice([None, 7, "x", [], {}, [1], True])
        source = tmp_path / f"{number}.json"
        source.write_text(json.dumps(data), encoding="utf-8")
        try:
            outcome = import_file(source, tmp_path / f"out{number}")
        except ExportError as error:
            assert "\n" not in str(error) and str(error).startswith(str(source))
            outcomes["refused"] += 1
        else:
            outcomes["imported"] += bool(outcome.imported)
    assert outcomes["imported"] and outcomes["refused"]


def test_into_a_file_is_a_bad_argument(tmp_path: Path) -> None:
    source = tmp_path / "export.json"
    source.write_text(json.dumps(export(flow("Q", [node("a", [send("a/m", "Hi")], None)]))))
    target = tmp_path / "flows.yaml"
    target.write_text("keep me")
    result = CliRunner().invoke(app, ["flows", "import", str(source), "--into", str(target)])
    assert result.exit_code == 2
    assert result.output.strip() == f"--into: {target} is a file, not a folder"
    assert target.read_text() == "keep me"
