"""The small pure parts: codes, scopes, worker texts, audiences."""

from __future__ import annotations

from bot.community import roles
from bot.community.common import as_worker_text, localised
from bot.community.invitations import Audience


def test_codes_are_long_unambiguous_and_typed_loosely() -> None:
    codes = {roles.new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(roles.normalise_code(code)) == roles.CODE_LENGTH
        assert not set(roles.normalise_code(code)) & set("01OIL")
    code = "ABCD-EFGH-JKMN"
    secret = b"s"
    assert roles.hash_code("abcd efgh jkmn", secret) == roles.hash_code(code, secret)
    assert roles.hash_code(code, b"other") != roles.hash_code(code, secret)


def test_scopes() -> None:
    assert roles.covers(None, [])  # town-wide workers: everything
    assert roles.covers(frozenset({"a", "b"}), ["a"])
    assert not roles.covers(frozenset({"a"}), ["a", "b"])
    assert not roles.covers(frozenset({"a"}), [])  # the whole town is not theirs
    assert roles.overlaps(frozenset({"a"}), ["a", "b"])
    assert not roles.overlaps(frozenset({"a"}), ["b"])


def test_worker_texts_in_a_language() -> None:
    assert as_worker_text("Buurtbarbecue") == {"_": "Buurtbarbecue"}
    text = as_worker_text({"nl": "Buurtbarbecue", "tr": "Mahalle barbeküsü"})
    assert text["_"] == "Buurtbarbecue"
    assert localised(text, "tr_TR") == "Mahalle barbeküsü"
    assert localised(text, "pl") == "Buurtbarbecue"
    assert localised(None, "nl") == ""


def test_audience_survives_the_conversation_state() -> None:
    audience = Audience.of(["b", "a", "a"], ["12-17"], [], ["tr"], True)
    assert audience.neighbourhoods == ("a", "b")
    assert Audience.from_json(audience.to_json()) == audience


def test_a_worker_acts_on_activities_where_they_work() -> None:
    assert roles.may_act_on(frozenset({"a"}), ["a", "b"])
    assert not roles.may_act_on(frozenset({"a"}), ["b"])
    assert not roles.may_act_on(frozenset({"a"}), [])  # town-wide: not for a local worker
    assert roles.may_act_on(None, [])
    assert roles.may_act_on(None, ["b"])
