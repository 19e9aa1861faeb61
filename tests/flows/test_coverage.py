"""A flow's translation coverage per language, as the dashboard's flows page shows it."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from bot.flows.coverage import coverage, flow_texts
from tests.conftest import ROOT

FLOW = """\
id: tiny
version: 1
language: en
title: Tiny
steps:
  - key: hello
    kind: message
    text: Hello
  - key: name
    kind: message
    text: Amsterdam
"""


def _po(folder: Path, code: str, entries: dict[tuple[str, str], str]) -> None:
    catalog = Catalog(locale=code)
    for (context, text), translated in entries.items():
        catalog.add(text, translated, context=context)
    catalog.add("Not for this flow", "Niet voor deze flow", context="other:text")
    target = folder / code / "LC_MESSAGES" / "buurtbot.po"
    target.parent.mkdir(parents=True)
    with target.open("wb") as handle:
        write_po(handle, catalog)


def test_missing_texts_count_as_missing_and_a_text_like_its_source_as_translated(
    tmp_path: Path,
) -> None:
    flow = tmp_path / "tiny.yaml"
    flow.write_text(FLOW, encoding="utf-8")
    texts = flow_texts(flow)
    assert len(texts) == 3 and ("tiny:title", "Tiny") in texts
    hello = next(t for t in texts if t[1] == "Hello")
    town = next(t for t in texts if t[1] == "Amsterdam")
    _po(tmp_path, "nl", {hello: "Hallo", town: "Amsterdam"})
    _po(tmp_path, "tr", {})
    found = coverage(flow, "en", ["en", "nl", "tr", "ar"], folder=tmp_path)
    assert found["en"] == 100.0
    assert round(found["nl"]) == 67
    assert found["tr"] == 0.0 and found["ar"] == 0.0


def test_the_shipped_flows_are_translated_into_every_shipped_language() -> None:
    for path in sorted((ROOT / "conversations").glob("*.yaml")):
        found = coverage(path, "en", ["nl", "tr", "ar", "pl", "uk"])
        assert all(value == 100.0 for value in found.values()), (path.name, found)
