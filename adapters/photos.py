"""Profile photos as 64-bit perceptual hashes (pHash, imagehash on Pillow), for the guard:
a re-encoded, resized or slightly cropped copy of a photo hashes within a few bits of it.

The bytes come from strangers: only the formats avatars come in are decoded, the header's size
is checked before any pixel is (a decompression bomb is refused unread), and anything Pillow
cannot read is simply no hash.
"""

from __future__ import annotations

import io
import logging
import warnings

import imagehash
from PIL import Image

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024  # avatars are a few hundred kB; platforms cap uploads far lower
MAX_PIXELS = 4096 * 4096  # the header's width x height; larger is not a profile photo
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")  # what Telegram and Discord serve avatars as
DRAFT = (128, 128)  # JPEG: decode at a reduced scale no smaller than this (pHash reads 32x32)


def photo_hash(data: bytes) -> int | None:
    """The photo's 64-bit pHash; None for junk, an unsupported format or an oversized image."""
    if not data or len(data) > MAX_BYTES:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as image:
                if image.width * image.height > MAX_PIXELS:
                    return None
                image.draft("L", DRAFT)  # JPEG only; a no-op for the others
                return int(str(imagehash.phash(image.convert("L"))), 16)
    except Exception as error:  # strangers' bytes: any decoder failure means no hash
        log.debug("no photo hash: %s", error)
        return None
