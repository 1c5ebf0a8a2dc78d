"""A bulk catch-up (LookalikeIndex.update_all, Presence.registered_all): many changed accounts
folded as a batch and merged into the sorted arrays answer exactly as a fresh build of the final
state, through adds, entity and platform changes, removals, one-by-one updates and restarts
(arrays() and from_arrays(), as the kept file does) in between."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.lookalike import LookalikeIndex
from bot.model import AccountRecord, AccountRef, Status
from bot.presence import Presence
from bot.registered import KeySet, ref_key

# Few names close to one another: typos, affixes, the same name on other platforms and shared
# entities all occur, so the maps, the masks and the second accounts are all exercised.
HANDLES = ["nasa", "nasahq", "nasa_gov", "esa", "esa_nasa", "bankofengland", "bankofeng1and",
           "vitalikbuterin", "vitalikbutenn", "senator_smith", "senatorsmlth", "rnicrosoft",
           "microsoft", "micros0ft", "openseas"]
PLATFORMS = ["x", "instagram", "youtube"]
ENTITIES = ["NASA", "ESA", "Bank of England", "Vitalik", "Smith", None]
STATUSES = [Status.OFFICIAL, Status.AFFILIATED, Status.UNOFFICIAL]
QUERIES = [AccountRef(p, h) for p in [*PLATFORMS, "facebook"] for h in
           [*HANDLES, "nasaa", "nasa_support", "bankofengland_uk", "vitalik_buterin",
            "microsoftt", "senator_smyth", "esa1"]]

refs = st.builds(AccountRef, st.sampled_from(PLATFORMS), st.sampled_from(HANDLES))
records = st.none() | st.tuples(st.sampled_from(STATUSES), st.sampled_from(ENTITIES),
                                st.booleans())
# A step: changed accounts (a dict: distinct refs), applied at once or one by one, then maybe a
# restart.
steps = st.lists(st.tuples(st.dictionaries(refs, records, max_size=30), st.booleans(),
                           st.booleans()), max_size=6)


def record_of(ref: AccountRef, found: tuple[Status, str | None, bool] | None
              ) -> AccountRecord | None:
    if found is None:
        return None
    status, entity, styled = found
    written = ref.handle.upper() if styled else ref.handle
    aliases = (f"{entity} agency",) if entity else ()
    return AccountRecord(ref, status, entity, written, aliases=aliases)


def protected_rows(state: dict[AccountRef, AccountRecord]) -> list[tuple[AccountRef, str, str]]:
    return [(ref, r.entity, r.handle_as_written) for ref, r in state.items()
            if r.status in (Status.OFFICIAL, Status.AFFILIATED) and r.entity]


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(refs, records, max_size=20), steps)
def test_an_index_caught_up_in_bulk_answers_like_a_fresh_build(
    start: dict[AccountRef, tuple[Status, str | None, bool] | None],
    changes: list[tuple[dict[AccountRef, tuple[Status, str | None, bool] | None], bool, bool]],
) -> None:
    state = {ref: r for ref, found in start.items() if (r := record_of(ref, found))}
    index = LookalikeIndex.built(protected_rows(state))
    for changed, at_once, restart in changes:
        now = {ref: record_of(ref, found) for ref, found in changed.items()}
        if at_once:
            index.update_all(list(now.items()))
        else:
            for ref, record in now.items():
                index.update(ref, record)
        state.update({ref: r for ref, r in now.items() if r is not None})
        for ref in [ref for ref, r in now.items() if r is None]:
            state.pop(ref, None)
        if restart:
            index = LookalikeIndex.from_arrays(index.arrays())
    fresh = LookalikeIndex.built(protected_rows(state))
    assert len(index) == len(fresh)
    assert [ref in index for ref in QUERIES] == [ref in fresh for ref in QUERIES]
    for ref in QUERIES:
        assert index.find(ref, limit=10) == fresh.find(ref, limit=10), ref


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(refs, records, max_size=20), st.lists(
    st.dictionaries(refs, records, max_size=30), max_size=4))
def test_presence_caught_up_in_bulk_knows_what_is_registered(
    start: dict[AccountRef, tuple[Status, str | None, bool] | None],
    changes: list[dict[AccountRef, tuple[Status, str | None, bool] | None]],
) -> None:
    presence, state = Presence(), {}
    for changed in [start, *changes]:
        now = [(ref, record_of(ref, found)) for ref, found in changed.items()]
        presence.registered_all(now)
        presence = Presence.from_arrays(presence.arrays())  # kept and loaded again
        state.update(dict(now))
    for ref in {AccountRef(p, h) for p in PLATFORMS for h in HANDLES}:
        assert presence.may_be_registered(ref) == (state.get(ref) is not None), ref
    for ref, record in state.items():  # what Registry.search finds stays worth a read
        if record is not None:
            assert presence.search.may_find_handle(ref.handle)
            names = [n for n in (record.entity, *record.aliases) if n]
            assert all(presence.search.may_find_name(n) for n in names)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-50, 50), max_size=50),
       st.lists(st.tuples(st.lists(st.integers(-50, 50), max_size=20),
                          st.lists(st.integers(-50, 50), max_size=20),
                          st.lists(st.tuples(st.booleans(), st.integers(-50, 50)), max_size=5)),
                max_size=5))
def test_a_key_set_updated_in_bulk_is_still_a_set(
    start: list[int], steps: list[tuple[list[int], list[int], list[tuple[bool, int]]]],
) -> None:
    kept, model = KeySet(np.array(start, dtype=np.int64)), set(start)
    for added, removed, singles in steps:
        for adding, key in singles:  # pending changes in the tail, then merged by update()
            (kept.add if adding else kept.discard)(key)
            (model.add if adding else model.discard)(key)
        removed = [k for k in removed if k not in added]  # distinct refs: never both
        kept.update(np.array(added, dtype=np.int64), np.array(removed, dtype=np.int64))
        model = (model - set(removed)) | set(added)
        assert len(kept) == len(model)
        assert {k for k in range(-50, 51) if k in kept} == model


def test_refs_are_keyed_alike_one_by_one_and_in_bulk() -> None:
    one, many = Presence(), Presence()
    changed = [(AccountRef("x", "ñandú"), AccountRecord(AccountRef("x", "ñandú"), Status.PARODY,
                                                       "Ñandú fans", "ñandú")),
               (AccountRef("telegram", "durov"), None)]
    for ref, record in changed:
        one.registered_as(ref, record)
    many.registered_all(changed)
    assert one.arrays().keys() == many.arrays().keys()
    for name, keys in one.arrays().items():
        assert keys.tolist() == many.arrays()[name].tolist(), name
    assert ref_key(AccountRef("x", "ñandú")) in many.registered
