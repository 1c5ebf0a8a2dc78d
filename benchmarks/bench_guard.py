"""The guard's per-member cost and recall: a chat of 50 admins (with photos) and 100,000 registry
officials on its platform, side by side with a brute-force comparison (rapidfuzz over every
protected name, Hamming over every admin photo); and the photo hash's distances, from which
bot.guard_match.PHOTO_DISTANCE is chosen.

    nice .venv/bin/python benchmarks/bench_guard.py               # 100,000 officials
    nice .venv/bin/python benchmarks/bench_guard.py --n 20000 --runs 1   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import itertools
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import imagehash
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from adapters.photos import photo_hash
from bot.guard import Guard, Member
from bot.guard_match import PHOTO_DISTANCE, photo_distance
from bot.lookalike import LookalikeIndex
from bot.lookalike_keys import loose_key, typo_bound
from bot.model import AccountRef, Asker

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # run as a script: the sibling and test helpers
from avatars import avatar, copy_of, encoded  # noqa: E402  (photo-like images)

from benchmarks.bench_lookalike import one_edit, percentile, synthetic_handles  # noqa: E402

TG, CHAT = "telegram", "-100"
CYRILLIC = str.maketrans("aeopcxAEOPCXBHKMT", "аеорсхАЕОРСХВНКМТ")


@dataclass(frozen=True)
class Case:
    member: Member
    target: str  # who is imitated: the admin's name or the official's entity; "" for no one
    kind: str


def real_officials(data: Path) -> dict[str, str]:  # admins are named after some of them
    """handle -> entity of the registry files' named handles (numeric ids left out)."""
    found: dict[str, str] = {}
    for path in sorted(data.glob("registry_*.csv")):
        if path.stem.endswith("_meta"):
            continue
        with path.open(newline="", encoding="utf-8") as file:
            for row in csv.DictReader(file):
                handle = row["handle"].strip().lstrip("@").lower()
                if handle.isascii() and handle.replace("_", "").isalnum() and not handle.isdigit():
                    found.setdefault(handle[:32], row["entity"])
    return found


def protected(n: int, seed: int) -> dict[str, str]:
    officials = real_officials(DATA)
    for handle in synthetic_handles(n, seed, DATA):
        if len(officials) >= n:
            break
        officials.setdefault(handle.lower(), handle)
    return dict(itertools.islice(officials.items(), n))


def admins_of(entities: list[str], rng: random.Random) -> list[Member]:
    names = [e for e in entities if 2 <= len(e.split()) <= 3 and e.isascii()]
    chosen = rng.sample(sorted(set(names)), 50)
    return [
        Member(TG, str(1000 + i), f"{name.split()[0].lower()}_{rng.randrange(10, 99)}mod", name,
               photo=photo_hash(encoded(avatar(i), 85)))
        for i, name in enumerate(chosen)
    ]  # fmt: skip


def impostors(admins: list[Member], officials: dict[str, str], rng: random.Random) -> list[Case]:
    tricks: list[tuple[str, Callable[[Member], tuple[str, str | None]]]] = [
        ("cyrillic", lambda a: (a.display_name.translate(CYRILLIC), None)),
        ("support", lambda a: (f"{a.display_name} Support", None)),
        ("admin", lambda a: (f"{a.display_name} (Admin)", None)),
        ("zero-width", lambda a: (a.display_name.replace(" ", " \u200b", 1), None)),
        ("copy", lambda a: (a.display_name, None)),
        ("username", lambda a: ("Help", f"{a.username}_support")),
    ]
    cases: list[Case] = []
    for number, admin in enumerate(admins):
        kind, trick = tricks[number % len(tricks)]
        name, username = trick(admin)
        cases.append(Case(Member(TG, f"i{number}", username, name), admin.display_name, kind))
        copy = photo_hash(encoded(copy_of(avatar(number), 320, 0.02), 60))
        member = Member(TG, f"p{number}", None, f"Person {number}", photo=copy)
        cases.append(Case(member, admin.display_name, "photo-copy"))
    long_ones = [h for h in officials if len(h) >= 10 and "_" not in h]
    for number, handle in enumerate(rng.sample(long_ones, 200)):
        target = officials[handle]
        kind = ("affix", "homoglyph", "typo", "official-word")[number % 4]
        member = {
            "affix": Member(TG, f"o{number}", f"{handle}_support", "Support"),
            "homoglyph": Member(TG, f"o{number}", None, handle.translate(CYRILLIC)),
            "typo": Member(TG, f"o{number}", one_edit(handle, rng), "Fan"),
            "official-word": Member(TG, f"o{number}", None, f"Official {handle}"),
        }[kind]
        cases.append(Case(member, target, kind))
    return cases


def ordinary(count: int, entities: list[str], rng: random.Random) -> list[Case]:
    """Members with real first and last names recombined, and their own photos."""
    firsts = sorted({e.split()[0] for e in entities if " " in e and e.isascii()})
    lasts = sorted({e.split()[-1] for e in entities if " " in e and e.isascii()})
    cases = []
    for number in range(count):
        name = f"{rng.choice(firsts)} {rng.choice(lasts)}"
        username = f"{rng.choice(lasts).lower()}{rng.randrange(1990, 2010)}"
        photo = photo_hash(encoded(avatar(50_000 + number), 85)) if number < 100 else None
        cases.append(Case(Member(TG, f"m{number}", username, name, photo), "", "ordinary"))
    return cases


class BruteForce:
    """Every protected name compared with rapidfuzz, every admin photo by Hamming distance
    (imagehash's own ImageHash difference), under the same folding as the guard."""

    def __init__(self, admins: list[Member], officials: dict[str, str]) -> None:
        self.keys: list[str] = []
        self.targets: list[str] = []
        for admin in admins:
            for name in admin.names():
                self.keys.append(loose_key(name))
                self.targets.append(admin.display_name)
        for handle, entity in officials.items():
            self.keys.append(loose_key(handle))
            self.targets.append(entity)
        self.photos = [(imagehash.hex_to_hash(f"{a.photo:016x}"), a) for a in admins if a.photo]

    def match(self, member: Member) -> str:
        for name in member.names():
            key = loose_key(name)
            near = process.extractOne(key, self.keys, scorer=Levenshtein.distance,
                                      score_cutoff=typo_bound(len(key)))  # fmt: skip
            if near is not None:
                return self.targets[near[2]]
            for number, protected_key in enumerate(self.keys):  # a protected name inside
                if len(protected_key) >= 4 and protected_key in key:
                    return self.targets[number]
        if member.photo is not None:
            mine = imagehash.hex_to_hash(f"{member.photo:016x}")
            for theirs, admin in self.photos:
                if mine - theirs <= PHOTO_DISTANCE:
                    return admin.display_name
        return ""


def timed(function: Callable[[Member], str], cases: list[Case], runs: int) -> tuple[list[float], float]:  # noqa: E501
    """Per-member milliseconds (the median over runs of each member's time) and recall."""
    per_run: list[list[float]] = []
    hits = 0
    for _ in range(runs):
        times = []
        hits = 0
        for case in cases:
            started = time.perf_counter()
            found = function(case.member)
            times.append((time.perf_counter() - started) * 1000)
            hits += found == case.target
        per_run.append(times)
    return [statistics.median(t) for t in zip(*per_run, strict=True)], hits / len(cases)


def photo_table(images: int) -> None:
    """The distances PHOTO_DISTANCE is chosen from."""
    print(f"\nphoto hash distances (pHash, 64 bits), {images} photo-like images")
    originals = [photo_hash(encoded(avatar(seed), 90)) for seed in range(images)]
    print(f"{'copy':34} {'max':>4} {'median':>7} {'matched':>8}")
    for quality, size, crop in [(60, 640, 0.0), (35, 96, 0.0), (60, 320, 0.02), (85, 640, 0.03),
                                (60, 320, 0.05), (60, 320, 0.08)]:  # fmt: skip
        distances = [
            photo_distance(original, photo_hash(encoded(copy_of(avatar(seed), size, crop),
                                                        quality)))
            for seed, original in enumerate(originals)
        ]  # fmt: skip
        matched = sum(d <= PHOTO_DISTANCE for d in distances) / len(distances)
        label = f"JPEG q{quality}, {size}px, crop {crop:.0%}/edge"
        print(f"{label:34} {max(distances):>4} {statistics.median(distances):>7} {matched:>8.0%}")
    pairs = [photo_distance(a, b) for a, b in itertools.combinations(originals, 2)]
    false = sum(d <= PHOTO_DISTANCE for d in pairs)
    print(f"{'distinct pairs':34} min {min(pairs)}, median {statistics.median(pairs)}; "
          f"{false} of {len(pairs)} within {PHOTO_DISTANCE}")  # fmt: skip


def photo_cost(runs: int) -> None:
    data = encoded(avatar(3), 85)
    admins = [photo_hash(encoded(avatar(seed), 85)) or 0 for seed in range(50)]
    objects = [imagehash.hex_to_hash(f"{h:016x}") for h in admins]
    hashed = photo_hash(data) or 0
    mine = imagehash.hex_to_hash(f"{hashed:016x}")

    def median_ms(work: Callable[[], object], repeat: int) -> float:
        times = []
        for _ in range(runs * repeat):
            started = time.perf_counter()
            work()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    print(f"\nphoto cost, a 640x640 JPEG avatar of {len(data) / 1024:.0f} kB (median ms)")
    print(f"  photo_hash (decode at reduced scale + pHash)  {median_ms(lambda: photo_hash(data), 20):8.3f}")  # noqa: E501
    ours = median_ms(lambda: [photo_distance(hashed, h) for h in admins], 200)
    brute = median_ms(lambda: [mine - h for h in objects], 200)
    print(f"  vs 50 admin photos: int XOR popcount {ours:.4f}, ImageHash difference {brute:.4f}"
          f" ({brute / ours:.0f}x)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="registry officials")
    parser.add_argument("--ordinary", type=int, default=1000, help="ordinary members")
    parser.add_argument("--brute", type=int, default=200, help="ordinary members brute-forced")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--images", type=int, default=60, help="images for the photo table")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    officials = protected(args.n, args.seed)
    entities = sorted(set(real_officials(DATA).values()))
    admins = admins_of(entities, rng)
    index = LookalikeIndex()
    for handle, entity in officials.items():
        index.add(AccountRef(TG, handle), entity)
    guard = Guard(index)
    guard.set_admins(TG, CHAT, admins)
    asyncio.run(guard.set_on(TG, CHAT, True, Asker(TG, admins[0].user_id), chat_admin=True))
    brute = BruteForce(admins, officials)
    bad, good = impostors(admins, officials, rng), ordinary(args.ordinary, entities, rng)

    def ours(member: Member) -> str:
        found = guard.who_is(TG, CHAT, member).looks_like
        if found is None:
            return ""
        return found.imitates.display_name if found.imitates else found.entity or "?"

    print(f"protected: {len(admins)} admins (names + photos) + {len(index):,} officials on {TG}; "
          f"{len(bad)} impostor cases, {len(good)} ordinary members; medians of {args.runs} runs")
    print(f"\n{'per member, ms':26} {'p50':>8} {'p99':>8} {'mean':>8} {'impostors found':>16} "
          f"{'ordinary flagged':>17}")  # fmt: skip
    rows = [("guard (indexes)", ours, bad, good), ("brute force (rapidfuzz)", brute.match, bad,
                                                   good[: args.brute])]  # fmt: skip
    medians = []
    for label, function, impostor_cases, ordinary_cases in rows:
        times, recall = timed(function, impostor_cases, args.runs)
        more, right = timed(function, ordinary_cases, args.runs)
        times += more
        medians.append(statistics.median(times))
        print(f"{label:26} {percentile(times, 50):8.3f} {percentile(times, 99):8.3f} "
              f"{statistics.fmean(times):8.3f} {recall:>16.1%} {1 - right:>17.1%}")  # fmt: skip
    print(f"{'ratio (brute / guard), p50':26} {medians[1] / medians[0]:8.0f}x")
    for label, function in (("guard", ours), ("brute force", brute.match)):
        by_kind: dict[str, list[bool]] = {}
        for case in bad:
            by_kind.setdefault(case.kind, []).append(function(case.member) == case.target)
        print(f"{label} recall by trick: " + ", ".join(
            f"{kind} {sum(hits)}/{len(hits)}" for kind, hits in by_kind.items()))  # fmt: skip
    photo_cost(args.runs)
    photo_table(args.images)


if __name__ == "__main__":
    main()
