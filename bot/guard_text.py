"""The guard's words, as plain text in the current language (bot.i18n): a warning about a member,
the answer to "is this member an admin here?", and the DM notice about a guarded chat.
Adapters format them (escaping, mentions) as they do bot/render.py's lines."""

from __future__ import annotations

from bot.guard_match import INVISIBLE, MIXED_SCRIPT, PHOTO, SAME_NAME
from bot.guard_model import GuardedChat, GuardSettings, Impersonation, Member, MemberAnswer
from bot.i18n import N_, _

# Why a member resembles someone, one phrase per reason (bot.guard_match's reasons).
_WHY = {
    "homoglyph": N_("letters of another alphabet that look the same"),
    "typo": N_("one or two letters changed"),
    "affix": N_("the name with a word added, such as “support” or “admin”"),
    SAME_NAME: N_("the very same name"),
    INVISIBLE: N_("an invisible character in the name"),
    MIXED_SCRIPT: N_("Latin letters mixed with Cyrillic or Greek ones"),
    PHOTO: N_("the same profile photo"),
}


def member_name(member: Member, shown: str | None = None) -> str:
    """`Alice Kim (@alicekim)`; the display name as given in shown (odd characters visible)."""
    name = shown if shown is not None else member.display_name
    if member.username and name and name != member.username:
        return f"{name} (@{member.username})"
    return name or (f"@{member.username}" if member.username else member.user_id)


def imitated(found: Impersonation) -> str:
    """Who the member resembles: an admin of this chat, or an official account."""
    if found.imitates is not None:
        return _("{admin}, an admin of this chat").format(admin=member_name(found.imitates))
    account = f"@{found.official.handle}" if found.official else found.imitated_name
    return _("{account}, the official account of {entity}").format(
        account=account, entity=found.entity or _("an unnamed entity"))  # fmt: skip


def why(found: Impersonation) -> str:
    return "; ".join(_(_WHY[reason]) for reason in found.reasons if reason in _WHY)


def warning_lines(found: Impersonation) -> list[str]:
    """The warning posted in the chat (and copied to its moderators' chat)."""
    shown = _shown_member(found)
    lines = [
        _("Careful: {member} only looks like {target}: it is another account.").format(
            member=shown, target=imitated(found)),
        _("why: {reasons}").format(reasons=why(found)),
    ]  # fmt: skip
    if found.odd:
        lines.append(_("odd characters: {characters}").format(characters=", ".join(found.odd)))
    return lines


def warning_text(found: Impersonation) -> str:
    return "\n".join(warning_lines(found))


def member_answer_lines(answer: MemberAnswer) -> list[str]:
    """/check @someone in a group: an admin here, a registered official, or only alike."""
    who = member_name(answer.member)
    if answer.admin:
        return [_("{member} is an admin of this chat.").format(member=who)]
    if answer.official:
        return [_("{member} is a registered official account.").format(member=who)]
    found = answer.looks_like
    if found is None:
        return [_("{member} is not an admin of this chat.").format(member=who)]
    lines = [
        _("{member} is not an admin of this chat: they only look like {target}.").format(
            member=_shown_member(found), target=imitated(found)),
        _("why: {reasons}").format(reasons=why(found)),
    ]  # fmt: skip
    if found.odd:
        lines.append(_("odd characters: {characters}").format(characters=", ".join(found.odd)))
    return lines


def never_write_first(chat: GuardedChat) -> str:
    """In a DM that names a guarded chat."""
    return _(
        "Admins of {chat} never write first. Someone who writes to you privately as one of "
        "them is not them: in the chat, /check @name tells who its admins are."
    ).format(chat=chat.title)


def settings_lines(settings: GuardSettings) -> list[str]:
    """/guard alone: whether it is on here, its options, who last changed it and when."""
    options = settings.options
    lines = [
        _("The guard is on here.") if settings.on else _("The guard is off here."),
        _("restrict impostors until an admin allows them: {state}").format(
            state=_("on") if options.restrict_until_approved else _("off")),
        _("delete their join message: {state}").format(
            state=_("on") if options.delete_join else _("off")),
    ]  # fmt: skip
    if options.moderators_chat:
        lines.append(_("warnings copied to chat {chat}").format(chat=options.moderators_chat))
    if settings.by and settings.at:
        lines.append(_("last changed by {who}, {date}").format(
            who=settings.by, date=settings.at.date().isoformat()))  # fmt: skip
    return lines


def _shown_member(found: Impersonation) -> str:
    """The member, their display name as shown (invisible characters as code points) when it
    is the name that resembles."""
    by_display_name = found.shown != found.member.username
    return member_name(found.member, found.shown if by_display_name else None)
