"""Checks every command makes before it touches the database.

Bad input gets one clear line and exit status 2 (the convention of command-line tools
for a usage error), before anything is read or written: an unknown neighbourhood, age
group, interest, language or flow, a time in the past, a user id that cannot be one,
settings that do not work (`BUURTBOT_TIMEZONE`), or a missing deployment file. A command
run in a folder that is not a bot's (no `buurtbot.yaml`, no database) says there is
nothing to work on there instead of creating an empty database.

The known values come from where the bot itself takes them: neighbourhoods from the
deployment file, age groups and interests from the onboarding flow's options, languages
from `BUURTBOT_LANGUAGES`, flows from the conversations folder.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from sqlalchemy import create_engine, inspect

from bot.community.activities import parse_starts
from bot.community.broadcasts import profile_values
from bot.community.common import record_id
from bot.deployment import Deployment, DeploymentError, load_deployment
from bot.flows.library import FlowLibrary
from bot.flows.loader import FlowError
from bot.settings import Settings, SettingsError
from bot.storage import polls as stored_polls
from bot.storage.db import HIDE_PARAMETERS, sqlite_file, sync_url
from bot.storage.models import utcnow

USAGE = 2  # exit status of a usage error
ONBOARDING = "onboarding"
CHANNELS = ("telegram", "signal", "terminal")


def refuse(message: str) -> NoReturn:
    """One line on standard error, exit status 2."""
    typer.echo(message, err=True)
    raise typer.Exit(USAGE)


def settings() -> Settings:
    """The settings, each checked (`Settings.check`); a bad one ends the command."""
    try:
        found = Settings()
        found.check()
    except ValidationError as error:
        first = error.errors()[0]
        name = "BUURTBOT_" + str(first["loc"][0]).upper() if first.get("loc") else "a setting"
        refuse(f"{name}: {first['msg']}")
    except SettingsError as error:
        refuse(str(error))
    return found


def deployment(found: Settings) -> Deployment:
    try:
        return load_deployment(found.deployment_file)
    except DeploymentError as error:
        refuse(str(error))


def library(found: Settings) -> FlowLibrary:
    try:
        return FlowLibrary.load(found.conversations_dir)
    except FlowError as error:
        refuse(f"{found.conversations_dir}: {error.problems[0] if error.problems else error}")
    except (FileNotFoundError, ValueError):
        refuse(
            f"no conversations folder {found.conversations_dir}: nothing to work on here "
            "(run buurtbot in the bot's folder, or set BUURTBOT_CONVERSATIONS_DIR)"
        )


def library_with_polls(found: Settings) -> FlowLibrary:
    """The flows, with the polls workers wrote in the dashboard (`--flow poll-7`).

    Read from the database when there is one; without one there are no polls, and the
    command's own check of the database says what is missing.
    """
    flows = library(found)
    path = sqlite_file(found.database_url)
    if path is not None and not Path(path).exists():
        return flows
    engine = create_engine(sync_url(found.database_url), **HIDE_PARAMETERS)
    try:
        with engine.connect() as connection:
            stored_polls.load_all_sync(connection, flows)
    except Exception:  # cannot connect: the command's database check says so
        pass
    finally:
        engine.dispose()
    return flows


def database_exists(found: Settings) -> None:
    """For commands that only read or add to a bot's data: the database must be there.

    A SQLite file that does not exist is not created (that would be a stray database in
    the wrong folder); a database without tables is named as such.
    """
    path = sqlite_file(found.database_url)
    if path is not None and not Path(path).exists():
        refuse(
            f"no database at {path}: nothing to work on here "
            "(run buurtbot in the bot's folder, or `buurtbot db upgrade` for a new one)"
        )
    engine = create_engine(sync_url(found.database_url), **HIDE_PARAMETERS)
    try:
        with engine.connect() as connection:
            ready = inspect(connection).has_table("participants")
    except Exception as error:  # cannot connect: say so in one line
        refuse(f"cannot open the database: {type(error).__name__}")
    finally:
        engine.dispose()
    if not ready:
        refuse("the database has no tables yet: run `buurtbot db upgrade` first")


def neighbourhoods(found: Deployment, keys: Iterable[str]) -> list[str]:
    wanted = list(keys or [])
    unknown = [key for key in wanted if found.neighbourhood(key) is None]
    if unknown:
        known = ", ".join(n.key for n in found.neighbourhoods)
        refuse(f"unknown neighbourhood {', '.join(unknown)}; known: {known}")
    return wanted


def _known(what: str, option: str, values: Iterable[str], known: list[str]) -> list[str]:
    wanted = list(values or [])
    unknown = [value for value in wanted if value not in known]
    if unknown:
        refuse(f"{option}: unknown {what} {', '.join(unknown)}; known: {', '.join(known)}")
    return wanted


def age_groups(flows: FlowLibrary, values: Iterable[str]) -> list[str]:
    return _known("age group", "--age-group", values, profile_values(flows, "age_group"))


def interests(flows: FlowLibrary, values: Iterable[str]) -> list[str]:
    return _known("interest", "--interest", values, profile_values(flows, "interests"))


def languages(found: Settings, values: Iterable[str]) -> list[str]:
    return _known("language", "--language", values, found.language_list)


def flow(flows: FlowLibrary, flow_id: str | None, option: str = "--flow") -> str | None:
    if flow_id and flows.get(flow_id) is None:
        refuse(f"{option}: no flow {flow_id!r}; known: {', '.join(sorted(flows.flows))}")
    return flow_id or None


def future_moment(found: Settings, text: str | None, option: str) -> datetime | None:
    """An ISO time (local unless it has an offset), not in the past; None when not given."""
    if text is None:
        return None
    try:
        moment = parse_starts(text, found.timezone)
    except ValueError:
        refuse(f"{option}: not an ISO date and time (like 2026-12-12T14:00): {text!r}")
    if moment < utcnow():
        refuse(f"{option}: {text} is in the past")
    return moment


def record(value: int | None, option: str) -> int | None:
    """An id given on the command line: a whole number the database can hold."""
    if value is not None and record_id(value) is None:
        refuse(f"{option}: not an id: {value}")
    return value


_TELEGRAM_ID = re.compile(r"^-?[1-9][0-9]{0,18}$")


def user_id(channel: str, value: str) -> str:
    """A person's id on a channel: Telegram's is a number, Signal's a UUID."""
    if channel not in CHANNELS:
        refuse(f"--channel: unknown channel {channel!r}; one of {', '.join(CHANNELS)}")
    text = value.strip()
    if channel == "telegram" and not _TELEGRAM_ID.match(text):
        refuse(f"--user-id: {value!r} is not a Telegram user id (a number like 123456789)")
    if channel == "signal":
        try:
            uuid.UUID(text)
        except ValueError:
            refuse(f"--user-id: {value!r} is not a Signal id (a UUID; phone numbers are not kept)")
    if channel == "terminal" and not text:
        refuse("--user-id: empty")
    return text


def timezone(found: Settings) -> ZoneInfo:
    return ZoneInfo(found.timezone)
