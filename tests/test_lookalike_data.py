"""Lookalike detection on real data: phishing domains and the names they imitate, legitimate
near-misses, and near-identical real handles of different officials (see tests/data/LICENSES.md)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from rapidfuzz.distance import Levenshtein

from bot.domains import split_domain, to_ascii
from bot.lookalike import LookalikeIndex
from bot.model import AccountRef, Strength

DATA = Path(__file__).resolve().parent / "data"


def rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def registrable(host: str) -> str | None:
    parts = split_domain(host)
    return to_ascii(parts.registrable) if parts else None


def site(host: str) -> AccountRef | None:
    domain = registrable(host)
    return AccountRef("website", domain) if domain else None


def without_tld(host: str) -> str:
    parts = split_domain(host)
    return ".".join(p for p in (parts.subdomain, parts.label) if p) if parts else host


class Baseline:
    """eth-phishing-detect's fuzzy rule: Levenshtein <= 2 to a protected name without the TLD."""

    def __init__(self, legit: list[str]) -> None:
        self.names = {without_tld(host): registrable(host) for host in legit}

    def targets(self, host: str) -> set[str | None]:
        name = without_tld(host)
        return {d for n, d in self.names.items() if Levenshtein.distance(name, n) <= 2}


@pytest.fixture(scope="module")
def legit() -> dict[str, str]:
    """Registrable domain -> legit host, for every site the phishing rows imitate."""
    hosts = {row["legit"] for row in rows("lookalikes_phishing.csv")}
    return {d: host for host in hosts if (d := registrable(host))}


@pytest.fixture(scope="module")
def index(legit: dict[str, str]) -> LookalikeIndex:
    protected = LookalikeIndex()
    for domain, host in legit.items():
        protected.add(AccountRef("website", domain), host)
    return protected


def test_phishing_lookalikes_are_found_with_their_target(
    index: LookalikeIndex, legit: dict[str, str]
) -> None:
    baseline = Baseline(list(legit.values()))
    found, base_found, total = Counter[str](), Counter[str](), Counter[str]()
    strong = Counter[str]()
    for row in rows("lookalikes_phishing.csv"):
        ref, target = site(row["lookalike"]), registrable(row["legit"])
        total[row["kind"]] += 1
        if ref is None or ref in index:
            continue  # not a domain, or itself protected: the caller never asks
        results = index.find(ref, row["lookalike"])
        hits = [lk for lk in results if lk.target.handle == target]
        found[row["kind"]] += bool(hits)
        strong[row["kind"]] += any(lk.strength is Strength.STRONG for lk in hits)
        base_found[row["kind"]] += target in baseline.targets(row["lookalike"])
    print(
        "\n| kind | rows | recall | of which strong | eth-phishing-detect rule |"
        "\n| --- | --- | --- | --- | --- |"
    )
    for kind in sorted(total):
        print(
            f"| {kind} | {total[kind]} | {found[kind] / total[kind]:.3f} "
            f"| {strong[kind] / total[kind]:.3f} | {base_found[kind] / total[kind]:.3f} |"
        )
    recall = found.total() / total.total()
    base_recall = base_found.total() / total.total()
    print(
        f"| all | {total.total()} | {recall:.3f} | {strong.total() / total.total():.3f} "
        f"| {base_recall:.3f} |"
    )
    assert recall >= 0.97
    assert recall > base_recall
    assert found["typo"] / total["typo"] >= 0.7  # no kind is left to luck
    assert found["combosquat"] / total["combosquat"] >= 0.9


def test_legitimate_near_misses_rarely_raise_an_alarm(
    index: LookalikeIndex, legit: dict[str, str]
) -> None:
    baseline = Baseline(list(legit.values()))
    alarms = weak = base_alarms = candidates = 0
    for row in rows("legit_negatives.csv"):
        ref = site(row["candidate"])
        if ref is None or ref in index:
            continue
        candidates += 1
        found = index.find(ref, row["candidate"])
        alarms += any(lk.strength is Strength.STRONG for lk in found)
        weak += bool(found)
        base_alarms += bool(baseline.targets(row["candidate"]))
    print(
        f"\nfalse alarms (strong) on {candidates} legitimate near-misses: "
        f"{alarms / candidates:.3f}, shown as weak or strong: {weak / candidates:.3f} "
        f"(eth-phishing-detect rule: {base_alarms / candidates:.3f})"
    )
    assert candidates > 1000
    assert alarms / candidates <= 0.05
    assert alarms < base_alarms


def test_near_identical_handles_of_different_officials() -> None:
    pairs = rows("legit_handle_near_pairs.csv")
    both = LookalikeIndex()
    for row in pairs:
        for side in "ab":
            both.add(
                AccountRef(row["platform"], row[f"handle_{side}"].lower()),
                row[f"entity_{side}"],
                row[f"handle_{side}"],
            )
    flagged = strong = 0
    for row in pairs:
        a = AccountRef(row["platform"], row["handle_a"].lower())
        b = AccountRef(row["platform"], row["handle_b"].lower())
        assert a in both and b in both  # registered: the caller never asks find() about them
        assert all(lk.target != b for lk in both.find(b, row["handle_b"], limit=100))
        only_a = LookalikeIndex()
        only_a.add(a, row["entity_a"], row["handle_a"])
        hits = [lk for lk in only_a.find(b, row["handle_b"]) if lk.target == a]
        flagged += bool(hits)
        strong += any(lk.strength is Strength.STRONG for lk in hits)
    print(
        f"\nwith only handle_a registered, handle_b shown as its lookalike: "
        f"{flagged} of {len(pairs)} pairs, as a strong one (an alarm): {strong}"
    )
    assert len(pairs) > 50
    assert strong / len(pairs) <= 0.25
