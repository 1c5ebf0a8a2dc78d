"""The file a lookalike index (and whatever else the core builds from the whole registry) is
kept in between runs, so that a start maps it instead of reading a million accounts.

Layout: MAGIC, then the header's length and XXH3-64 (two little-endian uint64), then the header
(JSON: format version, the database it belongs to, the change id, mark and code the arrays were
built at and by, each array's name, dtype, shape and offset, the XXH3-128 of the data), then the
arrays, raw, each at an offset aligned to 64 bytes. Loading maps the file and checks it; the
arrays are read-only views of the map (np.frombuffer): no per-account work at all.

A file is written whole or not at all (a temporary file beside it, fsync, os.replace). One that
is missing, truncated, corrupt, of another format or another database is not used: load says
why in one log line and returns None, and the caller rebuilds.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import struct
import tempfile
from collections.abc import Iterable
from io import FileIO
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import platformdirs
import xxhash

from bot.ports import KeptArrays

log = logging.getLogger(__name__)

MAGIC = b"ISOFIDX\n"
FORMAT = 4  # 2: packed multimap entries; 3: handle prefixes past 8; 4: letter counts
ALIGN = 64
_LENGTHS = struct.Struct("<QQ")  # header length, header XXH3-64
_CHUNK = 1 << 24  # bytes checksummed at a time


class BadIndexFile(Exception):
    """Why a file cannot be trusted (one line)."""


def default_index_path(database_url: str) -> Path:
    """A file in the user's cache directory, named after the database it indexes."""
    name = xxhash.xxh3_64_hexdigest(database_url.encode())
    return Path(platformdirs.user_cache_dir("isofficial")) / f"index-{name}.bin"


class IndexFile:
    """bot.ports.IndexStore on one file, for the database named by database_url."""

    def __init__(self, path: Path, database_url: str) -> None:
        self.path = path
        self.database = xxhash.xxh3_128_hexdigest(database_url.encode())

    def load(self) -> KeptArrays | None:
        try:
            return self._load()
        except FileNotFoundError:
            log.info("no kept lookalike index at %s: building it", self.path)
        except (BadIndexFile, OSError, ValueError, KeyError, TypeError) as error:
            log.warning("kept lookalike index %s not used (%s): rebuilding it", self.path, error)
        return None

    def save(self, kept: KeptArrays) -> None:
        try:
            self._save(kept)
        except OSError as error:
            log.warning("could not keep the lookalike index at %s: %s", self.path, error)

    def _load(self) -> KeptArrays:
        with self.path.open("rb", buffering=0) as file:
            try:
                mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:  # an empty file cannot be mapped
                raise BadIndexFile("empty file") from None
            header, data_start = _header(memoryview(mapped))
            if header.get("format") != FORMAT:
                raise BadIndexFile(f"format {header.get('format')}, this version reads {FORMAT}")
            if header.get("database") != self.database:
                raise BadIndexFile("built for another database")
            data_size = int(header["data_size"])
            if len(mapped) != data_start + data_size:
                raise BadIndexFile(f"{len(mapped)} bytes, expected {data_start + data_size}")
            if _file_digest(file, data_start) != header["checksum"]:
                raise BadIndexFile("checksum mismatch: the data is corrupt")
        arrays = {
            entry["name"]: np.frombuffer(
                mapped, np.dtype(entry["dtype"]), int(np.prod(entry["shape"])),
                data_start + int(entry["offset"]),
            ).reshape(entry["shape"])
            for entry in header["arrays"]
        }
        return KeptArrays(arrays, int(header["change_id"]), str(header["mark"]),
                          str(header["code"]))

    def _save(self, kept: KeptArrays) -> None:
        entries, offset = [], 0
        arrays = {name: np.ascontiguousarray(a) for name, a in kept.arrays.items()}
        for name, array in arrays.items():
            entries.append({"name": name, "dtype": array.dtype.str, "shape": list(array.shape),
                            "offset": offset})
            offset = _aligned(offset + array.nbytes)
        header = {
            "format": FORMAT, "database": self.database, "change_id": kept.change_id,
            "mark": kept.mark, "code": kept.code, "arrays": entries, "data_size": offset,
            "checksum": _data_digest(arrays.values()),
        }
        text = json.dumps(header).encode()
        start = _aligned(len(MAGIC) + _LENGTHS.size + len(text))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name + ".")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(MAGIC + _LENGTHS.pack(len(text), xxhash.xxh3_64_intdigest(text)))
                out.write(text.ljust(start - len(MAGIC) - _LENGTHS.size, b" "))
                written = 0
                for array in arrays.values():
                    out.write(array.reshape(-1).view(np.uint8).data)
                    written += array.nbytes
                    out.write(b"\0" * (_aligned(written) - written))
                    written = _aligned(written)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _sync_directory(self.path.parent)


def _header(view: memoryview) -> tuple[dict[str, Any], int]:
    fixed = len(MAGIC) + _LENGTHS.size
    if len(view) < fixed or bytes(view[: len(MAGIC)]) != MAGIC:
        raise BadIndexFile("not a lookalike index file")
    length, digest = _LENGTHS.unpack(view[len(MAGIC) : fixed])
    text = bytes(view[fixed : fixed + length])
    if len(text) != length or xxhash.xxh3_64_intdigest(text) != digest:
        raise BadIndexFile("truncated or corrupt header")
    header = json.loads(text)
    if not isinstance(header, dict):
        raise BadIndexFile("header is not an object")
    return header, _aligned(fixed + length)


def _aligned(offset: int) -> int:
    return -(-offset // ALIGN) * ALIGN


def _data_digest(arrays: Iterable[npt.NDArray[np.generic]]) -> str:
    """The digest of the data region as written: each array, then zeros to the next offset."""
    digest = xxhash.xxh3_128()
    for array in arrays:
        raw = array.reshape(-1).view(np.uint8).data
        for start in range(0, len(raw), _CHUNK):
            digest.update(raw[start : start + _CHUNK])
        digest.update(b"\0" * (_aligned(array.nbytes) - array.nbytes))
    return digest.hexdigest()


def _file_digest(file: FileIO, start: int) -> str:
    """The digest of the (mapped) file from start, read through one buffer, not the map: the
    check touches no mapped page, so the process's RSS holds only the pages lookups read."""
    digest, buffer = xxhash.xxh3_128(), bytearray(_CHUNK)
    file.seek(start)
    while size := file.readinto(buffer):
        digest.update(memoryview(buffer)[:size])
    return digest.hexdigest()


def _sync_directory(directory: Path) -> None:
    """The rename itself durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
