"""Profile photo hashes: copies an impostor would upload match, other photos do not, and the
bytes of strangers (junk, bombs, other formats) give no hash and never an exception."""

from __future__ import annotations

import struct
import zlib

import pytest
from avatars import avatar, copy_of, encoded
from PIL import Image

from adapters.photos import photo_hash
from bot.guard_match import PHOTO_DISTANCE, photo_distance


def hashed(image: Image.Image, quality: int = 90, kind: str = "JPEG") -> int:
    found = photo_hash(encoded(image, quality, kind))
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("quality", "size", "crop"),
    [(40, 640, 0.0), (90, 160, 0.0), (60, 320, 0.02), (35, 96, 0.02), (75, 640, 0.03)],
)
def test_a_reencoded_resized_slightly_cropped_copy_matches(
    quality: int, size: int, crop: float
) -> None:
    for seed in range(5):
        original = avatar(seed)
        copy = hashed(copy_of(original, size, crop), quality)
        assert photo_distance(hashed(original), copy) <= PHOTO_DISTANCE


def test_other_photos_do_not_match() -> None:
    hashes = [hashed(avatar(100 + seed)) for seed in range(30)]
    closest = min(photo_distance(a, b) for i, a in enumerate(hashes) for b in hashes[i + 1 :])
    assert closest > PHOTO_DISTANCE


def test_png_webp_and_gif_avatars_hash_like_the_jpeg() -> None:
    original = avatar(7)
    for kind in ("PNG", "WEBP", "GIF"):
        assert photo_distance(hashed(original), hashed(original, kind=kind)) <= PHOTO_DISTANCE


def _png_claiming(width: int, height: int) -> bytes:
    """A small real PNG whose header claims another size (a decompression bomb's header)."""
    data = bytearray(encoded(Image.new("L", (8, 8)), kind="PNG"))
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:24] = header[4:12]
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not an image at all",
        encoded(avatar(1))[:300],  # truncated JPEG
        encoded(Image.new("RGB", (64, 64)), kind="BMP"),  # not an avatar format
        _png_claiming(60_000, 60_000),
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
    ],
    ids=["empty", "text", "truncated", "bmp", "bomb", "broken-png"],
)
def test_junk_gives_no_hash(data: bytes) -> None:
    assert photo_hash(data) is None


def test_the_bomb_header_is_read_correctly() -> None:
    """The crafted header is the only thing wrong: at a small size the same bytes decode."""
    assert photo_hash(_png_claiming(8, 8)) is not None
