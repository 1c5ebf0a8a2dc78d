"""Recent sources: news feeds whose items name accounts, shown beside the registry's verdict.

The command line and the composition root use these; the modules hold the rest.
"""

from knowledge.feeds.errors import FeedError
from knowledge.feeds.service import FeedReport, refresh_all, run_feed_scheduler
from knowledge.feeds.store import (
    FeedStatus,
    SqlFeedCatalog,
    add_feed,
    delete_older_than,
    format_feed_list,
    list_feeds,
    recent_mentions,
    remove_feed,
)

__all__ = [
    "FeedError",
    "FeedReport",
    "FeedStatus",
    "SqlFeedCatalog",
    "add_feed",
    "delete_older_than",
    "format_feed_list",
    "list_feeds",
    "recent_mentions",
    "refresh_all",
    "remove_feed",
    "run_feed_scheduler",
]
