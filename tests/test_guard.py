"""The guard at the core: members who pose as a chat's admins or as registered officials, by
name (homoglyphs, affixes, invisible characters, renames) and by photo; who is never flagged."""

from __future__ import annotations

import csv

import pytest
from avatars import avatar, copy_of, encoded
from conftest import TEST_DATA

from adapters.photos import photo_hash
from bot.core import Core
from bot.guard import Guard, GuardOptions, Member
from bot.model import AccountRef, Asker, Correction, IsOfficialError, NotAllowed, Status
from bot.platforms import normalize_handle
from isofficial.bootstrap import memory_core

TG, CHAT = "telegram", "-1001"
ADMIN_ASKER = Asker(TG, "1", chat_id=CHAT, is_private=False, name="alicekim")


def photo(seed: int, size: int = 640, crop: float = 0.0, quality: int = 90) -> int:
    found = photo_hash(encoded(copy_of(avatar(seed), size, crop), quality))
    assert found is not None
    return found


ALICE = Member(TG, "1", "alicekim", "Alice Kim", photo=photo(1))
BORIS = Member(TG, "2", "boris_ops", "Boris Petrov", photo=photo(2))


@pytest.fixture
async def core() -> Core:
    seed = [
        Correction(AccountRef(TG, "nasa"), Status.OFFICIAL, "NASA", handle_as_written="NASA"),
        Correction(AccountRef(TG, "binance"), Status.OFFICIAL, "Binance"),
        Correction(AccountRef("x", "metamask"), Status.OFFICIAL, "MetaMask"),
    ]
    core = await memory_core(frozenset(), seed)
    core.guard.set_admins(TG, CHAT, [ALICE, BORIS])
    await core.guard.set_on(TG, CHAT, True, ADMIN_ASKER, chat_admin=True)
    return core


def member(name: str, username: str | None = None, user_id: str = "99", **kw: int) -> Member:
    return Member(TG, user_id, username, name, **kw)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("\u0410lice Kim", "homoglyph"),  # Cyrillic А
        ("Alice Kim Support", "affix"),
        ("Alice Kim Admin", "affix"),
        ("Alice Kim\u200b", "same-name"),
        ("Alice Kim", "same-name"),  # display names are not unique: a copy is the trick
        ("Вoris Petrov", "homoglyph"),
    ],
)
async def test_a_member_posing_as_an_admin_by_name_is_flagged(
    core: Core, name: str, reason: str
) -> None:
    found = await core.guard.inspect(TG, CHAT, member(name))
    assert found is not None and found.imitates is not None
    assert found.imitates.user_id == ("1" if "lice" in name else "2")
    assert found.reasons[0] == reason


async def test_the_odd_characters_are_shown(core: Core) -> None:
    cyrillic = await core.guard.inspect(TG, CHAT, member("\u0410lice Kim"))
    assert cyrillic is not None and "mixed-script" in cyrillic.reasons
    assert cyrillic.odd == ("А U+0410 CYRILLIC CAPITAL LETTER A",)
    hidden = await core.guard.inspect(TG, CHAT, member("Alice Kim\u200b", user_id="98"))
    assert hidden is not None and "invisible" in hidden.reasons
    assert hidden.shown == "Alice Kim⟨U+200B⟩" and hidden.odd == ("U+200B ZERO WIDTH SPACE",)


async def test_a_username_like_an_admins_is_flagged(core: Core) -> None:
    found = await core.guard.inspect(TG, CHAT, member("Support", "alicekim_support"))
    assert found is not None and found.imitates == ALICE and found.reasons[0] == "affix"


async def test_ordinary_members_are_not_flagged(core: Core) -> None:
    for number, name in enumerate(["Alex", "Kim", "Alice", "Boris", "Maria Kim", "Peter"]):
        assert await core.guard.inspect(TG, CHAT, member(name, user_id=f"5{number}")) is None


async def test_a_rename_into_an_admins_name_is_flagged(core: Core) -> None:
    joined = member("Bob", "bob1990")
    assert await core.guard.inspect(TG, CHAT, joined) is None
    renamed = member("Alice Kіm", "bob1990")  # Ukrainian і
    found = await core.guard.inspect(TG, CHAT, renamed)
    assert found is not None and found.imitates == ALICE


async def test_the_same_member_and_name_is_warned_once(core: Core) -> None:
    impostor = member("Alice Kim Support")
    assert await core.guard.inspect(TG, CHAT, impostor) is not None
    assert await core.guard.inspect(TG, CHAT, impostor) is None
    with_photo = member("Alice Kim Support", photo=photo(1, 320))
    assert await core.guard.inspect(TG, CHAT, with_photo) is None  # the same name, same admin
    other_name = member("Boris Petrov Support")
    assert await core.guard.inspect(TG, CHAT, other_name) is not None


async def test_the_admins_photo_reencoded_resized_and_cropped_is_flagged(core: Core) -> None:
    copy = photo(1, size=320, crop=0.02, quality=50)
    found = await core.guard.inspect(TG, CHAT, member("Totally Someone", photo=copy))
    assert found is not None and found.imitates == ALICE and found.reasons == ("photo",)


async def test_a_different_photo_is_not_flagged(core: Core) -> None:
    assert await core.guard.inspect(TG, CHAT, member("Someone", photo=photo(77))) is None


async def test_a_name_one_letter_off_counts_with_the_photo(core: Core) -> None:
    """`Alice Kin` alone is a weak resemblance (as in check); with Alice's photo it is a warning."""
    assert await core.guard.inspect(TG, CHAT, member("Alice Kin", user_id="70")) is None
    found = await core.guard.inspect(TG, CHAT, member("Alice Kin", user_id="71", photo=photo(1)))
    assert found is not None and found.reasons == ("typo", "photo")


async def test_registered_officials_of_the_platform_are_protected(core: Core) -> None:
    found = await core.guard.inspect(TG, CHAT, member("NASA Helpdesk"))
    assert found is not None and found.official == AccountRef(TG, "nasa")
    assert found.entity == "NASA" and found.imitates is None
    by_username = await core.guard.inspect(TG, CHAT, member("Crypto", "binance_support", "97"))
    assert by_username is not None and by_username.entity == "Binance"
    # MetaMask is official on X only: not in a Telegram chat's protected set
    assert await core.guard.inspect(TG, CHAT, member("MetaMask Support", user_id="96")) is None


async def test_never_flagged_a_real_admin_an_allowed_member_a_registered_official(
    core: Core,
) -> None:
    assert await core.guard.inspect(TG, CHAT, ALICE) is None
    renamed_admin = Member(TG, "1", "alicekim", "Alice Kim Support")
    assert await core.guard.inspect(TG, CHAT, renamed_admin) is None
    assert await core.guard.inspect(TG, CHAT, member("NASA", "nasa", "55")) is None
    namesake = member("Alice Kim", user_id="56")
    await core.guard.allow(TG, CHAT, "56", ADMIN_ASKER, chat_admin=True)
    assert await core.guard.inspect(TG, CHAT, namesake) is None
    assert await core.guard.inspect(TG, CHAT, member("Alice Kim Support", user_id="56")) is None


async def test_guard_off_or_never_on_says_nothing(core: Core) -> None:
    assert await core.guard.inspect(TG, "-2002", member("Alice Kim")) is None
    await core.guard.set_on(TG, CHAT, False, ADMIN_ASKER, chat_admin=True)
    assert not await core.guard.is_on(TG, CHAT)
    assert await core.guard.inspect(TG, CHAT, member("Alice Kim")) is None


async def test_only_chat_admins_change_the_guard(core: Core) -> None:
    stranger = Asker(TG, "99", chat_id=CHAT, is_private=False, name="eve")
    with pytest.raises(NotAllowed, match="only this chat's admins"):
        await core.guard.set_on(TG, CHAT, False, stranger, chat_admin=False)
    with pytest.raises(NotAllowed):
        await core.guard.allow(TG, CHAT, "99", stranger, chat_admin=False)
    with pytest.raises(NotAllowed):
        await core.guard.set_options(TG, CHAT, GuardOptions(delete_join=True), stranger,
                                     chat_admin=False)  # fmt: skip
    assert await core.guard.is_on(TG, CHAT)
    assert await core.guard.options(TG, CHAT) == GuardOptions()


async def test_options_are_kept(core: Core) -> None:
    chosen = GuardOptions(restrict_until_approved=True, delete_join=True, moderators_chat="-5")
    await core.guard.set_options(TG, CHAT, chosen, ADMIN_ASKER, chat_admin=True)
    assert await core.guard.options(TG, CHAT) == chosen
    assert await core.guard.is_on(TG, CHAT)


async def test_who_is_tells_an_admin_from_a_lookalike(core: Core) -> None:
    real = core.guard.who_is(TG, CHAT, Member(TG, "", "AliceKim", ""))  # known by username only
    assert real.admin and real.looks_like is None
    fake = core.guard.who_is(TG, CHAT, member("Аlice Kim", "alice_kim_help"))
    assert not fake.admin and fake.looks_like is not None and fake.looks_like.imitates == ALICE
    official = core.guard.who_is(TG, CHAT, member("NASA", "nasa"))
    assert official.official and not official.admin and official.looks_like is None
    nobody = core.guard.who_is(TG, CHAT, member("Peter", "peter"))
    assert not nobody.admin and not nobody.official and nobody.looks_like is None


async def test_needs_photo_only_when_it_can_matter(core: Core) -> None:
    newcomer = member("Peter", user_id="60")
    assert core.guard.needs_photo(TG, CHAT, newcomer)
    assert not core.guard.needs_photo(TG, CHAT, ALICE)
    await core.guard.inspect(TG, CHAT, member("Peter", user_id="60", photo=photo(9)))
    assert not core.guard.needs_photo(TG, CHAT, newcomer)  # hashed once
    core.guard.set_admins(TG, "-3003", [Member(TG, "8", "carol", "Carol")])  # no photos
    assert not core.guard.needs_photo(TG, "-3003", newcomer)


async def test_dms_naming_a_guarded_chat(core: Core) -> None:
    core.guard.set_chat(TG, CHAT, "Rust Learners", "rustlearners")
    core.guard.set_chat(TG, "-4004", "Quiet Room")  # guard off there
    [chat] = await core.guard.named_chats(TG, "hi, an admin of rust learners wrote to me")
    assert chat.chat_id == CHAT
    assert [c.chat_id for c in await core.guard.named_chats(TG, "from @RustLearners")] == [CHAT]
    assert await core.guard.named_chats(TG, "the quiet room admin wrote to me") == []
    assert await core.guard.named_chats(TG, "rust is nice") == []


async def test_a_moved_chat_keeps_its_guard(core: Core) -> None:
    await core.guard.allow(TG, CHAT, "56", ADMIN_ASKER, chat_admin=True)
    await core.move_chat(TG, CHAT, "-1009")
    assert await core.guard.is_on(TG, "-1009") and not await core.guard.is_on(TG, CHAT)
    assert core.guard.admins(TG, "-1009") == (ALICE, BORIS)
    assert await core.guard.inspect(TG, "-1009", member("Alice Kim", user_id="56")) is None
    assert await core.guard.inspect(TG, "-1009", member("Alice Kim", user_id="57")) is not None


async def test_a_guard_without_a_store_keeps_its_settings_in_the_process(core: Core) -> None:
    guard = Guard(core.index)
    assert not await guard.is_on(TG, CHAT)
    await guard.set_on(TG, CHAT, True, ADMIN_ASKER, chat_admin=True)
    guard.settings_ttl = 0.0
    assert await guard.is_on(TG, CHAT)
    guard.set_chat(TG, CHAT, "Rust Learners")
    guard.set_chat(TG, "-2", "Other")
    assert [chat.title for chat in await guard.guarded_chats(TG)] == ["Rust Learners"]


async def test_the_registry_officials_added_later_are_protected_at_once(core: Core) -> None:
    operator = Asker("local", "operator", name="operator")
    await core.correct(Correction(AccountRef(TG, "ledger"), Status.OFFICIAL, "Ledger"), operator)
    found = await core.guard.inspect(TG, CHAT, member("Ledger Support", user_id="80"))
    assert found is not None and found.entity == "Ledger"


async def test_an_admins_former_username_taken_by_another_is_not_the_admin(core: Core) -> None:
    squatter = Member(TG, "66", "alicekim", "Alice Kim")  # the set predates a username change
    answer = core.guard.who_is(TG, CHAT, squatter)
    assert not answer.admin and answer.looks_like is not None
    assert await core.guard.inspect(TG, CHAT, squatter) is not None


async def test_real_officials_with_near_handles_are_never_flagged_as_each_other() -> None:
    """Real pairs of officials two letters apart (RepBonner, RepBonnie): registered on the chat's
    platform, each joining as themself is a registered official, never an impostor."""
    with (TEST_DATA / "legit_handle_near_pairs.csv").open(newline="", encoding="utf-8") as file:
        pairs = list(csv.DictReader(file))
    seed = [
        Correction(AccountRef(TG, normalize_handle(TG, row[f"handle_{side}"])), Status.OFFICIAL,
                   row[f"entity_{side}"])
        for row in pairs for side in "ab"
        if _telegram_handle(row[f"handle_{side}"])
    ]  # fmt: skip
    assert len(seed) > 50
    core = await memory_core(frozenset(), seed)
    await core.guard.set_on(TG, CHAT, True, ADMIN_ASKER, chat_admin=True)
    for number, correction in enumerate(seed):
        official = member(correction.entity or "", correction.ref.handle, f"r{number}")
        assert await core.guard.inspect(TG, CHAT, official) is None, official
    impostor = member("Support", seed[0].ref.handle + "_support", "x1")
    found = await core.guard.inspect(TG, CHAT, impostor)
    assert found is not None and found.entity == seed[0].entity


def _telegram_handle(handle: str) -> bool:
    try:
        normalize_handle(TG, handle)
    except IsOfficialError:
        return False
    return True


@pytest.mark.parametrize("with_store", [True, False])
async def test_the_settings_name_who_changed_them_last(core: Core, with_store: bool) -> None:
    guard = core.guard if with_store else Guard(core.index)
    chosen = GuardOptions(delete_join=True)
    await guard.set_options(TG, CHAT, chosen, ADMIN_ASKER, chat_admin=True)
    other = Asker(TG, "2", chat_id=CHAT, is_private=False, name="boris_ops")
    await guard.set_on(TG, CHAT, True, other, chat_admin=True)
    settings = await guard.settings(TG, CHAT)
    assert settings.on and settings.options == chosen
    assert settings.by == "telegram:2 (boris_ops)" and settings.at is not None
