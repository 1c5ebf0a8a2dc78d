"""The stable hash is the same in another process (unlike hash()) and fits int64."""

from __future__ import annotations

import subprocess
import sys

from bot.stable_hash import stable_hash, stable_hashes

WORDS = ["", "nasa", "uriminzok", "х", "\udcff", "a" * 1000]


def test_same_value_in_another_process() -> None:
    code = "from bot.stable_hash import stable_hash; print(stable_hash('uriminzok'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(other.stdout) == stable_hash("uriminzok")


def test_known_value_and_signed_range() -> None:
    assert stable_hash("a") == 16629034431890738719 - (1 << 64)  # XXH3-64 of b"a"
    assert all(-(1 << 63) <= stable_hash(w) < (1 << 63) for w in WORDS)
    assert len({stable_hash(w) for w in WORDS}) == len(WORDS)


def test_array_form_matches() -> None:
    assert stable_hashes(WORDS).tolist() == [stable_hash(w) for w in WORDS]


def test_deletion_hashes_are_the_hashes_of_the_deletions() -> None:
    """The build hashes deletions from code points, a query its double deletions: both must be
    the hash of the strings themselves, or a typo is missed."""
    from bot.lookalike_keys import deletions, double_deletions
    from bot.stable_hash import deletion_hashes, text_hashes, typo_hashes

    keys = ["uriminzokkiri", "х", "ab", "aab", "nаsa\udcff", "日本語のなまえ"]
    hashes, owners = deletion_hashes(keys)
    found = sorted(zip(owners.tolist(), hashes.tolist(), strict=True))
    expected = sorted((i, h) for i, k in enumerate(keys)
                      for h in text_hashes(deletions(k)).tolist())
    assert found == expected
    for key in keys:
        assert typo_hashes(key, True).tolist() == text_hashes(
            deletions(key) + double_deletions(key)).tolist()
    assert len(set(text_hashes(["ab", "ba", "a", "b", "abc"]).tolist())) == 5
