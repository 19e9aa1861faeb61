"""Pages from Jinja2 templates, in the viewer's language.

Templates call `_()`, `ngettext()` and `pgettext()` (one English word, two meanings),
which are the viewer's translator; Babel's Jinja2
extractor (babel.cfg) puts their texts into the bot's catalogs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.dashboard.keys import DASHBOARD, LANGUAGE, VIEWER
from bot.dashboard.languages import RIGHT_TO_LEFT, own_name

TEMPLATES = Path(__file__).parent / "templates"
HTML = "text/html"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals["own_name"] = own_name
    return env


def compile_all(env: Environment) -> None:
    """Compile every template now (about 140 ms for all), so that no page's first view
    waits for its own."""
    for name in env.list_templates():
        env.get_template(name)


def _with_language(request: web.Request, code: str) -> str:
    """This page's address in another language, its filters kept."""
    query = {k: v for k, v in request.query.items() if k != "lang"}
    return str(request.rel_url.with_query({**query, "lang": code}))


def page(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    """Render `template` for this request's viewer and language."""
    state = request.app[DASHBOARD]
    language: str = request[LANGUAGE]
    t = state.catalogs(language)
    viewer = request.get(VIEWER)
    context = {
        "_": t.gettext,
        "gettext": t.gettext,
        "ngettext": t.ngettext,
        "pgettext": t.pgettext,
        "translator": t,
        "language": language,
        "direction": "rtl" if language in RIGHT_TO_LEFT else "ltr",
        "languages": state.languages,
        "viewer": viewer,
        "csrf_token": viewer.csrf_token if viewer is not None else "",
        "organisation": state.app.deployment.organisation.name,
        "path": request.path,
        "query": request.query_string,
        "htmx": request.headers.get("HX-Request") == "true",
        "in_language": lambda code: _with_language(request, code),
        **values,
    }
    html = state.templates.get_template(template).render(context)
    return web.Response(text=html, content_type=HTML, charset="utf-8", status=status)
