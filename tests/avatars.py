"""Photo-like profile pictures, made deterministically (tests/data holds no photos): a lit
gradient, overlapping soft shapes and sensor noise, like a real avatar's mix of smooth areas and
edges; and the copies an impostor uploads (re-encoded, resized, slightly cropped)."""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = 640  # Telegram's largest profile photo is 640x640


def avatar(seed: int, size: int = SIZE) -> Image.Image:
    """A distinct photo-like RGB image per seed."""
    rng = random.Random(seed)
    image = _gradient(rng, size)
    draw = ImageDraw.Draw(image, "RGBA")
    for _ in range(rng.randint(6, 12)):
        box = sorted(rng.uniform(-0.2, 1.2) * size for _ in range(2))
        top = sorted(rng.uniform(-0.2, 1.2) * size for _ in range(2))
        fill = (*(rng.randrange(256) for _ in range(3)), rng.randint(120, 255))
        if rng.random() < 0.5:
            draw.ellipse((box[0], top[0], box[1], top[1]), fill=fill)
        else:
            corners = rng.randint(3, 6)
            points = [(rng.uniform(0, size), rng.uniform(0, size)) for _ in range(corners)]
            draw.polygon(points, fill=fill)
    image = image.filter(ImageFilter.GaussianBlur(size / 160))
    noise = np.random.default_rng(seed).normal(0, 6, (size, size, 3))
    pixels = np.clip(np.asarray(image, dtype=np.float64) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def _gradient(rng: random.Random, size: int) -> Image.Image:
    start, end = (np.array([rng.randrange(256) for _ in range(3)], float) for _ in range(2))
    angle = rng.uniform(0, np.pi)
    y, x = np.mgrid[0:size, 0:size] / size
    t = np.clip(x * np.cos(angle) + y * np.sin(angle), 0, 1)[..., None]
    return Image.fromarray((start * (1 - t) + end * t).astype(np.uint8), "RGB")


def encoded(image: Image.Image, quality: int = 90, kind: str = "JPEG") -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **({"quality": quality} if kind in ("JPEG", "WEBP") else {}))
    return out.getvalue()


def copy_of(image: Image.Image, size: int, crop: float = 0.0) -> Image.Image:
    """Cropped by `crop` of the side at each edge, then resized to size x size."""
    cut = round(image.width * crop)
    return image.crop((cut, cut, image.width - cut, image.height - cut)).resize(
        (size, size), Image.Resampling.LANCZOS
    )
