"""Problems with one feed: each message is one line, shown in `feeds list` and to moderators."""

from __future__ import annotations

from bot.model import IsOfficialError


class FeedError(IsOfficialError):
    """A feed could not be fetched, parsed or stored; the other feeds are not affected."""
