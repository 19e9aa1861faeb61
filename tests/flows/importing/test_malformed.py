"""Files that are no export we can read: one clear line, exit 1, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
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
