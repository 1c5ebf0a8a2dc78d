"""The core: every adapter asks it the same questions and gets platform-neutral answers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import date

from bot import limits
from bot.commands import parse_report, parse_verdict
from bot.handles import NamedAccount, find_accounts, parse_ref
from bot.lookalike import LookalikeIndex
from bot.model import (
    OPERATOR,
    PROTECTED,
    AccountRecord,
    AccountRef,
    Answer,
    Asker,
    Certainty,
    Change,
    Correction,
    Evidence,
    FeedsNotConfigured,
    InvalidHandle,
    IsOfficialError,
    NoAccountFound,
    NotAllowed,
    Report,
    Status,
)
from bot.platforms import ALIASES, ANY, PLATFORMS, normalize_handle
from bot.ports import ChatPreferences, FeedCatalog, FeedState, Registry
from bot.urls import http_link, link_host

log = logging.getLogger(__name__)

# A message naming more accounts than this is answered for the first ones only.
MAX_ACCOUNTS_PER_QUERY = 10
MENTIONS_PER_ANSWER = 5
SUGGESTIONS_MAX = 100

# Looks up an account's current numeric id on its platform (None: unknown or unreachable).
IdLookup = Callable[[AccountRef], Awaitable[str | None]]


class Core:
    # Auto-check reads a chat's choice on every message: it is cached this long, so a switch
    # made through another replica is seen within it (this replica's own switches at once).
    preferences_ttl = 60.0

    def __init__(
        self,
        registry: Registry,
        index: LookalikeIndex,
        moderators: frozenset[str] = frozenset(),
        feeds: FeedCatalog | None = None,
        preferences: ChatPreferences | None = None,
    ) -> None:
        """feeds None: feed commands say feeds are not configured. preferences None: chats'
        choices are kept in this process only (lost on restart)."""
        self.registry = registry
        self.index = index
        self.moderators = moderators
        self.feeds = feeds
        self.preferences = preferences
        self._autocheck: dict[tuple[str, str], tuple[bool, float]] = {}  # -> (on, valid until)

    @classmethod
    async def start(
        cls,
        registry: Registry,
        moderators: frozenset[str] = frozenset(),
        feeds: FeedCatalog | None = None,
        preferences: ChatPreferences | None = None,
    ) -> Core:
        """A core whose lookalike index holds every protected account of the registry."""
        index = LookalikeIndex()
        async for batch in registry.protected():
            for ref, entity in batch:
                index.add(ref, entity)
        return cls(registry, index, moderators, feeds, preferences)

    def is_moderator(self, asker: Asker) -> bool:
        """The local command line is the operator; chat users must be listed moderators."""
        return asker.platform == OPERATOR.platform or asker.key in self.moderators

    # --- questions anyone may ask -------------------------------------------------------

    async def check(
        self, text: str, asker: Asker, current_id: IdLookup | None = None
    ) -> list[Answer]:
        """One answer per account named in text (a bare @handle: one per platform holding it)."""
        named = find_accounts(text)[:MAX_ACCOUNTS_PER_QUERY]
        if not named:
            parse_ref(text)  # raises the precise reason: a too-long handle, an unknown platform
            raise NoAccountFound(text)
        return await self._answers(text, named, asker, current_id)

    async def _answers(
        self,
        text: str,
        named: list[NamedAccount],
        asker: Asker,
        current_id: IdLookup | None,
    ) -> list[Answer]:
        candidates = {account: self._candidates(account, asker) for account in named}
        # Accounts named with their platform: their mentions are read while the registry is.
        certain = [refs[0] for refs in candidates.values() if len(refs) == 1]
        records, mentions = await asyncio.gather(
            self.registry.find([ref for refs in candidates.values() for ref in refs]),
            self._mentions(certain),
        )
        # A bare @handle: every platform holding it, or the default platform when none does.
        answered = {
            account: [ref for ref in refs if ref in records] or refs[:1]
            for account, refs in candidates.items()
        }
        unread = [ref for refs in answered.values() for ref in refs if ref not in mentions]
        mentions |= await self._mentions(unread)
        return [
            await self._answer(text, account, ref, records.get(ref), current_id, mentions[ref])
            for account, refs in answered.items()
            for ref in refs
        ]

    async def sources(self, text: str, asker: Asker) -> list[Answer]:
        """The same answers as check: each carries every evidence link and recent mention."""
        return await self.check(text, asker)

    async def history(self, text: str) -> tuple[AccountRef, list[Change]]:
        ref = await self._one_ref(parse_ref(text))
        return ref, await self.registry.history(ref)

    async def report(self, args: str, by: Asker) -> Report:
        """The chat form: `<account> <status> [note]`."""
        parsed = parse_report(args)
        return await self.file_report(parsed.account, parsed.status, by, parsed.note)

    async def file_report(
        self, account: str, status: Status, by: Asker, note: str | None = None
    ) -> Report:
        """Queue a suggestion about the one account that `account` names."""
        ref = await self._one_ref(parse_ref(account))
        report = limits.checked_report(Report(ref=ref, status=status, by=_who(by), note=note))
        return await self.registry.add_report(report)

    async def suggest(self, text: str, limit: int = 25) -> list[tuple[AccountRef, str | None]]:
        """Registered accounts for autocomplete, with their entities: `na`, `@na`, `x:na` or a
        part of an entity's name, any case."""
        typed = text.strip()[:SUGGESTIONS_MAX]
        limit = max(1, min(limit, SUGGESTIONS_MAX))
        word, colon, rest = typed.partition(":")
        platform = ALIASES.get(word.casefold()) if colon else None
        if platform is not None:
            return await self.registry.search(rest.strip().lstrip("@"), limit, platform)
        return await self.registry.search(typed.lstrip("@"), limit)

    # --- chat preferences (the adapter decides who may switch: chat admins, Manage Server) --

    async def autocheck_enabled(self, platform: str, chat_id: str) -> bool:
        """Whether a chat (Telegram chat, Discord server) opted into auto-check; cheap to ask."""
        key = (platform, chat_id)
        cached = self._autocheck.get(key)
        now = time.monotonic()
        if cached is not None and now < cached[1]:
            return cached[0]
        if self.preferences is None:
            return False
        on = await self.preferences.autocheck(platform, chat_id)
        self._autocheck[key] = (on, now + self.preferences_ttl)
        return on

    async def alarms(
        self, chat_id: str, text: str, asker: Asker, current_id: IdLookup | None = None
    ) -> list[Answer]:
        """What auto-check says about a chat message: its alarming answers; none when the chat
        has not opted in or the message names no account (ordinary chatter)."""
        if not await self.autocheck_enabled(asker.platform, chat_id):
            return []
        named = find_accounts(text)[:MAX_ACCOUNTS_PER_QUERY]  # chatter: no account, no error path
        try:
            answers = await self._answers(text, named, asker, current_id) if named else []
        except IsOfficialError:
            return []
        return [answer for answer in answers if answer.alarming]

    async def set_autocheck(self, chat_id: str, on: bool, by: Asker) -> None:
        """Record a chat's choice, naming who made it; the adapter checked they may."""
        if self.preferences is not None:
            await self.preferences.set_autocheck(by.platform, chat_id, on, _who(by))
        kept = self.preferences_ttl if self.preferences is not None else float("inf")
        self._autocheck[(by.platform, chat_id)] = (on, time.monotonic() + kept)

    # --- moderators ---------------------------------------------------------------------

    async def correct(self, correction: Correction, by: Asker) -> Answer:
        self._require_moderator(by)
        correction = limits.checked_correction(correction)
        if correction.status is Status.UNKNOWN:
            raise IsOfficialError("a verdict cannot be 'unknown': use undo to withdraw one")
        if correction.status in PROTECTED and not correction.entity:
            raise IsOfficialError(f"an {correction.status.value} verdict needs the entity's name")
        record, _ = await self.registry.apply(correction, _who(by))
        self._reindex(record.ref, record)
        return await self._answer(str(record.ref), None, record.ref, record, None)

    async def verdict(self, args: str, by: Asker) -> Answer:
        """The chat form: `<account> <status> [entity] [| note] [source url]`."""
        self._require_moderator(by)  # refuse before parsing: a refusal reveals nothing
        parsed = parse_verdict(args)
        return await self.set_verdict(
            parsed.account, parsed.status, by, parsed.entity, parsed.note, parsed.url
        )

    async def set_verdict(
        self,
        account: str,
        status: Status,
        by: Asker,
        entity: str | None = None,
        note: str | None = None,
        url: str | None = None,
    ) -> Answer:
        """A verdict on the one account that `account` names, with an optional source link."""
        self._require_moderator(by)
        named = parse_ref(account)
        ref = await self._one_ref(named)
        correction = Correction(
            ref=ref,
            status=status,
            entity=entity,
            evidence=await self._cited(ref, url, note) if url else None,
            note=note,
            handle_as_written=named.written,
            platform_id=named.platform_id,
        )
        return await self.correct(correction, by)

    async def undo(self, text: str, by: Asker) -> Answer:
        self._require_moderator(by)
        ref = await self._one_ref(parse_ref(text))
        record, _ = await self.registry.undo(ref, _who(by))
        self._reindex(ref, record)
        return await self._answer(text, None, ref, record, None)

    async def open_reports(self, by: Asker) -> list[Report]:
        self._require_moderator(by, "read the reports")
        return await self.registry.open_reports()

    async def add_feed(self, url: str, by: Asker) -> FeedState:
        feed = await self._feed_catalog(by).add_feed(url)
        log.info("feed %s added by %s", feed.url, _who(by))
        return feed

    async def list_feeds(self, by: Asker) -> Sequence[FeedState]:
        return await self._feed_catalog(by).list_feeds()

    async def remove_feed(self, url: str, by: Asker) -> None:
        await self._feed_catalog(by).remove_feed(url)
        log.info("feed %s removed by %s", url.strip(), _who(by))

    async def reload(self, refs: list[AccountRef]) -> None:
        """Bring the index up to date with changes another process made to these accounts."""
        records = await self.registry.find(refs)
        for ref in refs:
            self._reindex(ref, records.get(ref))

    async def remember_platform_id(self, ref: AccountRef, platform_id: str) -> None:
        await self.registry.remember_platform_id(ref, platform_id)

    # --- the parts --------------------------------------------------------------------------

    def _require_moderator(self, asker: Asker, action: str = "change the registry") -> None:
        if not self.is_moderator(asker):
            raise NotAllowed(_who(asker), action)

    def _feed_catalog(self, by: Asker) -> FeedCatalog:
        self._require_moderator(by, "manage the feeds")  # refuse first: it reveals nothing
        if self.feeds is None:
            raise FeedsNotConfigured()
        return self.feeds

    def _candidates(self, account: NamedAccount, asker: Asker) -> list[AccountRef]:
        """The refs an account may mean; the first is the one to answer when none is registered."""
        if account.ref.platform != ANY:
            return [account.ref]
        default = "telegram" if asker.platform == "telegram" else "x"
        refs = []
        for platform in sorted(PLATFORMS, key=lambda p: p != default):
            try:
                refs.append(AccountRef(platform, normalize_handle(platform, account.written)))
            except IsOfficialError:
                continue
        if not refs:
            raise InvalidHandle(f"{account.written[:40]!r} is no valid handle on any platform")
        return refs

    async def _one_ref(self, named: NamedAccount) -> AccountRef:
        """The single account a command names; a bare @handle must be unambiguous."""
        refs = self._candidates(named, OPERATOR)
        if named.ref.platform != ANY:
            return refs[0]
        records = await self.registry.find(refs)
        registered = [ref for ref in refs if ref in records]
        if len(registered) > 1:
            where = ", ".join(str(ref) for ref in registered)
            raise IsOfficialError(f"@{named.written} is registered as {where}: name one of them")
        return (registered or refs)[0]

    async def _answer(
        self,
        query: str,
        account: NamedAccount | None,
        ref: AccountRef,
        record: AccountRecord | None,
        current_id: IdLookup | None,
        mentions: tuple[Evidence, ...] | None = None,
    ) -> Answer:
        if mentions is None:
            mentions = (await self._mentions([ref]))[ref]
        if record is None:
            written = account.written if account else ref.handle
            lookalikes = self.index.find(ref, written)
            certainty = Certainty.HEURISTIC if lookalikes else Certainty.NONE
            return Answer(query, ref, Status.UNKNOWN, None, certainty, lookalikes, (), mentions)
        notices = await self._id_notices(record, account, current_id)
        return Answer(
            query=query,
            ref=ref,
            status=record.status,
            entity=record.entity,
            certainty=Certainty.SOURCED if record.evidence else Certainty.UNSOURCED,
            evidence=record.evidence,
            mentions=mentions,
            reviewed=record.reviewed,
            note=record.note,
            notices=notices,
        )

    async def _mentions(self, refs: list[AccountRef]) -> dict[AccountRef, tuple[Evidence, ...]]:
        found = await asyncio.gather(
            *(self.registry.mentions(r, MENTIONS_PER_ANSWER) for r in refs)
        )
        return {ref: tuple(items) for ref, items in zip(refs, found, strict=True)}

    async def _id_notices(
        self, record: AccountRecord, account: NamedAccount | None, current_id: IdLookup | None
    ) -> tuple[str, ...]:
        """Say plainly when a registered handle now belongs to a different account."""
        seen = account.platform_id if account else None
        if seen is None and current_id is not None:
            seen = await current_id(record.ref)
        if seen is None:
            return ()
        if record.platform_id is None:
            await self.registry.remember_platform_id(record.ref, seen)
            return ()
        if seen == record.platform_id:
            return ()
        return (
            f"this handle now belongs to a different account (id {seen}, registered id "
            f"{record.platform_id}): it was renamed or re-registered; the verdict was about the "
            "old owner",
        )

    async def _cited(self, ref: AccountRef, url: str, note: str | None) -> Evidence:
        """A moderator's source; a cited feed mention keeps its title and date."""
        for mention in await self.registry.mentions(ref, 100):
            if mention.url == url:
                return mention
        url = http_link(url, "source link")
        host = link_host(url)
        return Evidence(
            url=url, title=note or f"cited by a moderator on {date.today()}", publisher=host or None
        )

    def _reindex(self, ref: AccountRef, record: AccountRecord | None) -> None:
        if record is not None and record.status in PROTECTED and record.entity:
            self.index.add(ref, record.entity, record.handle_as_written)
        else:
            self.index.remove(ref)


def _who(asker: Asker) -> str:
    """How the change log names a person: `telegram:42 (@alice)`."""
    named = asker.name and asker.name != asker.user_id
    return limits.who(f"{asker.key} ({asker.name})" if named else asker.key)
