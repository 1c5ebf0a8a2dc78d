"""The shortcut for ordinary source links agrees with the WHATWG parser (ada) it skips."""

from __future__ import annotations

import ada_url
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.limits import RefusedInput
from bot.urls import _ORDINARY, http_link


@settings(max_examples=400, deadline=None)
@given(st.from_regex(_ORDINARY, fullmatch=True))
def test_every_ordinary_link_is_valid_by_the_standard(url: str) -> None:
    if "xn--" not in url.lower():
        assert ada_url.check_url(url), url
        assert http_link(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://1.2.3.999/",  # an IPv4 host out of range
        "https://example.com:99999/",  # a port out of range
        "https://exa mple.com/",  # a space
        "https://user@example.com/",  # credentials
        "ftp://example.com/",
    ],
)
def test_unusual_links_still_meet_the_full_check(url: str) -> None:
    with pytest.raises(RefusedInput):
        http_link(url)


@pytest.mark.parametrize("url", ["https://\u212aexample.com/", "https://example.com/\u017f"])
def test_letters_that_fold_to_ascii_are_not_ordinary(url: str) -> None:
    assert _ORDINARY.fullmatch(url) is None
