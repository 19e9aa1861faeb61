"""Polls: the list of polls a worker wrote, and writing a new one.

A poll is a question with its options, each written with its translations side by side,
for some neighbourhoods. What a valid poll is, and storing it, is
`bot.community.polls` (`poll_problems`, `create_poll`); this page puts each problem
beside its field. "One more option" is a plain submit that shows the form again with
another row (no script); an empty row is left out. Sending a poll is the send page's
(`/send?flow=poll-7`), its answers are on the results page (`/results?flow=poll-7`).
"""

from __future__ import annotations

from aiohttp import web

from bot.community import audit, polls
from bot.dashboard.forms import Form
from bot.dashboard.keys import DASHBOARD, LANGUAGE
from bot.dashboard.render import page
from bot.dashboard.scope import choices, forbidden, viewer
from bot.flows.labels import Labels
from bot.i18n.format import format_day

STARTING_ROWS = 3
MORE = "more"


def _languages(request: web.Request) -> list[str]:
    """The offered languages, the default one (the original) first."""
    settings = request.app[DASHBOARD].app.settings
    default = settings.default_language
    return [default, *(code for code in settings.language_list if code != default)]


def _rows(form: Form) -> int:
    """How many option rows the form has: as posted (at most a few past the limit)."""
    try:
        rows = int(form.value("rows") or STARTING_ROWS)
    except ValueError:
        rows = STARTING_ROWS
    return max(polls.MIN_OPTIONS, min(rows, polls.MAX_OPTIONS + 2))


def _draft(form: Form, codes: list[str], rows: int) -> polls.PollDraft:
    return polls.PollDraft(
        question={code: form.value(f"question-{code}") for code in codes},
        options=[
            {code: form.value(f"option-{n}-{code}") for code in codes} for n in range(1, rows + 1)
        ],
        neighbourhoods=form.values("neighbourhoods"),
    )


def _new_page(request: web.Request, form: Form, rows: int, status: int = 200) -> web.Response:
    return page(
        request,
        "poll_new.html",
        status=status,
        form=form,
        codes=_languages(request),
        rows=rows,
        more_allowed=rows < polls.MAX_OPTIONS,
        neighbourhoods=choices(request),
        max_options=polls.MAX_OPTIONS,
    )


async def polls_page(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    app = state.app
    who = viewer(request)
    language = request[LANGUAGE]
    async with app.database.transaction() as session:
        found = await polls.list_polls(session, app.library, who.neighbourhoods)
    labels = Labels(app.library, app.deployment, state.catalogs(language), language=language)
    names = dict(choices(request))
    rows = [
        {
            "flow_id": summary.flow_id,
            "question": labels.flow_title(summary.flow_id),
            "options": [
                labels.option(summary.flow_id, "answer", value)
                for value in labels.options(summary.flow_id, "answer")
                if value != "_skip"
            ],
            "neighbourhoods": [names.get(key, key) for key in summary.poll.neighbourhoods],
            "created": format_day(
                summary.poll.created_at, language, app.settings.timezone, with_year=True
            ),
            "answered": summary.answered,
        }
        for summary in found
    ]
    return page(request, "polls.html", polls=rows, created=request.query.get("created", ""))


async def new_poll_page(request: web.Request) -> web.StreamResponse:
    mine = choices(request)
    start: dict[str, str | list[str]] = {"rows": str(STARTING_ROWS)}
    if len(mine) == 1:
        start["neighbourhoods"] = [mine[0][0]]
    return _new_page(request, Form.starting(start), STARTING_ROWS)


async def create_poll(request: web.Request) -> web.StreamResponse:
    state = request.app[DASHBOARD]
    app = state.app
    who = viewer(request)
    form = await Form.posted(request)
    # A neighbourhood outside the viewer's own is a forged form, not a slip.
    if any(not who.may_see(key) for key in form.values("neighbourhoods")):
        return forbidden(request)
    codes = _languages(request)
    rows = _rows(form)
    if form.value("action") == MORE:
        if rows < polls.MAX_OPTIONS:
            rows += 1
        form.data["rows"] = str(rows)
        return _new_page(request, form, rows)
    t = state.catalogs(request[LANGUAGE])
    async with app.database.transaction() as session:
        actor = await audit.actor_of(session, app.settings, who.participant_id, audit.DASHBOARD)
        poll, problems = await polls.create_poll(
            session,
            app.settings,
            app.deployment,
            state.catalogs,
            actor,
            _draft(form, codes, rows),
            who.neighbourhoods,
            t,
        )
    if poll is None:
        for name, message in problems.items():
            form.refuse(name, message)
        return _new_page(request, form, rows, status=422)
    raise web.HTTPSeeOther(f"/polls?created=poll-{poll.id}")
