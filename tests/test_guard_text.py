"""The guard's words: the warning names the real admin or official and why, with the odd
characters' code points; the member answer; the DM notice; in the chat's language."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import guard_text, i18n
from bot.guard import GuardedChat, GuardOptions, GuardSettings, Impersonation, Member, MemberAnswer
from bot.model import AccountRef

ALICE = Member("telegram", "1", "alicekim", "Alice Kim")
IMPOSTOR = Member("telegram", "9", "alice_kim_help", "\u0410lice Kim")
AS_ALICE = Impersonation(
    IMPOSTOR, ALICE, None, None, ("homoglyph", "mixed-script"), "\u0410lice Kim",
    ("А U+0410 CYRILLIC CAPITAL LETTER A",), "Alice Kim",
)  # fmt: skip


def test_a_warning_names_the_admin_why_and_the_odd_characters() -> None:
    assert guard_text.warning_lines(AS_ALICE) == [
        "Careful: Аlice Kim (@alice_kim_help) only looks like Alice Kim (@alicekim), an admin"
        " of this chat: it is another account.",
        "why: letters of another alphabet that look the same; Latin letters mixed with"
        " Cyrillic or Greek ones",
        "odd characters: А U+0410 CYRILLIC CAPITAL LETTER A",
    ]


def test_a_warning_about_an_official_names_its_entity() -> None:
    member = Member("telegram", "8", "nasa_support", "Space fan")
    found = Impersonation(member, None, AccountRef("telegram", "nasa"), "NASA", ("affix",),
                          "nasa_support", (), "nasa")  # fmt: skip
    [first, why] = guard_text.warning_lines(found)
    assert first == (
        "Careful: Space fan (@nasa_support) only looks like @nasa, the official account of"
        " NASA: it is another account."
    )
    assert "“support”" in why


def test_invisible_characters_are_shown_as_code_points() -> None:
    member = Member("telegram", "7", None, "Alice Kim\u200b")
    reasons = ("same-name", "invisible")
    found = Impersonation(member, ALICE, None, None, reasons, "Alice Kim⟨U+200B⟩",
                          ("U+200B ZERO WIDTH SPACE",), "Alice Kim")  # fmt: skip
    text = guard_text.warning_text(found)
    assert "Careful: Alice Kim⟨U+200B⟩ only looks like" in text
    assert "the very same name; an invisible character in the name" in text


def test_member_answers() -> None:
    admin = MemberAnswer(ALICE, admin=True, official=False, looks_like=None)
    assert guard_text.member_answer_lines(admin) == [
        "Alice Kim (@alicekim) is an admin of this chat."]
    fake = MemberAnswer(IMPOSTOR, admin=False, official=False, looks_like=AS_ALICE)
    assert guard_text.member_answer_lines(fake)[0] == (
        "Аlice Kim (@alice_kim_help) is not an admin of this chat: they only look like"
        " Alice Kim (@alicekim), an admin of this chat."
    )
    nobody = MemberAnswer(Member("telegram", "5", "pete", ""), False, False, None)
    assert guard_text.member_answer_lines(nobody) == ["@pete is not an admin of this chat."]


def test_the_words_speak_the_chat_language() -> None:
    chat = GuardedChat("telegram", "-100", "Rust Learners")
    with i18n.speaking("ru"):
        assert guard_text.never_write_first(chat).startswith(
            "Администраторы Rust Learners никогда не пишут первыми.")
        assert guard_text.warning_lines(AS_ALICE)[0].startswith("Осторожно: Аlice Kim")
    assert guard_text.never_write_first(chat).startswith("Admins of Rust Learners never write")


def test_the_settings_say_what_is_on_and_who_changed_it() -> None:
    options = GuardOptions(restrict_until_approved=True, moderators_chat="-500")
    when = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    lines = guard_text.settings_lines(GuardSettings(True, options, "telegram:1 (@alice)", when))
    assert lines == [
        "The guard is on here.",
        "restrict impostors until an admin allows them: on",
        "delete their join message: off",
        "warnings copied to chat -500",
        "last changed by telegram:1 (@alice), 2026-12-02",
    ]
    assert guard_text.settings_lines(GuardSettings())[0] == "The guard is off here."
