"""The form helper: what was typed comes back, the first refusal of a field stays."""

from __future__ import annotations

from bot.dashboard.forms import Form


def test_a_form_keeps_what_was_typed_and_one_error_a_field() -> None:
    form = Form.starting({"title": "Barbecue", "neighbourhood": ["centrum", "hofkamp"]})
    assert form.ok and form.value("title") == "Barbecue"
    assert form.values("neighbourhood") == ["centrum", "hofkamp"]
    form.refuse("title", "Too long")
    form.refuse("title", "Second")
    assert not form.ok and form.error("title") == "Too long" and form.error("place") == ""
