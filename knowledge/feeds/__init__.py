"""Recent sources: news feeds whose items name accounts, shown beside the registry's verdict.

The command line and the composition root use these; fetching and refreshing feeds is in
knowledge.feeds.service, imported only where feeds are fetched (it loads aiohttp).
"""

from knowledge.feeds.errors import FeedError
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
    "FeedStatus",
    "SqlFeedCatalog",
    "add_feed",
    "delete_older_than",
    "format_feed_list",
    "list_feeds",
    "recent_mentions",
    "remove_feed",
]
