"""Every string the bot writes, in the asker's language: gettext catalogs read with Babel.

The catalogs are `bot/locale/<language>/LC_MESSAGES/isofficial.po`; English is the source
language. The template `bot/locale/isofficial.pot` is made by
`pybabel extract -F bot/locale/babel.cfg -k _ -k N_ -k NP_:1c,2 --no-location --omit-header
-o bot/locale/isofficial.pot bot adapters`, then `pybabel update -i bot/locale/isofficial.pot
-d bot/locale -D isofficial` brings the catalogs in step (tests/test_i18n.py checks both).
An adapter says whose language applies with `use(language)` at the start of handling an update:
the choice lives in a context variable, so each update (each asyncio task) speaks its own
language and the render functions need no extra parameter. Registry notes, entity names and
sources are data, never translated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "isofficial"
SOURCE = "en"
LANGUAGES = ("en", "ko", "ru", "uk", "es", "zh_Hans")
NAMES = {"en": "English", "ko": "한국어", "ru": "Русский", "uk": "Українська", "es": "Español",
         "zh_Hans": "简体中文"}

_current: ContextVar[str] = ContextVar("isofficial_language", default=SOURCE)


def language_of(code: str | None) -> str | None:
    """Our language for a platform's code (Telegram `ko`, `zh-hans`; Discord `es-ES`, `zh-CN`),
    None when we do not speak it."""
    if not code:
        return None
    parts = re.split(r"[-_]", code.strip().lower())
    if parts[0] == "zh":
        traditional = {"hant", "tw", "hk", "mo"}
        return None if any(p in traditional for p in parts[1:]) else "zh_Hans"
    return parts[0] if parts[0] in LANGUAGES else None


def use(language: str | None) -> None:
    """Speak `language` (one of LANGUAGES; None or unknown: English) in this task from now on."""
    _current.set(language if language in LANGUAGES else SOURCE)


@contextmanager
def speaking(language: str | None) -> Iterator[None]:
    """Speak `language` inside the block only."""
    token = _current.set(language if language in LANGUAGES else SOURCE)
    try:
        yield
    finally:
        _current.reset(token)


def current() -> str:
    return _current.get()


@cache
def catalog(language: str) -> Catalog | None:
    """The language's catalog (None for English, the source), read once."""
    if language == SOURCE:
        return None
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po:
        return read_po(po)


def _(message: str) -> str:
    """message in the current language (message itself when untranslated)."""
    return translate(current(), message)


def N_(message: str) -> str:
    """Mark message for extraction only; translate it with _ where it is shown."""
    return message


def NP_(context: str, message: str) -> str:
    """Mark message, in context, for extraction only (e.g. command names)."""
    return message


def translate(language: str, message: str, context: str | None = None) -> str:
    found = catalog(language) if language in LANGUAGES else None
    if found is None:
        return message
    entry = found.get(message, context=context)
    if entry is None or not entry.string or isinstance(entry.string, tuple):
        return message
    return str(entry.string)


def pgettext(context: str, message: str) -> str:
    """message in the current language, disambiguated by context (e.g. a command's name)."""
    return translate(current(), message, context)
