"""What an activity's fields must be: the one check the chat (`/newactivity`), the command
line (`buurtbot activities add`) and the dashboard's activity form all call.

`check_activity` takes what a worker typed or picked, as text, and gives back either the
fields ready to store (`ActivityFields`) or, for each field that is wrong, a short message
in the worker's language (`Checked.problems`, keyed by field name). A caller saves
nothing unless there are no problems, so nothing is ever half-saved.

Field names: `title` and `description` (the original text, in the deployment's default
language on the dashboard), `title_<code>` and `description_<code>` (a translation),
`date`, `time` (or `starts`, one ISO text, from the command line), `place`,
`neighbourhoods`, `age_groups`, `interests`, `capacity`.

A title and description are stored as a worker's text with translations,
`{"_": original, "tr": ...}` (`common.worker_text`): each person reads their language,
and where a translation is missing they get the original.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.deployment import Deployment
from bot.flows.library import FlowLibrary
from bot.flows.steps.base import SKIP
from bot.flows.steps.text import has_words
from bot.i18n.translator import Translator
from bot.settings import Settings
from bot.storage.models import utcnow

TITLE_LONGEST = 120
DESCRIPTION_LONGEST = 1000
PLACE_LONGEST = 200
MOST_PLACES = 10_000
ONBOARDING = "onboarding"
# Profile fields an activity can be for, and the onboarding options that are no audience.
AUDIENCE = ("age_group", "interests")
NOT_AN_AUDIENCE = frozenset({SKIP, "other"})


@dataclass
class ActivityFields:
    """An activity's fields, checked: what `create_activity` and `update_activity` take."""

    title: dict[str, str]
    description: dict[str, str]
    starts_at: datetime
    place: str
    neighbourhoods: list[str]
    age_groups: list[str] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)
    capacity: int | None = None


@dataclass
class Checked:
    """Either the fields (no problems) or a message for each field that is wrong."""

    fields: ActivityFields | None
    problems: dict[str, str]

    @property
    def ok(self) -> bool:
        return self.fields is not None and not self.problems


def profile_step(library: FlowLibrary, store_as: str) -> str | None:
    """The onboarding step where residents give a profile field (`age_group`)."""
    flow = library.get(ONBOARDING)
    if flow is None:
        return None
    return next((s.key for s in flow.steps if getattr(s, "store_as", None) == store_as), None)


def profile_options(library: FlowLibrary, store_as: str) -> list[str]:
    """The values residents can give for a profile field (`age_group`, `interests`), in
    the onboarding's order, without "rather not say" and "something else"."""
    key = profile_step(library, store_as)
    flow = library.get(ONBOARDING)
    if key is None or flow is None:
        return []
    values = [str(option.value) for option in getattr(flow.step(key), "options_", [])]
    return [value for value in values if value not in NOT_AN_AUDIENCE]


def _too_long(t: Translator, longest: int) -> str:
    return t.ngettext(
        "This is too long: at most {n} character.",
        "This is too long: at most {n} characters.",
        longest,
    ).format(n=longest)


def _texts(
    t: Translator,
    name: str,
    given: Mapping[str, str],
    settings: Settings,
    longest: int,
    problems: dict[str, str],
    needed: bool,
) -> dict[str, str]:
    """A worker's text with its translations; problems under `name` and `name_<code>`."""
    offered = settings.language_list
    original = str(given.get("_") or given.get(settings.default_language) or "").strip()
    translations = {
        code: str(given.get(code) or "").strip()
        for code in offered
        if code != settings.default_language or "_" in given
    }
    translations = {code: text for code, text in translations.items() if text}
    if not original:
        if needed:
            problems[name] = t.gettext("Write a title.")
        elif translations:
            problems[name] = t.gettext(
                "Write this text in the first language too: people whose language is "
                "missing get that one."
            )
    elif not has_words(original):
        problems[name] = t.gettext("Write it in words, not only signs or emoji.")
    elif len(original) > longest:
        problems[name] = _too_long(t, longest)
    for code, text in translations.items():
        if len(text) > longest:
            problems[f"{name}_{code}"] = _too_long(t, longest)
        elif not has_words(text):
            problems[f"{name}_{code}"] = t.gettext("Write it in words, not only signs or emoji.")
    found = {"_": original} if original else {}
    found.update(translations)
    return found


def _day(text: str) -> date | None:
    """`2026-06-12` (what a date field sends), or `12-06-2026` / `12/06/2026` typed."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    parts = text.replace("/", "-").replace(".", "-").split("-")
    if len(parts) == 3 and all(part.isdecimal() for part in parts) and len(parts[2]) == 4:
        try:
            return date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            return None
    return None


def _clock(text: str) -> time | None:
    """`14:00` (what a time field sends), or `14.00` typed."""
    text = text.strip().replace(".", ":")
    if not text or len(text) > 8:
        return None
    try:
        found = time.fromisoformat(text)
    except ValueError:
        return None
    return found.replace(second=0, microsecond=0, tzinfo=None)


def _moment(
    t: Translator,
    settings: Settings,
    day: str | None,
    at: str | None,
    starts: str | None,
    now: datetime,
    problems: dict[str, str],
) -> datetime | None:
    zone = ZoneInfo(settings.timezone)
    if starts is not None:
        try:
            moment = datetime.fromisoformat(starts.strip())
        except ValueError:
            problems["starts"] = t.gettext(
                "This is not an ISO date and time (like 2026-12-12T14:00)."
            )
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        moment = moment.astimezone(UTC)
        if moment <= now:
            problems["starts"] = t.gettext("This moment is in the past. Choose a later one.")
            return None
        return moment
    found_day = _day(day) if day and day.strip() else None
    found_time = _clock(at) if at and at.strip() else None
    if not (day or "").strip():
        problems["date"] = t.gettext("Choose a day.")
    elif found_day is None:
        problems["date"] = t.gettext("This is not a date. Write it like 2026-06-12.")
    if not (at or "").strip():
        problems["time"] = t.gettext("Choose a time.")
    elif found_time is None:
        problems["time"] = t.gettext("This is not a time. Write it like 14:00.")
    if found_day is None or found_time is None:
        return None
    moment = datetime.combine(found_day, found_time, tzinfo=zone).astimezone(UTC)
    if moment <= now:
        today = now.astimezone(zone).date()
        where = "time" if found_day == today else "date"
        problems[where] = t.gettext("This moment is in the past. Choose a later one.")
        return None
    return moment


def _capacity(t: Translator, value: str | int | None, problems: dict[str, str]) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    number = int(text) if text.isdecimal() and len(text) <= 6 else None
    if number is None or not 1 <= number <= MOST_PLACES:
        problems["capacity"] = t.gettext(
            "Write a whole number from 1 to 10000, or leave it empty for no maximum."
        )
        return None
    return number


def _neighbourhoods(
    t: Translator,
    deployment: Deployment,
    allowed: frozenset[str] | None,
    chosen: Sequence[str],
    kept: Iterable[str],
    problems: dict[str, str],
) -> list[str]:
    wanted = list(dict.fromkeys(key.strip() for key in chosen if key.strip()))
    outside = [
        key
        for key in wanted
        if deployment.neighbourhood(key) is None or (allowed is not None and key not in allowed)
    ]
    if outside:
        problems["neighbourhoods"] = t.gettext("You can only choose neighbourhoods you work in.")
        return []
    if allowed is not None and not wanted:
        problems["neighbourhoods"] = t.gettext("Choose at least one neighbourhood.")
        return []
    return sorted(set(wanted) | set(kept))


def _audience(
    t: Translator, name: str, chosen: Sequence[str], known: list[str] | None, problems: dict
) -> list[str]:
    wanted = list(dict.fromkeys(value.strip() for value in chosen if value.strip()))
    if known is not None and any(value not in known for value in wanted):
        problems[name] = t.gettext("Choose from the list.")
        return []
    return wanted


def check_activity(
    t: Translator,
    *,
    settings: Settings,
    deployment: Deployment,
    allowed: frozenset[str] | None,
    title: Mapping[str, str],
    description: Mapping[str, str] | None = None,
    day: str | None = None,
    at: str | None = None,
    starts: str | None = None,
    place: str = "",
    neighbourhoods: Sequence[str] = (),
    kept_neighbourhoods: Iterable[str] = (),
    age_groups: Sequence[str] = (),
    interests: Sequence[str] = (),
    library: FlowLibrary | None = None,
    capacity: str | int | None = None,
    now: datetime | None = None,
) -> Checked:
    """Check an activity as a worker with `allowed` neighbourhoods (None: the whole town)
    gave it; messages in `t`'s language.

    `title` and `description` are `{"_": original, code: translation}` (the chat) or
    `{code: text}` with the default language's text as the original (the dashboard).
    The start is `day` and `at` (local, `2026-06-12` and `14:00`) or `starts` (ISO, local
    unless it has an offset). `kept_neighbourhoods` (an edit: the activity's
    neighbourhoods outside the worker's) stay as they are. With `library`, age groups and
    interests must be options of the onboarding.
    """
    now = now or utcnow()
    problems: dict[str, str] = {}
    titles = _texts(t, "title", title, settings, TITLE_LONGEST, problems, needed=True)
    descriptions = _texts(
        t, "description", description or {}, settings, DESCRIPTION_LONGEST, problems, False
    )
    starts_at = _moment(t, settings, day, at, starts, now, problems)
    place = place.strip()
    if len(place) > PLACE_LONGEST:
        problems["place"] = _too_long(t, PLACE_LONGEST)
    places = _neighbourhoods(t, deployment, allowed, neighbourhoods, kept_neighbourhoods, problems)
    ages = _audience(
        t,
        "age_groups",
        age_groups,
        profile_options(library, "age_group") if library else None,
        problems,
    )
    wanted = _audience(
        t,
        "interests",
        interests,
        profile_options(library, "interests") if library else None,
        problems,
    )
    most = _capacity(t, capacity, problems)
    if problems or starts_at is None:
        return Checked(None, problems)
    return Checked(
        ActivityFields(
            title=titles,
            description=descriptions,
            starts_at=starts_at,
            place=place,
            neighbourhoods=places,
            age_groups=ages,
            interests=wanted,
            capacity=most,
        ),
        {},
    )


def missing_translations(text: Mapping[str, str] | str, settings: Settings) -> list[str]:
    """The offered languages a worker's text has no translation for (they get the
    original): the default language is never missing while there is an original."""
    if not isinstance(text, Mapping):
        return [code for code in settings.language_list if code != settings.default_language]
    return [
        code
        for code in settings.language_list
        if code != settings.default_language and not str(text.get(code) or "").strip()
    ]
