"""Handle parsing: every form a user pastes, per-platform rules, junk, the real registry files."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.handles import MAX_SCAN, NamedAccount, find_accounts, parse_ref
from bot.model import AccountRef, InvalidHandle, NoAccountFound, UnknownPlatform
from bot.platforms import (
    ANY,
    PLATFORMS,
    display_handle,
    normalize_handle,
    platform_named,
    profile_url,
)

DATA = Path(__file__).resolve().parent / "data"

# (text, platform, key, written, platform_id)
LINKS = [
    ("https://x.com/NASA", "x", "nasa", "NASA", None),
    ("https://twitter.com/uriminzok", "x", "uriminzok", "uriminzok", None),
    ("twitter.com/uriminzok", "x", "uriminzok", "uriminzok", None),
    ("http://www.twitter.com/NASA?lang=en#top", "x", "nasa", "NASA", None),
    ("https://mobile.twitter.com/NASA", "x", "nasa", "NASA", None),
    ("https://x.com/NASA/status/1", "x", "nasa", "NASA", None),
    ("https://fxtwitter.com/NASA/status/1", "x", "nasa", "NASA", None),
    ("https://x.com/intent/follow?screen_name=NASA", "x", "nasa", "NASA", None),
    ("HTTPS://X.COM/NASA", "x", "nasa", "NASA", None),
    ("https://www.youtube.com/@NASA", "youtube", "nasa", "NASA", None),
    ("https://m.youtube.com/@NASA/videos", "youtube", "nasa", "NASA", None),
    ("youtube.com/user/NASAtelevision", "youtube", "nasatelevision", "NASAtelevision", None),
    ("https://www.youtube.com/c/NASA", "youtube", "nasa", "NASA", None),
    ("https://www.youtube.com/NASA", "youtube", "nasa", "NASA", None),
    (
        "https://www.youtube.com/channel/UCLA_DiR1FfKNvjuUpBHmylQ",
        "youtube",
        "UCLA_DiR1FfKNvjuUpBHmylQ",
        "UCLA_DiR1FfKNvjuUpBHmylQ",
        "UCLA_DiR1FfKNvjuUpBHmylQ",
    ),
    ("https://www.facebook.com/NASA", "facebook", "nasa", "NASA", None),
    (
        "https://m.facebook.com/charles.goerens",
        "facebook",
        "charlesgoerens",
        "charles.goerens",
        None,
    ),
    ("https://fb.com/charlesgoerens/", "facebook", "charlesgoerens", "charlesgoerens", None),
    (
        "https://www.facebook.com/profile.php?id=100089355874563",
        "facebook",
        "100089355874563",
        "100089355874563",
        "100089355874563",
    ),
    (
        "https://www.facebook.com/pages/Marc-Tarabella/440244735250",
        "facebook",
        "440244735250",
        "440244735250",
        "440244735250",
    ),
    (
        "https://www.facebook.com/Vera-Tax-104024417686758",
        "facebook",
        "104024417686758",
        "Vera-Tax-104024417686758",
        "104024417686758",
    ),
    (
        "https://www.facebook.com/pg/fabienne.keller3/posts",
        "facebook",
        "fabiennekeller3",
        "fabienne.keller3",
        None,
    ),
    ("https://www.instagram.com/nasa/", "instagram", "nasa", "nasa", None),
    ("instagram.com/RepAaronBean?hl=en", "instagram", "repaaronbean", "RepAaronBean", None),
    ("https://www.instagram.com/stories/nasa/123/", "instagram", "nasa", "nasa", None),
    ("https://t.me/durov", "telegram", "durov", "durov", None),
    ("https://t.me/s/durov", "telegram", "durov", "durov", None),
    ("https://t.me/durov/123", "telegram", "durov", "durov", None),
    ("telegram.me/Durov", "telegram", "durov", "Durov", None),
    ("https://telegram.dog/durov", "telegram", "durov", "durov", None),
    ("https://durov.t.me/", "telegram", "durov", "durov", None),
    ("tg://resolve?domain=durov", "telegram", "durov", "durov", None),
    ("https://www.tiktok.com/@nasa?lang=en", "tiktok", "nasa", "nasa", None),
    ("https://www.tiktok.com/@nasa/video/7", "tiktok", "nasa", "nasa", None),
    ("https://www.threads.net/@nasa", "threads", "nasa", "nasa", None),
    ("https://www.threads.com/@NASA/post/C1", "threads", "nasa", "NASA", None),
    (
        "https://bsky.app/profile/nasa.bsky.social",
        "bluesky",
        "nasa.bsky.social",
        "nasa.bsky.social",
        None,
    ),
    ("https://bsky.app/profile/NASA.gov/post/3k", "bluesky", "nasa.gov", "NASA.gov", None),
    (
        "https://bsky.app/profile/did:plc:z72i7hdynmk6r22z27h6tvur",
        "bluesky",
        "did:plc:z72i7hdynmk6r22z27h6tvur",
        "did:plc:z72i7hdynmk6r22z27h6tvur",
        "did:plc:z72i7hdynmk6r22z27h6tvur",
    ),
    (
        "https://mastodon.social/@RepAdams",
        "mastodon",
        "repadams@mastodon.social",
        "RepAdams@mastodon.social",
        None,
    ),
    (
        "https://mastodon.social/@Gargron/1123",
        "mastodon",
        "gargron@mastodon.social",
        "Gargron@mastodon.social",
        None,
    ),
    ("https://www.reddit.com/user/spez/", "reddit", "spez", "spez", None),
    ("https://old.reddit.com/u/spez", "reddit", "spez", "spez", None),
    ("https://www.reddit.com/r/Python/comments/1", "reddit", "r/python", "r/Python", None),
    ("https://www.linkedin.com/in/satyanadella/", "linkedin", "satyanadella", "satyanadella", None),
    ("https://uk.linkedin.com/in/satyanadella", "linkedin", "satyanadella", "satyanadella", None),
    (
        "https://www.linkedin.com/company/Microsoft/",
        "linkedin",
        "company/microsoft",
        "company/Microsoft",
        None,
    ),
    ("https://discord.gg/AbCd12", "discord", "invite/AbCd12", "invite/AbCd12", None),
    ("https://discord.com/invite/AbCd12", "discord", "invite/AbCd12", "invite/AbCd12", None),
    ("https://www.bbc.co.uk/news", "website", "bbc.co.uk", "www.bbc.co.uk", None),
    ("bbc.co.uk", "website", "bbc.co.uk", "bbc.co.uk", None),
    (
        "https://login.secure.paypal.com.evil.io/x",
        "website",
        "evil.io",
        "login.secure.paypal.com.evil.io",
        None,
    ),
    ("http://аррӏе.com", "website", "xn--80ak6aa92e.com", "аррӏе.com", None),
    ("http://xn--80ak6aa92e.com", "website", "xn--80ak6aa92e.com", "xn--80ak6aa92e.com", None),
    ("https://medium.com/@someone", "website", "medium.com", "medium.com", None),
    ("@NASA", ANY, "nasa", "NASA", None),
    ("@VitaIik", ANY, "vitaiik", "VitaIik", None),
    (
        "@Gargron@mastodon.social",
        "mastodon",
        "gargron@mastodon.social",
        "Gargron@mastodon.social",
        None,
    ),
    ("@nasa.bsky.social", "bluesky", "nasa.bsky.social", "nasa.bsky.social", None),
    ("@example.com", ANY, "example.com", "example.com", None),
    ("x:uriminzok", "x", "uriminzok", "uriminzok", None),
    ("twitter:uriminzok", "x", "uriminzok", "uriminzok", None),
    ("Twitter: @NASA", "x", "nasa", "NASA", None),
    ("yt:@NASA", "youtube", "nasa", "NASA", None),
    ("ig:nasa", "instagram", "nasa", "nasa", None),
    ("bsky:nasa", "bluesky", "nasa.bsky.social", "nasa", None),
    ("website:https://www.bbc.co.uk/news", "website", "bbc.co.uk", "www.bbc.co.uk", None),
    ("r/Python", "reddit", "r/python", "r/Python", None),
    ("u/spez", "reddit", "spez", "spez", None),
]


@pytest.mark.parametrize(("text", "platform", "key", "written", "platform_id"), LINKS)
def test_each_form_names_its_account(
    text: str, platform: str, key: str, written: str, platform_id: str | None
) -> None:
    expected = NamedAccount(AccountRef(platform, key), written, platform_id)
    assert find_accounts(text) == [expected]
    assert find_accounts(f"is ({text}) official?") == [expected]
    assert parse_ref(text) == expected


NOT_ACCOUNTS = [
    "hello there, is this real?",
    "https://x.com/home",
    "https://x.com/search?q=nasa",
    "https://x.com/i/flow/login",
    "https://twitter.com/intent/tweet?text=hi",
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
    "https://youtu.be/dQw4w9WgXcQ",
    "https://www.youtube.com/shorts/abc",
    "https://www.instagram.com/p/Cabc123/",
    "https://www.facebook.com/groups/123456789",
    "https://www.facebook.com/watch/?v=1",
    "https://t.me/+AbCdEf123",
    "https://t.me/joinchat/AbCdEf123",
    "https://t.co/abc123",
    "https://vm.tiktok.com/ZMabc/",
    "https://www.tiktok.com/explore",
    "https://www.reddit.com/",
    "https://x.com",
    "mail me at john.doe@example.com",
    "support@binance.com",
    "see readme.md and main.py",
    "e.g. this, i.e. that",
    "Twitter: great stuff",
    "@everyone look",
    "<@123456789012345678> hi",
    "http://localhost:8080/x",
    "http://192.168.0.1/admin",
]


@pytest.mark.parametrize("text", NOT_ACCOUNTS)
def test_text_naming_no_account_gives_nothing(text: str) -> None:
    assert find_accounts(text) == []


def test_a_sentence_names_several_accounts_in_order_once_each() -> None:
    text = (
        "Is @NASA on instagram real? Also x.com/NASA/status/1, https://t.me/s/durov, "
        "@Gargron@mastodon.social and @ESA; again twitter.com/nasa and www.bbc.co.uk."
    )
    assert [str(a.ref) for a in find_accounts(text)] == [
        "instagram:nasa",
        "x:nasa",
        "telegram:durov",
        "mastodon:gargron@mastodon.social",
        "any:esa",
        "website:bbc.co.uk",
    ]


def test_a_bare_handle_also_named_with_its_platform_is_one_account() -> None:
    assert [str(a.ref) for a in find_accounts("@NASA (https://x.com/NASA)")] == ["x:nasa"]


def test_invisible_characters_do_not_split_a_handle() -> None:
    [account] = find_accounts("@na\u200bsa\u202e on x")
    assert account.ref == AccountRef("x", "nasa")


@pytest.mark.parametrize(
    ("platform", "handle", "key"),
    [
        ("x", "a", "a"),
        ("x", "A" * 15, "a" * 15),
        ("x", "@Jack_Dorsey", "jack_dorsey"),
        ("instagram", "a.b_c", "a.b_c"),
        ("telegram", "durov", "durov"),
        ("telegram", "-1001234567890", "-1001234567890"),
        ("youtube", "@Ünïcödé", "ünïcödé"),
        ("youtube", "UCLA_DiR1FfKNvjuUpBHmylQ", "UCLA_DiR1FfKNvjuUpBHmylQ"),
        ("tiktok", "ab", "ab"),
        ("facebook", "John.Smith55", "johnsmith55"),
        ("mastodon", "@Bob@Mastodon.Social", "bob@mastodon.social"),
        ("mastodon", "bob@bücher.de", "bob@xn--bcher-kva.de"),
        ("bluesky", "did:plc:z72i7hdynmk6r22z27h6tvur", "did:plc:z72i7hdynmk6r22z27h6tvur"),
        ("reddit", "u/Spez", "spez"),
        ("reddit", "r/Python", "r/python"),
        ("linkedin", "in/Satya", "satya"),
        ("discord", "some.user", "some.user"),
        ("discord", "123456789012345678", "123456789012345678"),
        ("website", "аррӏе.com", "xn--80ak6aa92e.com"),
        ("website", "XN--80AK6AA92E.COM", "xn--80ak6aa92e.com"),
        ("website", "Login.Example.CO.UK", "example.co.uk"),
        (ANY, "@Some.Name-1", "some.name-1"),
    ],
)
def test_keys_follow_each_platforms_rules(platform: str, handle: str, key: str) -> None:
    assert normalize_handle(platform, handle) == key


@pytest.mark.parametrize(
    ("platform", "handle"),
    [
        ("x", "A" * 16),
        ("x", "VitaІik"),  # Cyrillic І
        ("x", "ＮＡＳＡ"),  # fullwidth: no NFKC on handles
        ("x", "na-sa"),
        ("x", ""),
        ("x", "@"),
        ("instagram", "a" * 31),
        ("instagram", ".nasa"),
        ("instagram", "na..sa"),
        ("telegram", "abc"),
        ("telegram", "1durov"),
        ("telegram", "a" * 33),
        ("youtube", "@ab"),
        ("youtube", "@" + "a" * 31),
        ("tiktok", "a"),
        ("tiktok", "a" * 25),
        ("facebook", "a"),
        ("facebook", "bad name"),
        ("mastodon", "bob"),
        ("mastodon", "bob@localhost"),
        ("bluesky", "did:plc:short"),
        ("reddit", "ab"),
        ("reddit", "x/python"),
        ("linkedin", "pub/someone"),
        ("discord", "a"),
        ("website", "localhost"),
        ("website", "192.168.0.1"),
        ("website", "exa_mple.com"),
    ],
)
def test_a_handle_the_platform_does_not_allow_is_invalid(platform: str, handle: str) -> None:
    with pytest.raises(InvalidHandle) as error:
        normalize_handle(platform, handle)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x:", "empty x handle"),
        ("twitter: ", "empty x handle"),
        ("@", "empty handle"),
        ("@" + "a" * 65, "is no valid handle: 1-64"),  # a bare handle names no platform
        ("note:", "unknown platform 'note'"),
    ],
)
def test_a_bad_command_account_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises((InvalidHandle, UnknownPlatform), match=message) as error:
        parse_ref(text)
    assert "any" not in str(error.value)


def test_platform_names_and_aliases() -> None:
    assert [
        platform_named(w) for w in ("Twitter", "tw", "yt", "FB", "ig", "insta", "tg", "bsky")
    ] == [
        "x",
        "x",
        "youtube",
        "facebook",
        "instagram",
        "instagram",
        "telegram",
        "bluesky",
    ]
    assert all(platform_named(p) == p for p in PLATFORMS)
    with pytest.raises(UnknownPlatform, match="youtube"):
        platform_named("myspace")
    with pytest.raises(UnknownPlatform):
        normalize_handle("twitter", "nasa")  # refs carry canonical names only


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", NoAccountFound),
        ("   ", NoAccountFound),
        ("https://x.com/home", NoAccountFound),
        ("john@example.com", NoAccountFound),
        ("readme.md", NoAccountFound),
        ("myspace:tom", UnknownPlatform),
        ("x:VitaІik", InvalidHandle),
        ("https://x.com/VitaІik", InvalidHandle),
        ("telegram:abc", InvalidHandle),
        ("x:https://t.me/durov", InvalidHandle),
        ("@nasa and @esa", InvalidHandle),
    ],
)
def test_parse_ref_refuses_with_a_one_line_reason(text: str, error: type[Exception]) -> None:
    with pytest.raises(error) as raised:
        parse_ref(text)
    assert "\n" not in str(raised.value)


def test_parse_ref_takes_a_bare_name_and_a_bare_domain() -> None:
    assert parse_ref("NASA") == NamedAccount(AccountRef(ANY, "nasa"), "NASA")
    assert parse_ref("bbc.co.uk").ref == AccountRef("website", "bbc.co.uk")
    assert parse_ref("x: @NASA").ref == AccountRef("x", "nasa")
    assert parse_ref("mastodon:@Gargron@mastodon.social").ref == AccountRef(
        "mastodon", "gargron@mastodon.social"
    )


@pytest.mark.parametrize(
    ("text", "platform", "key"), [(t, p, k) for t, p, k, _, _ in LINKS if p != ANY]
)
def test_profile_url_names_the_same_account(text: str, platform: str, key: str) -> None:
    ref = AccountRef(platform, key)
    assert [a.ref for a in find_accounts(profile_url(ref))] == [ref]
    assert display_handle(ref)


def test_display_shows_unicode_domains_and_names_without_ids_as_handles() -> None:
    assert display_handle(AccountRef("website", "xn--80ak6aa92e.com")) == "аррӏе.com"
    assert display_handle(AccountRef("x", "nasa")) == "@nasa"
    assert display_handle(AccountRef("facebook", "100089355874563")) == "100089355874563"
    assert display_handle(AccountRef("mastodon", "bob@xn--bcher-kva.de")) == "@bob@bücher.de"
    assert display_handle(AccountRef("reddit", "spez")) == "u/spez"


@given(st.text(max_size=300))
def test_find_accounts_never_raises_and_finds_only_valid_keys(text: str) -> None:
    for account in find_accounts(text):
        assert normalize_handle(account.ref.platform, account.ref.handle) == account.ref.handle


JUNK_ALPHABET = "\u200b\u200d\u202e\u2066\ufeff😀🏴\u05d0a.@-/:_x 1é"
ADVERSARIAL = ["a" * 5000, "@" * 5000, "a." * 2500, "x:" * 2500, "a@" * 2500, "@a" * 2500]


@pytest.mark.parametrize("seed", range(5))
def test_junk_of_invisible_rtl_and_emoji_is_survived(seed: int) -> None:
    rng = random.Random(seed)
    find_accounts("".join(rng.choices(JUNK_ALPHABET, k=5000)))


@pytest.mark.parametrize("text", ADVERSARIAL, ids=lambda t: repr(t[:4]))
def test_long_runs_that_would_make_a_backtracking_scanner_crawl_name_nothing(text: str) -> None:
    assert find_accounts(text) == [] and find_accounts("http://" + text) == []


def test_only_the_start_of_a_huge_text_is_scanned() -> None:
    filler = "word " * (MAX_SCAN // 5)
    assert find_accounts(filler + "@nasa") == []
    assert find_accounts("@nasa " + filler) == [NamedAccount(AccountRef(ANY, "nasa"), "nasa")]


# --- the real registry files: every row's url names the row's account --------------------------

# Rows whose handle column disagrees with their own url (upstream data errors), with the reason.
DATA_ERRORS = {
    (
        "category",
        "https://www.facebook.com/pages/category/politician/Younous-Omarjee-2310917338926472",
    ): "handle column took the path word 'category'; the url names page 2310917338926472",
}


def _registry_rows() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in sorted(DATA.glob("registry_*.csv")):
        if not path.name.endswith("_meta.csv"):
            rows.extend(csv.DictReader(path.open(encoding="utf-8")))
    return rows


def test_every_registry_url_names_its_rows_account() -> None:
    rows = _registry_rows()
    assert len(rows) > 5000
    wrong = []
    for row in rows:
        platform = platform_named(row["platform"])
        key = normalize_handle(platform, row["handle"])
        if "/channel/" in row["url"]:  # the handle column holds the legacy name; the url the id
            key = row["url"].rstrip("/").rsplit("/", 1)[1]
        found = [a.ref for a in find_accounts(row["url"])]
        if found != [AccountRef(platform, key)] and (row["handle"], row["url"]) not in DATA_ERRORS:
            wrong.append((row["platform"], row["handle"], row["url"], found))
    assert wrong == []
