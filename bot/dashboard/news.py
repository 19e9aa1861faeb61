"""News ("you said, we did"): what the check-in tells a neighbourhood's residents about
what happened with their answers, written with its translations side by side.

The page lists the viewer's neighbourhoods and how old each one's news is (or that it has
none), and writes one through `bot.community.news` (`problems`, then `write`), the same
check and save as `/news` in the chat. The preview is the check-in's start as the flow
engine makes it for a resident of each language.
"""

from __future__ import annotations

from aiohttp import web

from bot.community import audit
from bot.community import news as community_news
from bot.dashboard.forms import Form
from bot.dashboard.keys import DASHBOARD, LANGUAGE
from bot.dashboard.languages import RIGHT_TO_LEFT, own_name
from bot.dashboard.render import page
from bot.dashboard.scope import choices, viewer
from bot.i18n.format import format_day, local
from bot.storage.models import utcnow


def _languages(request: web.Request) -> tuple[str, list[str]]:
    """The default language (its text is needed) and the other offered ones."""
    settings = request.app[DASHBOARD].app.settings
    default = settings.default_language
    return default, [code for code in settings.language_list if code != default]


async def news_page(request: web.Request) -> web.StreamResponse:
    """The viewer's neighbourhoods, the age of each one's news, and the form."""
    state = request.app[DASHBOARD]
    app = state.app
    places = choices(request)
    async with app.database.transaction() as db:
        written = await community_news.all_news(db, [key for key, _ in places])
    wanted = request.query.get("neighbourhood", "")
    if wanted not in dict(places):
        wanted = next((key for key, _ in places if key not in written), "")
    form = _form_for(request, wanted, written.get(wanted))
    return _render(request, form, places, written, saved=request.query.get("saved", ""))


def _form_for(request: web.Request, key: str, found: community_news.Written | None) -> Form:
    _, others = _languages(request)
    values: dict[str, str | list[str]] = {"neighbourhood": key}
    if found is not None:
        values["text"] = found.text.get("_", "")
        for code in others:
            values[f"text-{code}"] = found.text.get(code, "")
    return Form.starting(values)


async def write_news(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    app = state.app
    who = viewer(request)
    t = state.catalogs(request[LANGUAGE])
    form = await Form.posted(request)
    _, others = _languages(request)
    where = form.value("neighbourhood")
    original = form.value("text")
    translations = {code: form.value(f"text-{code}") for code in others}
    for field, message in community_news.problems(
        t,
        app.deployment,
        app.settings.language_list,
        who.neighbourhoods,
        where,
        original,
        translations,
    ).items():
        form.refuse(field, message)
    places = choices(request)
    if not form.ok:
        async with app.database.transaction() as db:
            written = await community_news.all_news(db, [key for key, _ in places])
        return _render(request, form, places, written, status=400)
    async with app.database.transaction() as db:
        actor = await audit.actor_of(db, app.settings, who.participant_id, audit.DASHBOARD)
        await community_news.write(db, actor, where, original, translations)
    raise web.HTTPSeeOther(f"/news?neighbourhood={where}&saved={where}")


def _render(
    request: web.Request,
    form: Form,
    places: list[tuple[str, str]],
    written: dict[str, community_news.Written],
    *,
    saved: str = "",
    status: int = 200,
) -> web.Response:
    state = request.app[DASHBOARD]
    app = state.app
    language = request[LANGUAGE]
    default, others = _languages(request)
    now = utcnow()
    rows = []
    for key, name in places:
        found = written.get(key)
        if found is None:
            rows.append((key, name, None, None))
        else:
            days = max(0, (local(now, None) - local(found.updated_at, None)).days)
            day = format_day(found.updated_at, language, app.settings.timezone, with_year=True)
            rows.append((key, name, day, days))
    return page(
        request,
        "news.html",
        status=status,
        form=form,
        places=places,
        rows=rows,
        default=(default, own_name(default)),
        others=[(code, own_name(code)) for code in others],
        previews=_previews(request, form),
        saved=dict(places).get(saved, ""),
        longest=community_news.LONGEST,
    )


def _previews(request: web.Request, form: Form) -> list[tuple[str, str, str, bool, list]]:
    """The check-in's start in every offered language with the text in the form: the
    language, its name, its direction, whether it has its own text, the messages."""
    app = request.app[DASHBOARD].app
    default, others = _languages(request)
    if not form.value("text"):
        return []
    text = {"_": form.value("text")}
    text.update({code: form.value(f"text-{code}") for code in others if form.value(f"text-{code}")})
    return [
        (
            code,
            own_name(code),
            "rtl" if code in RIGHT_TO_LEFT else "ltr",
            code == default or bool(text.get(code)),
            community_news.preview(app.parts, code, text),
        )
        for code in [default, *others]
    ]


async def preview_part(request: web.Request) -> web.StreamResponse:
    """The preview alone, for htmx while the news is typed (nothing is saved)."""
    form = await Form.posted(request)
    return page(
        request,
        "_news_preview.html",
        previews=_previews(request, form),
        default=(_languages(request)[0], own_name(_languages(request)[0])),
    )
