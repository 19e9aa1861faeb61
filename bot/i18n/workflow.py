"""The translation workflow: extract, update, compile and check the gettext catalogs.

It is the standard Babel workflow (`pybabel extract / update / compile` with the mapping
in `babel.cfg`), run through Babel's own catalog functions, with four additions:

- `extract` leaves `locales/buurtbot.pot` untouched when only its date would change, and
  gives translators a word on the keyword lists;
- `update` keeps a translation when a flow's sentence is rewritten: the new sentence and
  the old one share their message context (`flow:step`), so the old translation is kept,
  marked fuzzy, with the old sentence as `#| msgid` — even when the sentences are too
  different for Babel's fuzzy matching. It creates the catalogs of configured languages
  that have none yet, with the right plural forms, and fills the source language's
  catalog (English) with the source texts;
- `check` extracts afresh and measures each language against that: a missing, empty or
  fuzzy translation counts as missing, a `{placeholder}` that differs from the source
  text (or a stray brace) is an error;
- the catalogs are ordinary `.po` files: Poedit, Weblate and `msgfmt` read them.
"""

from __future__ import annotations

import io
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import denormalize, read_po, write_po
from babel.util import LOCALTZ

from bot.i18n.catalogs import DOMAIN
from bot.i18n.placeholders import placeholders
from bot.i18n.review import load_glossary, review_errors
from bot.i18n.translator import base_language

ROOT = Path(__file__).resolve().parents[2]
SOURCE_LANGUAGE = "en"
COMMENT_TAGS = ("TRANSLATORS:",)
WIDTH = 76

#: Plural-Forms of the shipped languages that have more than "one" and "other", as GNU
#: gettext writes them. Fixed here, not taken from Babel: its table is CLDR's and
#: changes between releases (2.19 rewrote Polish and Ukrainian), and a catalog's header
#: must not change with the version installed. Turkish says "1 seçenek" / "3 seçenek"
#: but its catalogs carry the two forms gettext tools expect; Arabic's fifth form is
#: 11-99 (mod 100).
PLURAL_FORMS = {
    "ar": (
        6,
        "(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5)",
    ),
    "pl": (3, "(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)"),
    "tr": (2, "(n != 1)"),
    "uk": (
        3,
        "(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)",
    ),
}

#: Words for translators on messages the code cannot comment itself.
CONTEXT_HINTS = {
    "keywords for /": (
        "Words a person may type instead of the command, separated by commas. "
        "Give the everyday words of your language, also as people type them "
        "without special letters or in Latin script. Lower case is fine."
    ),
    "words that mean ": (
        "Words a person may type as the answer, separated by commas. Give the "
        "everyday words of your language, also in Latin script if people type that."
    ),
    "date word": (
        "Words a person may type instead of a date, separated by commas: the everyday "
        "word first, then other spellings people type (without special letters)."
    ),
    "date and time": "How a day and a time go together, like 'Saturday 12 December at 14:00'.",
}

HEADER_COMMENT = """\
# Buurtbot: {what}.
# Copyright (C) {year} the Buurtbot contributors. EUPL-1.2.
# {how}
# See docs/translating.md."""


def plural_forms(language: str) -> tuple[int, str]:
    """(nplurals, plural expression) a catalog of `language` should have."""
    base = base_language(language)
    if base in PLURAL_FORMS:
        return PLURAL_FORMS[base]
    try:
        rule = get_plural(language)
    except (ValueError, UnknownLocaleError):
        return 2, "(n != 1)"
    return rule.num_plurals, rule.plural_expr


def plural_forms_header(language: str) -> str:
    number, expression = plural_forms(language)
    return f"nplurals={number}; plural={expression};"


def message_key(message: Message) -> tuple[str, str | None]:
    """What identifies a message: its (singular) msgid and its msgctxt."""
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return msgid, message.context


def _default_root() -> Path:
    """This checkout (an editable install), else the folder the command runs in."""
    return ROOT if (ROOT / "babel.cfg").exists() else Path.cwd()


@dataclass(frozen=True)
class Project:
    """Where the sources, the mapping and the catalogs of a checkout are."""

    root: Path = field(default_factory=_default_root)
    domain: str = DOMAIN

    @property
    def mapping(self) -> Path:
        return self.root / "babel.cfg"

    @property
    def locales(self) -> Path:
        return self.root / "locales"

    @property
    def glossary(self) -> Path:
        return self.locales / "glossary.yaml"

    @property
    def template(self) -> Path:
        return self.locales / f"{self.domain}.pot"

    def po(self, language: str) -> Path:
        return self.locales / language / "LC_MESSAGES" / f"{self.domain}.po"

    def mo(self, language: str) -> Path:
        return self.locales / language / "LC_MESSAGES" / f"{self.domain}.mo"

    def languages(self) -> list[str]:
        """Languages that have a catalog."""
        if not self.locales.is_dir():
            return []
        return sorted(
            p.parent.parent.name for p in self.locales.glob(f"*/LC_MESSAGES/{self.domain}.po")
        )


# ---- extract -------------------------------------------------------------------------


def extract(project: Project) -> Catalog:
    """Every text of the bot and its flows, as `pybabel extract -F babel.cfg .` finds it."""
    with project.mapping.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(project.mapping))
    catalog = Catalog(
        project="Buurtbot",
        version=_version(),
        copyright_holder="the Buurtbot contributors",
        msgid_bugs_address="",
        charset="utf-8",
        header_comment=HEADER_COMMENT.format(
            what="translations template",
            year=datetime.now().year,
            how="Made by `buurtbot i18n extract`: do not edit. Translate the .po files.",
        ),
    )
    found = extract_from_dir(
        str(project.root),
        method_map,
        options_map,
        keywords=DEFAULT_KEYWORDS,
        comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(
            message,
            None,
            [(filename, lineno)],
            auto_comments=comments,
            context=context,
        )
    for message in catalog:
        if not message.id:
            continue
        for prefix, hint in CONTEXT_HINTS.items():
            if (message.context or "").startswith(prefix) and hint not in message.auto_comments:
                message.auto_comments.append(hint)
        text = message.id if isinstance(message.id, str) else " ".join(message.id)
        if placeholders(text) and not any("{" in c for c in message.auto_comments):
            shown = ", ".join("{" + name + "}" for name in placeholders(text))
            message.auto_comments.append(
                f"Keep {shown} exactly as written, untranslated: the bot fills in the value there."
            )
    return catalog


def write_template(project: Project) -> tuple[Catalog, bool]:
    """Extract into the `.pot` file; returns the template and whether the file changed.

    The file is left alone when nothing but its creation date would change.
    """
    catalog = extract(project)
    if project.template.exists():
        old = _read(project.template)
        catalog.creation_date = old.creation_date
        if _po_bytes(catalog) == project.template.read_bytes():
            return catalog, False
        catalog.creation_date = datetime.now(LOCALTZ)
    _write(project.template, catalog)
    return catalog, True


# ---- update --------------------------------------------------------------------------


@dataclass
class Updated:
    language: str
    created: bool = False
    changed: bool = False
    new: int = 0
    fuzzy: int = 0
    untranslated: int = 0
    obsolete: int = 0


def update(
    project: Project, languages: Iterable[str], *, drop_obsolete: bool = False
) -> list[Updated]:
    """Merge the template into each language's catalog, as `pybabel update` does.

    A catalog that does not exist yet is created (as `pybabel init` does).
    """
    source = project.template.read_bytes()
    results = []
    for language in dict.fromkeys(languages):
        # A fresh copy for each language: Babel's update puts the template's own
        # message objects into the catalog it updates.
        template = read_po(io.BytesIO(source), domain=DOMAIN)
        path = project.po(language)
        result = Updated(language)
        if path.exists():
            original = path.read_bytes()
            catalog = _read(path, language)
            before = {message_key(m): m for m in catalog if m.id}
            catalog.update(template, no_fuzzy_matching=False, update_header_comment=False)
            _rematch_by_context(catalog, before, template)
            result.new = sum(1 for m in catalog if m.id and message_key(m) not in before)
        else:
            original = b""
            catalog = _new_catalog(template, language)
            result.created = True
            result.new = sum(1 for m in catalog if m.id)
        if language == SOURCE_LANGUAGE:
            _fill_from_source(catalog)
        if drop_obsolete:
            catalog.obsolete.clear()
        result.fuzzy = sum(1 for m in catalog if m.id and m.fuzzy)
        result.untranslated = sum(1 for m in catalog if m.id and not _filled(m))
        result.obsolete = len(catalog.obsolete)
        data = _po_bytes(catalog)
        if data != original:
            if not result.created:
                # The revision date changes only with the content, so an update
                # with nothing new leaves the file as it was.
                catalog.revision_date = datetime.now(LOCALTZ)
                data = _po_bytes(catalog)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            result.changed = True
        results.append(result)
    return results


def _new_catalog(template: Catalog, language: str) -> Catalog:
    # Read without a locale (no warnings about the template's two plural forms), then
    # become the language, with its plural forms.
    catalog = read_po(io.BytesIO(_po_bytes(template)))
    catalog.locale = language
    catalog.fuzzy = False
    catalog.revision_date = datetime.now(LOCALTZ)
    catalog.language_team = f"{_english_name(language)} <>"
    catalog.last_translator = ""
    catalog.header_comment = HEADER_COMMENT.format(
        what=f"{_english_name(language)} translations",
        year=datetime.now().year,
        how="Translate with Poedit, Weblate or any .po editor.",
    )
    catalog.mime_headers = [("Plural-Forms", plural_forms_header(language))]
    return catalog


def _rematch_by_context(
    catalog: Catalog, before: dict[tuple[str, str | None], Message], template: Catalog
) -> None:
    """A rewritten flow text keeps the translation its context (`flow:step`) had.

    When exactly one message of a context left the template and exactly one new one
    came in, the new one is the old one rewritten: it takes the old translation, marked
    fuzzy for review, with the old source text as `previous_id`.
    """
    in_template = {message_key(m) for m in template if m.id}
    gone: dict[str, list[Message]] = {}
    for key, message in before.items():
        if message.context and key not in in_template and _filled(message):
            gone.setdefault(message.context, []).append(message)
    came: dict[str, list[Message]] = {}
    for message in catalog:
        if message.id and message.context and message_key(message) not in before:
            came.setdefault(message.context, []).append(message)
    for context, old_ones in gone.items():
        new_ones = came.get(context, [])
        if len(old_ones) != 1 or len(new_ones) != 1:
            continue
        old, new = old_ones[0], new_ones[0]
        if isinstance(old.id, str) != isinstance(new.id, str):
            continue
        new.string = old.string
        new.flags.add("fuzzy")
        new.previous_id = [old.id] if isinstance(old.id, str) else list(old.id)
        for key, message in list(catalog.obsolete.items()):
            if message is old or message_key(message) == message_key(old):
                del catalog.obsolete[key]


def _fill_from_source(catalog: Catalog) -> None:
    """The source language's catalog says what the source says, unless edited."""
    for message in catalog:
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else tuple(message.id)
        if isinstance(source, tuple):
            source = (source + (source[-1],) * catalog.num_plurals)[: catalog.num_plurals]
        previous = message.previous_id
        copied_before = (
            message.fuzzy
            and previous
            and (
                message.string == previous[0]
                if isinstance(source, str)
                else tuple(message.string)[:2] == tuple(previous)[:2]
            )
        )
        if not _filled(message) or copied_before:
            message.string = source
            message.flags.discard("fuzzy")
            message.previous_id = []


# ---- compile -------------------------------------------------------------------------


@dataclass
class Compiled:
    language: str
    path: Path
    translated: int
    total: int
    errors: list[str] = field(default_factory=list)


def compile_catalogs(project: Project, languages: Iterable[str]) -> list[Compiled]:
    """Write each `.po` as `.mo` (fuzzy translations left out), as `pybabel compile`."""
    results = []
    for language in languages:
        po = project.po(language)
        if not po.exists():
            continue
        catalog = _read(po, language)
        errors = [
            f"{po}:{message.lineno}: {error}"
            for message, problems in catalog.check()
            for error in problems
        ]
        with project.mo(language).open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        messages = [m for m in catalog if m.id]
        done = sum(1 for m in messages if _filled(m) and not m.fuzzy)
        results.append(Compiled(language, project.mo(language), done, len(messages), errors))
    return results


# ---- check ---------------------------------------------------------------------------


@dataclass
class Problem:
    msgid: str
    context: str | None
    # missing, untranslated, fuzzy; errors: placeholders, plural-forms, and what a
    # reviewer would find (bot.i18n.review): commands, glossary, direction
    kind: str
    detail: str = ""

    def __str__(self) -> str:
        where = f"[{self.context}] " if self.context else ""
        text = self.msgid.replace("\n", "\\n")
        if len(text) > 60:
            text = text[:57] + "..."
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.kind}{detail}: {where}{text!r}"


ERROR_KINDS = ("placeholders", "plural-forms", "commands", "glossary", "direction")


@dataclass
class Coverage:
    language: str
    total: int
    translated: int
    problems: list[Problem] = field(default_factory=list)
    exists: bool = True

    @property
    def percent(self) -> float:
        return 100.0 if not self.total else 100.0 * self.translated / self.total

    @property
    def errors(self) -> list[Problem]:
        """Problems that are wrong, not only missing."""
        return [p for p in self.problems if p.kind in ERROR_KINDS]

    @property
    def missing(self) -> list[Problem]:
        return [p for p in self.problems if p not in self.errors]


@dataclass
class Report:
    coverage: list[Coverage]
    template_added: list[tuple[str, str | None]] = field(default_factory=list)
    template_removed: list[tuple[str, str | None]] = field(default_factory=list)
    template_missing: bool = False

    @property
    def template_stale(self) -> bool:
        return self.template_missing or bool(self.template_added or self.template_removed)

    def passed(self, required: float = 100.0) -> bool:
        return not self.template_stale and all(
            c.percent >= required and not c.errors for c in self.coverage
        )


def check(project: Project, languages: Iterable[str]) -> Report:
    """How complete and how sound each language's catalog is, against fresh sources."""
    template = extract(project) if project.mapping.exists() else _read(project.template)
    report = Report([])
    wanted = {message_key(m) for m in template if m.id}
    if project.template.exists():
        written = {message_key(m) for m in _read(project.template) if m.id}
        report.template_added = sorted(wanted - written, key=str)
        report.template_removed = sorted(written - wanted, key=str)
    else:
        report.template_missing = True
    for language in languages:
        report.coverage.append(_coverage(project, template, language))
    return report


def _coverage(project: Project, template: Catalog, language: str) -> Coverage:
    messages = [m for m in template if m.id]
    path = project.po(language)
    if not path.exists():
        problems = [Problem(message_key(m)[0], m.context, "missing") for m in messages]
        return Coverage(language, len(messages), 0, problems, exists=False)
    catalog = _read(path, language)
    glossary = load_glossary(project.glossary)
    found = {message_key(m): m for m in catalog if m.id}
    coverage = Coverage(language, len(messages), 0)
    expected = plural_forms(language)[0]
    if catalog.num_plurals != expected:
        coverage.problems.append(
            Problem(
                "",
                None,
                "plural-forms",
                f"the header says nplurals={catalog.num_plurals}, {language} has {expected}",
            )
        )
    for wanted in messages:
        key = message_key(wanted)
        message = found.get(key)
        if message is None:
            coverage.problems.append(
                Problem(key[0], wanted.context, "missing", "not in the .po: run update")
            )
            continue
        if message.fuzzy:
            coverage.problems.append(Problem(key[0], wanted.context, "fuzzy"))
            continue
        if not _filled(message):
            coverage.problems.append(Problem(key[0], wanted.context, "untranslated"))
            continue
        wrong = placeholder_errors(message, catalog.num_plurals)
        if wrong:
            coverage.problems.append(Problem(key[0], wanted.context, "placeholders", wrong))
            continue
        kind, detail = review_errors(message, language, glossary)
        if kind:
            coverage.problems.append(Problem(key[0], wanted.context, kind, detail))
            continue
        coverage.translated += 1
    return coverage


def placeholder_errors(message: Message, num_plurals: int = 2) -> str:
    """What is wrong with the `{placeholders}` of a translation, or "" when nothing.

    A singular translation has exactly the source's placeholders; each plural form has
    no others than the source's (a form for exactly one may leave out `{n}`), and
    together they use them all. A stray `{` or `}` is an error too: it would break
    `str.format`.
    """
    ids = [message.id] if isinstance(message.id, str) else list(message.id)
    strings = [message.string] if isinstance(message.string, str) else list(message.string)
    allowed = {name for text in ids for name in placeholders(text)}
    used: set[str] = set()
    for text in strings:
        try:
            fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
        except ValueError as error:
            return f"broken braces in {text!r} ({error})"
        names = {name.split(".")[0].split("[")[0] for name in fields}
        if "" in names or any(name.isdigit() for name in names):
            return f"positional {{}} in {text!r}: use the names of the source text"
        extra = names - allowed
        if extra:
            return f"unknown {', '.join('{' + n + '}' for n in sorted(extra))} in {text!r}"
        used |= names
        if isinstance(message.id, str) and names != allowed:
            lost = ", ".join("{" + n + "}" for n in sorted(allowed - names))
            return f"{lost} missing in {text!r}"
    if not isinstance(message.id, str) and used != allowed:
        lost = ", ".join("{" + n + "}" for n in sorted(allowed - used))
        return f"{lost} missing in every plural form"
    return ""


# ---- helpers -------------------------------------------------------------------------


def _filled(message: Message) -> bool:
    if isinstance(message.string, str):
        return bool(message.string)
    return bool(message.string) and all(message.string)


def _read(path: Path, language: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    for message in [*catalog, *catalog.obsolete.values()]:
        _restore_previous(message)
    return catalog


def _restore_previous(message: Message) -> None:
    """Read the `#| msgid` lines back as the message's previous msgid.

    Babel writes them (`include_previous`) but reads them as user comments (`| msgid
    "..."`), which would come back as `# | msgid` lines; the quoted strings are decoded
    with Babel's own `denormalize`.
    """
    parts: dict[str, list[str]] = {}
    kept: list[str] = []
    current = None
    for comment in message.user_comments:
        if not comment.startswith("|"):
            kept.append(comment)
            continue
        body = comment[1:].strip()
        for keyword in ("msgid_plural", "msgid", "msgctxt"):
            if body.startswith(keyword + " "):
                current, body = keyword, body[len(keyword) + 1 :]
                break
        if current:
            parts.setdefault(current, []).append(body)
    message.user_comments = kept
    if "msgid" in parts and message.fuzzy:
        previous = [denormalize("\n".join(parts["msgid"]))]
        if "msgid_plural" in parts:
            previous.append(denormalize("\n".join(parts["msgid_plural"])))
        message.previous_id = previous


def _po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=WIDTH, include_previous=True, include_lineno=False)
    return buffer.getvalue()


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_po_bytes(catalog))


def _english_name(language: str) -> str:
    try:
        return Locale.parse(language).get_display_name("en") or language
    except (ValueError, UnknownLocaleError):
        return language


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("buurtbot")
    except Exception:  # pragma: no cover - not installed
        return "0"


# ---- filling in translations from elsewhere (an imported flow) ------------------------


def fill_translations(
    project: Project, language: str, translations: dict[tuple[str, str | None], str]
) -> int:
    """Put translations into a language's catalog where it has none of its own.

    `translations` maps (msgid, msgctxt) to the translation. An entry is filled when it
    is empty, fuzzy, or only a copy of its source text; a translation someone made in
    the catalog stays. Returns how many entries were filled. Run `update` first, so the
    entries are there.
    """
    path = project.po(language)
    if not path.exists():
        return 0
    catalog = _read(path, language)
    filled = 0
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue
        wanted = translations.get(message_key(message))
        if wanted is None or (message.string == wanted and not message.fuzzy):
            continue
        if _filled(message) and not message.fuzzy and message.string != message.id:
            continue
        message.string = wanted
        message.flags.discard("fuzzy")
        message.previous_id = []
        filled += 1
    if filled:
        catalog.revision_date = datetime.now(LOCALTZ)
        _write(path, catalog)
    return filled
