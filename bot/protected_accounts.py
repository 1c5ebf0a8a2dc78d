"""The lookalike index's accounts as columns: a million of them are a few numpy arrays and three
UTF-8 blobs, not a million Python objects; a row is decoded only when it is a candidate.

Account ids are row numbers, never reused: removing an account clears its alive flag (the hash
arrays drop its rows at their next merge), adding it again appends a new row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from bot.columns import Arrays, Column, Strings
from bot.folding import Batch
from bot.letter_counts import Signatures, signature
from bot.model import AccountRef
from bot.multimap import HashMultimap
from bot.platforms import PLATFORMS
from bot.registered import ref_key
from bot.stable_hash import stable_hash, stable_hashes

_OTHER_PLATFORM = len(PLATFORMS)  # the bit of a platform not in PLATFORMS


class ProtectedAccounts:
    """Rows of (platform, handle, entity, loose key, letter counts of the key and of the
    unpaired key, hash of the handle as written, alive), found by ref in a sorted array of
    stable hashes; entities numbered in a table of their own, with the platforms each is on."""

    def __init__(self, arrays: Arrays | None = None) -> None:
        """Empty, or the columns another one's arrays() gave."""
        get = (arrays or {}).get
        self._platform_names = _strings(arrays, "platforms")
        # The names by code as str too: ref() reads one for each candidate (no decode each).
        self._platform_list = [self._platform_names[i] for i in range(len(self._platform_names))]
        self._platform_codes = {name: i for i, name in enumerate(self._platform_list)}
        self._platform = Column(np.int16, get("platform"))
        self._entity = Column(np.int32, get("entity"))
        self._alive = Column(np.bool_, get("alive"))
        self._letters = Column(np.uint64, get("letters"))  # the key's bot.letter_counts
        # Those of the handle's key without glyph pairs (rn kept, not read as m), else 0.
        self._unpaired = Column(np.uint64, get("unpaired_letters"))
        self._written = Column(np.int64, get("written"))  # stable hash of the handle as written
        self._handles = _strings(arrays, "handles")
        self._keys = _strings(arrays, "keys")
        self._ids = _multimap(arrays, "ids")  # ref_key (bot.registered) -> row
        self._entity_names = _strings(arrays, "entities")
        self._entity_ids = _multimap(arrays, "entity_ids")  # stable hash of a name -> number
        # Bit mask of the platforms each entity is on; the rare second account of an entity on
        # one platform is counted apart, so removal stays exact.
        self._entity_platforms = Column(np.int64, get("entity_platforms"))
        second = zip(get("second.keys", np.empty(0)).tolist(),
                     get("second.counts", np.empty(0)).tolist(), strict=True)
        self._second: Counter[int] = Counter(dict(second))  # entity << 6 | bit -> count
        self._count = int(self._alive.array().sum())

    @classmethod
    def built(cls, batch: Batch) -> ProtectedAccounts:
        """The folded accounts of distinct refs, their columns built at once."""
        table, folded = cls(), batch.folded
        platforms = table._platform_codes_of(batch.platforms)
        names = list(dict.fromkeys(batch.entities))
        number_of = dict(zip(names, range(len(names)), strict=True))  # C loops, not a comprehension
        entities = np.fromiter(map(number_of.__getitem__, batch.entities), np.int32, len(batch))
        del number_of
        arrays: Arrays = {
            "platform": platforms,
            "entity": entities,
            "alive": np.ones(len(batch), dtype=np.bool_),
            "letters": folded.letters,
            "unpaired_letters": folded.unpaired,
            "written": folded.written,
        }
        for prefix, strings in (("platforms", table._platform_names), ("keys", folded.keys),
                                ("handles", folded.handles), ("entities", Strings.of(names))):
            arrays.update({f"{prefix}.{k}": v for k, v in strings.arrays().items()})
        for prefix, multimap in (
            ("ids", HashMultimap.built(folded.ids, np.arange(len(batch), dtype=np.int32))),
            ("entity_ids", HashMultimap.built(stable_hashes(names),
                                              np.arange(len(names), dtype=np.int32))),
        ):
            arrays.update({f"{prefix}.{k}": v for k, v in multimap.arrays().items()})
        masks, second = _platform_masks(entities, platforms, table._platform_names, len(names))
        arrays["entity_platforms"] = masks
        arrays["second.keys"], arrays["second.counts"] = second
        return cls(arrays)

    def replace(self, refs: Sequence[AccountRef], batch: Batch) -> int:
        """refs no longer protected, then the batch's accounts protected, at once; returns the
        first new row (the rows follow in order)."""
        folded = batch.folded
        gone = self._rows_of(refs)
        self._alive.writable()[gone] = False
        self._count -= len(gone)
        first = self._alive.extend(np.ones(len(batch), dtype=np.bool_))
        self._letters.extend(folded.letters)
        self._unpaired.extend(folded.unpaired)
        self._written.extend(folded.written)
        self._platform.extend(self._platform_codes_of(batch.platforms))
        self._entity.extend(self._entity_numbers(batch.entities))
        self._handles.extend(folded.handles)
        self._keys.extend(folded.keys)
        self._ids.add_pairs(folded.ids, np.arange(first, first + len(batch), dtype=np.int32),
                            self.alive)
        self._count += len(batch)
        # The platform masks counted anew from the rows alive: linear, and exact by construction.
        alive = self._alive.array()
        masks, second = _platform_masks(self._entity.array()[alive], self._platform.array()[alive],
                                        self._platform_names, len(self._entity_names))
        self._entity_platforms = Column(np.int64, masks)
        self._second = Counter(dict(zip(*(a.tolist() for a in second), strict=True)))
        return first

    def arrays(self) -> Arrays:
        """Every column, by name: what the constructor takes back. The columns written in place
        are copies (a file may be written from them while the index changes)."""
        found: Arrays = {
            "platform": self._platform.array(),
            "entity": self._entity.array(),
            "alive": self._alive.array().copy(),
            "letters": self._letters.array(),
            "unpaired_letters": self._unpaired.array(),
            "written": self._written.array(),
            "entity_platforms": self._entity_platforms.array().copy(),
            "second.keys": np.array(list(self._second), dtype=np.int64),
            "second.counts": np.array(list(self._second.values()), dtype=np.int32),
        }
        for prefix, strings in (("platforms", self._platform_names), ("handles", self._handles),
                                ("keys", self._keys), ("entities", self._entity_names)):
            found.update({f"{prefix}.{k}": v for k, v in strings.arrays().items()})
        found.update({f"ids.{k}": v for k, v in self._ids.arrays(self.alive).items()})
        found.update({f"entity_ids.{k}": v for k, v in self._entity_ids.arrays().items()})
        return found

    def __len__(self) -> int:
        return self._count

    def rows(self) -> int:
        """Rows held, removed ones included (ids are never reused: only a new build drops them)."""
        return len(self._alive)

    @property
    def alive(self) -> npt.NDArray[np.bool_]:
        """Whether each row is protected (indexable by any row; spare rows are False)."""
        return self._alive.values  # type: ignore[return-value]

    def nbytes(self) -> int:
        columns = (self._platform, self._entity, self._alive, self._letters, self._unpaired,
                   self._written, self._entity_platforms)
        strings = (self._handles, self._keys, self._entity_names)
        return (sum(int(c.values.nbytes) for c in columns) + sum(s.nbytes() for s in strings)
                + self._ids.nbytes() + self._entity_ids.nbytes())

    def row_of(self, ref: AccountRef) -> int | None:
        for row in self._ids.lookup([ref_key(ref)], self.alive):
            if self.ref(row) == ref:  # a hash collision is not the account
                return row
        return None

    def add(self, ref: AccountRef, entity: str, key: str, unpaired: int, written: str) -> int:
        """A row for ref (not protected now: remove it first), its key folded from written."""
        row = self._alive.append(True)
        self._letters.append(signature(key))
        self._unpaired.append(unpaired)
        self._written.append(stable_hash(written))
        self._platform.append(self._platform_code(ref.platform))
        self._entity.append(self._entity_number(entity))
        self._handles.append(ref.handle)
        self._keys.append(key)
        self._ids.add([ref_key(ref)], row)
        self._count += 1
        self._note_platform(self._entity.values[row], ref.platform)
        return row

    def holds(self, ref: AccountRef, entity: str, written: str) -> bool:
        """Whether ref is protected for entity, folded from this handle as written: adding it
        again would change nothing (a catch-up re-reading an account it has)."""
        row = self.row_of(ref)
        return (row is not None and self.entity(row) == entity
                and int(self._written.values[row]) == stable_hash(written or ref.handle))

    def remove(self, ref: AccountRef) -> bool:
        row = self.row_of(ref)
        if row is None:
            return False
        self._alive.writable()[row] = False
        self._count -= 1
        self._forget_platform(self._entity.values[row], ref.platform)
        return True

    def _rows_of(self, refs: Sequence[AccountRef]) -> npt.NDArray[np.int32]:
        """The alive rows of those of refs that are protected (row_of for many at once)."""
        asked, rows = self._ids.matches(stable_hashes(map(str, refs)), self.alive)
        same = [self.ref(row) == refs[at] for at, row in zip(asked.tolist(), rows.tolist(),
                                                             strict=True)]
        return rows[np.array(same, dtype=np.bool_)] if same else rows

    def _entity_numbers(self, names: Sequence[str]) -> npt.NDArray[np.int32]:
        """The number of each entity name (_entity_number for many): new names appended."""
        distinct = list(dict.fromkeys(names))
        number_of: dict[str, int] = {}
        asked, numbers = self._entity_ids.matches(stable_hashes(distinct))
        for at, number in zip(asked.tolist(), numbers.tolist(), strict=True):
            if self._entity_names[number] == distinct[at]:
                number_of[distinct[at]] = number
        new = [name for name in distinct if name not in number_of]
        first = self._entity_names.extend(new)
        number_of.update(zip(new, range(first, first + len(new)), strict=True))
        self._entity_ids.add_pairs(stable_hashes(new),
                                   np.arange(first, first + len(new), dtype=np.int32))
        return np.fromiter(map(number_of.__getitem__, names), np.int32, len(names))

    def ref(self, row: int) -> AccountRef:
        return AccountRef(self._platform_list[int(self._platform.values[row])],
                          self._handles[row])

    def entity(self, row: int) -> str:
        return self._entity_names[int(self._entity.values[row])]

    def key(self, row: int) -> str:
        """The loose key the account was indexed under."""
        return self._keys[row]

    def keys(self, rows: Sequence[int]) -> list[str]:
        """The loose keys of rows, in order."""
        return self._keys.many(rows)

    def letters(self, rows: Sequence[int] | npt.NDArray[np.int64]) -> Signatures:
        """The letter counts of rows' keys, in order."""
        return self._letters.values[np.asarray(rows, dtype=np.int64)]  # type: ignore[return-value]

    def unpaired_letters(self, rows: Sequence[int] | npt.NDArray[np.int64]) -> Signatures:
        """The letter counts of rows' unpaired keys, in order: 0 where a row has none."""
        return self._unpaired.values[np.asarray(rows, dtype=np.int64)]  # type: ignore[return-value]

    def entity_is_on(self, row: int, platform: str) -> bool:
        """Whether the row's entity has a protected account on platform."""
        mask = int(self._entity_platforms.values[self._entity.values[row]])
        return bool(mask & 1 << _bit(platform))

    def _platform_codes_of(self, platforms: Sequence[str]) -> npt.NDArray[np.int16]:
        """_platform_code of each (a code looked up once per platform, not once per row)."""
        codes = {name: self._platform_code(name) for name in dict.fromkeys(platforms)}
        return np.fromiter(map(codes.__getitem__, platforms), np.int16, len(platforms))

    def _platform_code(self, platform: str) -> int:
        code = self._platform_codes.get(platform)
        if code is None:
            code = self._platform_codes[platform] = self._platform_names.append(platform)
            self._platform_list.append(platform)
        return code

    def _entity_number(self, name: str) -> int:
        for number in self._entity_ids.lookup([stable_hash(name)]):
            if self._entity_names[number] == name:
                return number
        number = self._entity_names.append(name)
        self._entity_ids.add([stable_hash(name)], number)
        self._entity_platforms.append(0)
        return number

    def _note_platform(self, entity: int, platform: str) -> None:
        bit = _bit(platform)
        mask = int(self._entity_platforms.values[entity])
        if mask & 1 << bit:
            self._second[int(entity) << 6 | bit] += 1
        self._entity_platforms.writable()[entity] = mask | 1 << bit

    def _forget_platform(self, entity: int, platform: str) -> None:
        code = int(entity) << 6 | _bit(platform)
        if self._second[code] > 0:
            self._second[code] -= 1
            if not self._second[code]:
                del self._second[code]
        else:
            mask = int(self._entity_platforms.values[entity]) & ~(1 << _bit(platform))
            self._entity_platforms.writable()[entity] = mask
            self._second.pop(code, None)


def _bit(platform: str) -> int:
    return PLATFORMS.index(platform) if platform in PLATFORMS else _OTHER_PLATFORM




def _platform_masks(
    entities: npt.NDArray[np.generic], platforms: npt.NDArray[np.generic], names: Strings,
    count: int,
) -> tuple[npt.NDArray[np.int64], tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """Each of count entities' mask of the platforms its rows are on (platforms: codes into
    names), and the (entity << 6 | bit) codes with more than one row, with how many more."""
    bits = np.array([_bit(names[i]) for i in range(len(names))] or [0], dtype=np.int64)
    codes = entities.astype(np.int64) << 6 | bits[platforms]
    pairs, counts = np.unique(codes, return_counts=True)
    masks = np.zeros(count, dtype=np.int64)
    np.bitwise_or.at(masks, pairs >> 6, np.left_shift(1, pairs & 63))
    return masks, (pairs[counts > 1], counts[counts > 1] - 1)


def _strings(arrays: Arrays | None, prefix: str) -> Strings:
    if arrays is None:
        return Strings()
    return Strings.from_arrays({k: arrays[f"{prefix}.{k}"] for k in ("blob", "offsets")})


def _multimap(arrays: Arrays | None, prefix: str) -> HashMultimap:
    if arrays is None:
        return HashMultimap()
    return HashMultimap.from_arrays({k.removeprefix(f"{prefix}."): v for k, v in arrays.items()
                                     if k.startswith(f"{prefix}.")})
