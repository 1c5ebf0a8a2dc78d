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
