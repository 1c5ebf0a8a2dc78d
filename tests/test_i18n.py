"""The gettext catalogs: every message translated in every language, placeholders and markup kept,
the template in step with the code, and the asker's language chosen from platform codes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot import i18n, render
from bot.i18n import LOCALE_DIR
from bot.model import AccountRef, Answer, Certainty, NoAccountFound, Status

TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.SOURCE]
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
MARKUP = re.compile(r"</?b>|&lt;|&gt;|@\{username\}")


def template_ids() -> set[tuple[str | None, str]]:
    with (LOCALE_DIR / "isofficial.pot").open("rb") as pot:
        return {(m.context, str(m.id)) for m in read_po(pot) if m.id}


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    found = i18n.catalog(language)
    assert found is not None
    for context, msgid in template_ids():
        entry = found.get(msgid, context=context)
        assert entry is not None and entry.string, (language, msgid)
        assert not entry.fuzzy, (language, msgid)
        translated = str(entry.string)
        assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(msgid)), (
            language, msgid)
        assert sorted(MARKUP.findall(translated)) == sorted(MARKUP.findall(msgid)), (
            language, msgid)
        if context == "command name" and msgid.islower():  # Discord's rule for slash names
            assert re.fullmatch(r"[-_\w]{1,32}", translated) and translated == translated.lower()


def test_the_template_holds_every_message_the_code_marks(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    fresh = tmp_path / "fresh.pot"
    babel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [str(babel), "extract", "-F", str(LOCALE_DIR / "babel.cfg"), "-k", "_", "-k", "N_",
         "-k", "NP_:1c,2", "--no-location", "--omit-header", "-o", str(fresh),
         "bot", "adapters"], cwd=root, check=True, capture_output=True,
    )
    with fresh.open("rb") as pot:
        extracted = {(m.context, str(m.id)) for m in read_po(pot) if m.id}
    assert extracted == template_ids(), "run the pybabel extract of bot/i18n.py's docstring"


@pytest.mark.parametrize(("code", "language"), [
    ("ko", "ko"), ("ru", "ru"), ("uk", "uk"), ("es-ES", "es"), ("es-419", "es"),
    ("zh-hans", "zh_Hans"), ("zh-CN", "zh_Hans"), ("zh", "zh_Hans"), ("zh-TW", None),
    ("en-US", "en"), ("de", None), (None, None), ("", None),
])
def test_platform_language_codes(code: str | None, language: str | None) -> None:
    assert i18n.language_of(code) == language


def test_answers_speak_the_current_language_and_notes_stay_as_written() -> None:
    answer = Answer("x:nasa", AccountRef("x", "nasa"), Status.OFFICIAL, "NASA", Certainty.NONE,
                    note="Run by NASA's social media team.")
    with i18n.speaking("ko"):
        assert render.headline(answer) == "✅ x:nasa — NASA의 공식 계정"
        assert "Run by NASA's social media team." in render.full_lines(answer)[1]
        assert str(NoAccountFound("hello")).startswith("'hello'에서 계정을 찾지 못했습니다")
    assert render.headline(answer) == "✅ x:nasa — official account of NASA"
