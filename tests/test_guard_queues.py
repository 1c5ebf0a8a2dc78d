"""The guard's queues (adapters/guard_queues.py): warnings packed into as few messages as the
platform allows, none lost; the photo queue bounded, one job per member, outcomes counted."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence

from adapters.guard_queues import Bounded, GuardWarning, PhotoQueue, WarningQueue, pack
from bot.guard_model import PhotoOutcome


def test_pack_fills_a_message_and_keeps_the_rest_in_order() -> None:
    waiting = deque(GuardWarning(f"warning {n}: " + "x" * 40) for n in range(10))
    first = pack(waiting, limit=160, max_buttons=5)
    assert [w.text[:10] for w in first] == ["warning 0:", "warning 1:", "warning 2:"]
    assert sum(len(w.text) for w in first) + 2 * (len(first) - 1) <= 160
    assert waiting[0].text.startswith("warning 3:")


def test_pack_takes_at_least_one_and_respects_the_button_limit() -> None:
    waiting = deque([GuardWarning("y" * 500), GuardWarning("b1", "button"),
                     GuardWarning("b2", "button"), GuardWarning("plain")])
    assert [w.text for w in pack(waiting, limit=100, max_buttons=1)] == ["y" * 500]
    assert [w.text for w in pack(waiting, limit=100, max_buttons=1)] == ["b1"]
    assert [w.text for w in pack(waiting, limit=100, max_buttons=1)] == ["b2", "plain"]
    assert not waiting


async def test_every_warning_is_sent_once_in_order() -> None:
    sent: list[list[str]] = []

    async def send(chat: str, warnings: Sequence[GuardWarning[str]]) -> None:
        sent.append([w.text for w in warnings])
        await asyncio.sleep(0)

    queue: WarningQueue[str] = WarningQueue("test", send, lambda chat: 0.0, limit=30,
                                            max_buttons=5, gather=0.0)
    for number in range(40):
        queue.add("chat", GuardWarning(f"w{number:02}"))
    await queue.idle()
    assert [text for message in sent for text in message] == [f"w{n:02}" for n in range(40)]
    assert len(sent) < 40 and queue.sent == 40 and queue.messages == len(sent)


async def test_the_photo_queue_is_bounded_and_counts_what_it_refuses() -> None:
    outcomes: list[PhotoOutcome] = []
    release = asyncio.Event()
    done: list[int] = []

    def job(number: int):  # type: ignore[no-untyped-def]
        async def fetch() -> None:
            await release.wait()
            done.append(number)
        return fetch

    queue = PhotoQueue(outcomes.append, bound=3, per_second=1000.0)
    accepted = [queue.offer(("chat", n), job(n)) for n in range(6)]
    assert queue.offer(("chat", 0), job(0))  # already waiting: a no-op, not a refusal
    await asyncio.sleep(0)  # the worker takes the first job
    release.set()
    while queue.waiting or len(done) < 3:
        await asyncio.sleep(0.001)
    assert accepted == [True, True, True, False, False, False]
    assert done == [0, 1, 2] and queue.refused == 3 and queue.most_waiting == 3
    assert outcomes.count(PhotoOutcome.DROPPED) == 3 and outcomes.count(PhotoOutcome.DONE) == 3
    await queue.close()


def test_bounded_forgets_the_least_recently_used() -> None:
    seen = Bounded(2)
    assert seen.put(("a",), 1) is None and seen.put(("b",), 2) is None
    assert seen.put(("a",), 3) == 1  # a is now the most recent
    seen.put(("c",), 4)
    assert ("b",) not in seen and ("a",) in seen and ("c",) in seen
