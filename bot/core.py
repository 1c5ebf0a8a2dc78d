"""The core: every adapter asks it the same questions and gets platform-neutral answers."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import date, datetime

from bot import limits
from bot.chat_cache import ChatCache
from bot.commands import parse_report, parse_verdict
from bot.guard import Guard
from bot.handles import NamedAccount, find_accounts, parse_ref
from bot.i18n import N_, _
from bot.kept import OVERLAP, Started, keep, reindex, start_index
from bot.lookalike import LookalikeIndex
from bot.lookalike_keys import name_text
from bot.model import (
    CHANGE_REGISTRY,
    DISMISS_REPORTS,
    INVISIBLE,
    MANAGE_FEEDS,
    MIXED_SCRIPT,
    OPERATOR,
    PROTECTED,
    READ_REPORTS,
    VERIFY_UNLISTED,
    AccountRecord,
    AccountRef,
    Answer,
    Answers,
    Asker,
    Certainty,
    Change,
    Correction,
    Evidence,
    FeedsNotConfigured,
    InvalidHandle,
    IsOfficialError,
    Lookalike,
    Nearby,
    NoAccountFound,
    NoSuchReport,
    NotAllowed,
    Outcome,
    Reason,
    Report,
    Status,
    Strength,
    VerifyNotConfigured,
)
from bot.platforms import ALIASES, ANY, PLATFORMS, normalize_handle
from bot.ports import (
    ChatPreferences,
    FeedCatalog,
    FeedState,
    IndexStore,
    Known,
    ModerationNotices,
    Registry,
)
from bot.presence import Presence
from bot.skeleton import mixed_script
from bot.urls import http_link, link_host
from bot.verification import Verification, VerifyResult
from bot.verifying import Verifier

log = logging.getLogger(__name__)

# A message naming more accounts than this is answered for the first ones only.
MAX_ACCOUNTS_PER_QUERY = 10
MENTIONS_PER_ANSWER = 5
SUGGESTIONS_MAX = 100
DISMISS_USAGE = N_("Usage: /dismiss <report id> [reason]")
NEARBY_MAX = 3  # registered names shown near an unknown account that resembles no official
NOTHING = Known(None, ())  # what an account neither registered nor mentioned reads

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
        verifier: Verifier | None = None,
        guard: Guard | None = None,
        *,
        presence: Presence | None = None,
    ) -> None:
        """feeds None: feed commands say feeds are not configured. preferences None: chats'
        choices are kept in this process only (lost on restart). verifier None: answers show
        no verification and verify says it is not configured. presence None: every check
        reads the registry (nothing known in memory, nothing cached)."""
        self.registry = registry
        self.index = index
        self.moderators = moderators
        self.feeds = feeds
        self.preferences = preferences
        self.verifier = verifier
        self.guard = guard or Guard(index)  # none given: its settings kept in this process only
        self.presence = presence
        self._autocheck: ChatCache[bool] = ChatCache()
        self._language: ChatCache[str | None] = ChatCache()
        self.notices: list[ModerationNotices] = []
        self.kept: IndexStore | None = None  # where the index is kept between runs
        self.index_change = 0  # the newest change the index had when it was started or kept

    def listen(self, notices: ModerationNotices) -> None:
        """Tell notices about new reports, closed reports and verdict changes made here."""
        self.notices.append(notices)

    @classmethod
    async def start(
        cls,
        registry: Registry,
        moderators: frozenset[str] = frozenset(),
        feeds: FeedCatalog | None = None,
        preferences: ChatPreferences | None = None,
        verifier: Verifier | None = None,
        kept: IndexStore | None = None,
    ) -> Core:
        """A core whose lookalike index holds every protected account of the registry, and
        which knows what is registered, mentioned and verified: as kept in kept, brought up to
        date from the change log, or else a full build (which kept then gets)."""
        started = await start_index(registry, kept, verifier.store if verifier else None)
        core = cls(registry, started.index, moderators, feeds, preferences, verifier,
                   presence=started.presence)
        core.kept, core.index_change = kept, started.change_id
        registry.follow(core.reload)
        if kept is not None and started.fresh:
            await keep(registry, kept, started)
        return core

    async def keep_index(self) -> None:
        """Bring the index up to the newest change and give it to the index store (if any):
        after a bulk change (an import, a sync) and at a clean shutdown, so that the next
        start has nothing to catch up."""
        if self.kept is None:
            return
        newest, refs = await self.registry.changed_since(max(0, self.index_change - OVERLAP))
        await reindex(self.registry, self.index, refs, self.presence)
        self.index_change = newest
        await keep(self.registry, self.kept, Started(self.index, newest, True, self.presence))

    def is_moderator(self, asker: Asker) -> bool:
        """The local command line is the operator; chat users must be listed moderators."""
        return asker.platform == OPERATOR.platform or asker.key in self.moderators

    # --- questions anyone may ask -------------------------------------------------------

    async def check(
        self, text: str, asker: Asker, current_id: IdLookup | None = None
    ) -> list[Answer]:
        """One answer per account named in text (a bare @handle: one per platform holding it);
        the answers say how many accounts beyond MAX_ACCOUNTS_PER_QUERY went unanswered.
        An unknown account's answer names registered accounts near it."""
        found = find_accounts(text)
        named = found[:MAX_ACCOUNTS_PER_QUERY]
        if not named:
            parse_ref(text)  # raises the precise reason: a too-long handle, an unknown platform
            raise NoAccountFound(text)
        answers = await self._answers(text, named, asker, current_id)
        return Answers(answers, len(found) - len(named))

    async def _answers(
        self,
        text: str,
        named: list[NamedAccount],
        asker: Asker,
        current_id: IdLookup | None,
    ) -> list[Answer]:
        candidates = {account: self._candidates(account, asker) for account in named}
        # A bare @handle: every platform holding it, or else its best-supported reading.
        held = {account: [ref for ref in refs if self._may_be_registered(ref)]
                for account, refs in candidates.items()}
        answered = {account: held[account] or [self._best_reading(refs, account.written)]
                    for account, refs in candidates.items()}
        known = await self._read([ref for refs in answered.values() for ref in refs])
        for account, refs in answered.items():
            if held[account] and not any(known[ref].record for ref in refs):
                # registered when the sets were told, gone by the read: as if never registered
                answered[account] = [self._best_reading(candidates[account], account.written)]
                known |= await self._read([r for r in answered[account] if r not in known])
        answers = [
            await self._answer(
                text, account, ref, known[ref].record, current_id, known[ref].mentions
            )
            for account, refs in answered.items()
            for ref in refs
            if known[ref].record or len(refs) == 1
        ]
        return await self._with_verifications(answers)

    def _may_be_registered(self, ref: AccountRef) -> bool:
        return self.presence is None or self.presence.may_be_registered(ref)

    async def _read(self, refs: list[AccountRef]) -> dict[AccountRef, Known]:
        """What there is to read about refs: from the cache, else in one round trip; nothing
        when the presence sets say there is nothing (presence None: everything is read)."""
        presence = self.presence
        if presence is None:
            return await self.registry.read(refs, MENTIONS_PER_ANSWER)
        found = {ref: presence.cache[ref] for ref in refs if ref in presence.cache}
        wanted = [ref for ref in refs if ref not in found and presence.worth_reading(ref)]
        if wanted:
            generation = presence.generation
            mentioned = [ref for ref in wanted if presence.may_be_mentioned(ref)]
            fresh = await self.registry.read(wanted, MENTIONS_PER_ANSWER, mentioned)
            presence.keep(fresh, generation)
            found |= fresh
        return {ref: found.get(ref, NOTHING) for ref in refs}

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
        asked = limits.checked_report(Report(ref=ref, status=status, by=_who(by), note=note))
        report = await self.registry.add_report(asked)
        if report.count == 1:  # a repeat merged into an open report is not news
            await self._tell("report_filed", report)
        return report

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
        preferences = self.preferences

        async def load() -> bool:
            return await preferences.autocheck(platform, chat_id) if preferences else False

        return await self._autocheck.read((platform, chat_id), load, self.preferences_ttl)

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
        self._autocheck.put((by.platform, chat_id), on, self._own_ttl())

    async def chat_language(self, platform: str, chat_id: str) -> str | None:
        """The language a chat chose (None: each asker's own); cached like auto-check."""
        preferences = self.preferences

        async def load() -> str | None:
            return await preferences.language(platform, chat_id) if preferences else None

        return await self._language.read((platform, chat_id), load, self.preferences_ttl)

    async def set_chat_language(self, chat_id: str, language: str | None, by: Asker) -> None:
        """Record a chat's language (None: back to each asker's own); the adapter checked the
        asker may (chat admins, Manage Server) and that the language is one we speak."""
        if self.preferences is not None:
            await self.preferences.set_language(by.platform, chat_id, language, _who(by))
        self._language.put((by.platform, chat_id), language, self._own_ttl())

    def _own_ttl(self) -> float:
        """How long this process's own switch is kept: without a store, for good."""
        return self.preferences_ttl if self.preferences is not None else float("inf")

    async def move_chat(self, platform: str, old_id: str, new_id: str) -> None:
        """A chat got a new id (a Telegram group became a supergroup): its settings follow."""
        if self.preferences is not None:
            await self.preferences.move_chat(platform, old_id, new_id)
        await self.guard.move_chat(platform, old_id, new_id)
        self._autocheck.move((platform, old_id), (platform, new_id))
        self._language.move((platform, old_id), (platform, new_id))
        log.info("chat %s:%s moved to %s", platform, old_id, new_id)

    # --- moderators ---------------------------------------------------------------------

    async def correct(self, correction: Correction, by: Asker) -> Answer:
        self._require_moderator(by)
        correction = limits.checked_correction(correction)
        if correction.status is Status.UNKNOWN:
            raise IsOfficialError(_("a verdict cannot be 'unknown': use undo to withdraw one"))
        if correction.status in PROTECTED and not correction.entity:
            raise IsOfficialError(_("an {status} verdict needs the entity's name").format(
                status=correction.status.value))
        pending = await self.registry.open_reports_about(correction.ref)
        who = _who(by)
        record, _change = await self.registry.apply(correction, who)
        self._reindex(record.ref, record)
        answer = await self._answer(str(record.ref), None, record.ref, record, None)
        await self._tell("verdict_changed", answer, who)
        for report in pending:  # the registry closed them with the verdict
            outcome = Outcome.ACCEPTED if report.status is record.status else Outcome.DECIDED
            closed = replace(report, outcome=outcome, closed_by=who,
                             reason=f"verdict: {record.status.value}")
            await self._tell("report_closed", closed, answer)
        return answer

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
        record, _change = await self.registry.undo(ref, _who(by))
        self._reindex(ref, record)
        answer = await self._answer(text, None, ref, record, None)
        await self._tell("verdict_changed", answer, _who(by))
        return answer

    async def open_reports(self, by: Asker) -> list[Report]:
        self._require_moderator(by, READ_REPORTS)
        return await self.registry.open_reports()

    async def dismiss(self, args: str, by: Asker) -> Report:
        """The chat form: `<report id> [reason]` (`#12 spam` works too)."""
        self._require_moderator(by, DISMISS_REPORTS)
        found = re.fullmatch(r"#?(\d{1,12})(?:\s+(.*))?", args.strip(), re.DOTALL)
        if found is None:
            raise IsOfficialError(_(DISMISS_USAGE))
        return await self.dismiss_report(int(found.group(1)), by, found.group(2))

    async def dismiss_report(self, report_id: int, by: Asker, reason: str | None = None) -> Report:
        """Close a report without a verdict; its reporters are told, with the reason."""
        self._require_moderator(by, DISMISS_REPORTS)
        reason = (reason or "").strip()[:500] or None
        closed = await self.registry.close_report(report_id, Outcome.DISMISSED, _who(by), reason)
        await self._tell("report_closed", closed, None)
        return closed

    async def accept_report(self, report_id: int, by: Asker) -> Answer:
        """Set the verdict a report suggests (the account's entity kept): the moderators' chat
        button. A suggestion that needs an entity the registry lacks is sent to /verdict."""
        self._require_moderator(by)
        report = await self.registry.report(report_id)
        if report is None or report.outcome is not None:
            raise NoSuchReport(report_id)
        record = (await self.registry.find([report.ref])).get(report.ref)
        entity = record.entity if record else None
        if report.status in PROTECTED and not entity:
            raise IsOfficialError(
                _("report #{number} needs the entity's name: /verdict {account} {status} "
                  "<entity>").format(number=report_id, account=report.ref,
                                     status=report.status.value)
            )
        note = report.note or f"report #{report_id}"
        return await self.correct(Correction(report.ref, report.status, entity, note=note), by)

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
        """Bring the index, the presence sets and the cache up to date with changes another
        process made to these accounts (their verdicts, feed mentions, verifications)."""
        known = await self.registry.read(refs, MENTIONS_PER_ANSWER)
        verified = {}
        if self.presence is not None and self.verifier is not None:
            verified = await self.verifier.latest(refs)
        for ref in refs:
            self._reindex(ref, known[ref].record)
            if self.presence is not None:
                self.presence.mentions_now(ref, bool(known[ref].mentions))
                if ref in verified:
                    self.presence.verified_now(ref)

    async def remember_platform_id(self, ref: AccountRef, platform_id: str) -> None:
        await self.registry.remember_platform_id(ref, platform_id)
        if self.presence is not None:
            self.presence.forget(ref)

    # --- verification: anyone for a registered account, moderators for any -------------------

    async def verify(self, args: str, by: Asker) -> VerifyResult:
        """`<account> [entity]`: check live that the entity's official sites link to the
        account (the entity defaults to the registered one)."""
        account, _, entity = args.strip().partition(" ")
        ref = await self._one_ref(parse_ref(account))
        record = (await self.registry.find([ref])).get(ref)
        if record is None or entity.strip():
            self._require_moderator(by, VERIFY_UNLISTED)
        verifier = self._verifier()
        chosen = entity.strip() or (record.entity if record else None)
        outcome = await verifier.verify(ref, chosen, _who(by))
        if self.presence is not None:
            self.presence.verified_now(ref)
        log.info("verified %s: %s", ref, outcome.verification.state.value)
        return outcome

    async def reverify(self, checked_before: datetime, limit: int = 100) -> list[VerifyResult]:
        """Verify again the accounts last verified before checked_before (the scheduler's round);
        one account's failure is logged and costs only its own check."""
        return await self._verifier().reverify(checked_before, limit)

    async def verifications(self, ref: AccountRef) -> list[Verification]:
        """Every verification of ref, newest first (none when verification is not configured)."""
        return await self.verifier.store.history(ref) if self.verifier else []

    # --- the parts --------------------------------------------------------------------------

    def _verifier(self) -> Verifier:
        if self.verifier is None:
            raise VerifyNotConfigured()
        return self.verifier

    async def _with_verifications(self, answers: list[Answer]) -> list[Answer]:
        presence = self.presence
        refs = [a.ref for a in answers if presence is None or presence.may_be_verified(a.ref)]
        if self.verifier is None or not refs:
            return answers
        latest = await self.verifier.latest(refs)
        return [replace(a, verification=latest.get(a.ref)) for a in answers]

    async def _tell(self, event: str, *details: object) -> None:
        """Every listener hears the event (a ModerationNotices method); one that fails is
        logged and the command goes on."""
        for notices in self.notices:
            try:
                await getattr(notices, event)(*details)
            except Exception:
                log.exception("a moderation notice failed")

    def _require_moderator(self, asker: Asker, refusal: str = CHANGE_REGISTRY) -> None:
        if not self.is_moderator(asker):
            raise NotAllowed(_who(asker), refusal)

    def _feed_catalog(self, by: Asker) -> FeedCatalog:
        self._require_moderator(by, MANAGE_FEEDS)  # refuse first: it reveals nothing
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
            raise InvalidHandle(_("{handle} is no valid handle on any platform").format(
                handle=repr(account.written[:40])))
        return refs

    def _best_reading(self, refs: list[AccountRef], written: str) -> AccountRef:
        """The reading of a bare @handle with the strongest lookalike; on a tie the first
        (the chat's own platform comes first)."""

        def support(ref: AccountRef) -> tuple[bool, float]:
            found = self.index.find(ref, written, limit=1)
            return (found[0].strength is Strength.STRONG, found[0].score) if found else (False, 0)

        return max(refs, key=support) if len(refs) > 1 else refs[0]

    async def _one_ref(self, named: NamedAccount) -> AccountRef:
        """The single account a command names; a bare @handle must be unambiguous."""
        refs = self._candidates(named, OPERATOR)
        if named.ref.platform != ANY:
            return refs[0]
        records = await self.registry.find(refs)
        registered = [ref for ref in refs if ref in records]
        if len(registered) > 1:
            where = ", ".join(str(ref) for ref in registered)
            raise IsOfficialError(_("@{handle} is registered as {accounts}: name one of them")
                                  .format(handle=named.written, accounts=where))
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
        written = account.written if account else ref.handle
        flags: tuple[str, ...] = (INVISIBLE,) if account and account.invisible else ()
        if record is not None and flags and record.status in PROTECTED and record.entity:
            # The name as seen is the official's, but the account written is not: report it.
            hidden = Lookalike(
                record.ref, record.entity, Reason.HOMOGLYPH, 0.95, detail="invisible"
            )
            return _unknown(query, ref, written, mentions, (hidden,), flags)
        if record is None:
            flags += (MIXED_SCRIPT,) if mixed_script(written) else ()
            lookalikes = self.index.find(ref, written)
            asked = account is not None and not lookalikes  # a check, not a moderator's undo
            nearby = await self._nearby(ref) if asked else ()
            return _unknown(query, ref, written, mentions, lookalikes, flags, nearby)
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
            set_by=record.set_by,
            note=record.note,
            notices=notices,
            flags=flags,
            aliases=record.aliases,
            entity_ids=record.entity_ids,
        )

    async def _nearby(self, ref: AccountRef) -> tuple[Nearby, ...]:
        """Registered accounts whose name starts like this one's, any status and platform."""
        name = name_text(ref.platform, ref.handle)[0]
        if len(name) < 4:
            return ()
        names = True
        if self.presence is not None:  # read only what can be there
            names = self.presence.search.may_find_name(name)
            if not names and not self.presence.search.may_find_handle(name):
                return ()
        found = [r for r, _ in await self.registry.search(name, NEARBY_MAX + 1, names=names)
                 if r != ref]
        records = await self.registry.find(found[:NEARBY_MAX])
        return tuple(Nearby(r.ref, r.status, r.entity) for r in records.values())

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
            await self.remember_platform_id(record.ref, seen)
            return ()
        if seen == record.platform_id:
            return ()
        return (
            _("this handle now belongs to a different account (id {seen}, registered id "
              "{registered}): it was renamed or re-registered; the verdict was about the old "
              "owner").format(seen=seen, registered=record.platform_id),
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
        self.index.update(ref, record)
        if self.presence is not None:
            self.presence.registered_as(ref, record)


def _unknown(
    query: str,
    ref: AccountRef,
    written: str,
    mentions: tuple[Evidence, ...],
    lookalikes: tuple[Lookalike, ...],
    flags: tuple[str, ...],
    nearby: tuple[Nearby, ...] = (),
) -> Answer:
    """An unregistered account: what it resembles and what its name shows."""
    certainty = Certainty.HEURISTIC if lookalikes or flags else Certainty.NONE
    return Answer(
        query, ref, Status.UNKNOWN, None, certainty, lookalikes, (), mentions,
        flags=flags, written=written, nearby=nearby,
    )  # fmt: skip


def _who(asker: Asker) -> str:
    """How the change log names a person: `telegram:42 (@alice)`."""
    named = asker.name and asker.name != asker.user_id
    return limits.who(f"{asker.key} ({asker.name})" if named else asker.key)
