"""A posted form, its values and the message beside each field that is wrong.

The rules themselves (what a valid activity or poll is) live in `bot.community`; a page
asks them, puts each refusal beside its field with `form.refuse(name, message)`, and
shows the form again with what the person typed. Nothing is saved unless the form has
no errors. The templates' `_forms.html` draws the fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

LONGEST = 4000  # characters a field keeps; more is refused, not cut


@dataclass
class Form:
    """The fields as posted (or the starting values), and the errors by field name."""

    data: MultiDict[str] = field(default_factory=MultiDict)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def posted(cls, request: web.Request) -> Form:
        sent: MultiDictProxy = await request.post()
        data: MultiDict[str] = MultiDict()
        for key, value in sent.items():
            if isinstance(value, str) and key != "csrf_token":
                data.add(key, value.replace("\r\n", "\n").strip())
        return cls(data)

    @classmethod
    def starting(cls, values: Mapping[str, str | list[str]]) -> Form:
        data: MultiDict[str] = MultiDict()
        for key, value in values.items():
            for one in value if isinstance(value, list) else [value]:
                data.add(key, one)
        return cls(data)

    def value(self, name: str) -> str:
        return self.data.get(name, "")

    def values(self, name: str) -> list[str]:
        return self.data.getall(name, [])

    def error(self, name: str) -> str:
        return self.errors.get(name, "")

    def refuse(self, name: str, message: str) -> None:
        """Put `message` beside field `name` (the first refusal of a field stays)."""
        self.errors.setdefault(name, message)

    @property
    def ok(self) -> bool:
        return not self.errors
