"""A local feed server speaking real HTTP: real-shaped RSS 0.91/1.0/2.0, Atom and JSON Feed
fixtures, conditional GET, redirects, and the hostile cases (slow, endless, entity bombs,
malformed XML, wrong content types).

    async with FeedServer() as server:
        url = server.url("/rss2.xml")
        server.hits["/rss2.xml"]      # requests served per path
        server.sent["/endless"]       # body bytes written per path
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from types import TracebackType

from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.typedefs import Handler

RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
JSON_FEED = "application/feed+json"
LAST_MODIFIED = "Tue, 24 Aug 2010 09:00:00 GMT"
ENDLESS_LIMIT = 50 * 1024 * 1024  # the "endless" body stops here if nobody hangs up first

RSS2 = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>Korea Desk</title>
    <link>https://news.example.org/korea</link>
    <description>News about the Korean peninsula</description>
    <language>en-us</language>
    <atom:link href="https://news.example.org/korea/rss" rel="self" type="application/rss+xml"/>
    <item>
      <title>South Korea blocks North Korea's new Twitter account</title>
      <link>https://news.example.org/korea/2010/08/19/twitter-block</link>
      <guid isPermaLink="true">https://news.example.org/korea/2010/08/19/twitter-block</guid>
      <pubDate>Thu, 19 Aug 2010 08:30:00 +0000</pubDate>
      <dc:creator>Desk staff</dc:creator>
      <description><![CDATA[<p>Seoul blocked access to
        <a href="https://twitter.com/uriminzok">@uriminzok</a>, a Twitter account
        posting the North's propaganda.</p>]]></description>
    </item>
    <item>
      <title>Pyongyang: the accounts are run by fans abroad</title>
      <link>https://news.example.org/korea/2010/08/24/fans</link>
      <guid isPermaLink="true">https://news.example.org/korea/2010/08/24/fans</guid>
      <pubDate>Tue, 24 Aug 2010 09:00:00 +0000</pubDate>
      <description>A delegate said the YouTube channel youtube.com/user/uriminzok and the
        Twitter account are run by supporters in China and Japan.</description>
    </item>
  </channel>
</rss>
"""

RSS1 = """<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://wire.example.net/rss">
    <title>Wire (RSS 1.0)</title>
    <link>https://wire.example.net/</link>
    <description>Agency wire</description>
    <items><rdf:Seq><rdf:li rdf:resource="https://wire.example.net/a/1001"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://wire.example.net/a/1001">
    <title>Facebook page claiming to be Pyongyang's was a prank</title>
    <link>https://wire.example.net/a/1001</link>
    <description>The page facebook.com/uriminzokkiri.prank was removed.</description>
    <dc:date>2010-08-25T06:00:00Z</dc:date>
  </item>
</rdf:RDF>
"""

# RSS 0.91 as Netscape shipped it: with an external DOCTYPE (no internal subset: allowed).
RSS091 = """<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
  "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91">
  <channel>
    <title>Old Wire</title>
    <link>https://old.example.com/</link>
    <description>Since 1999</description>
    <language>en</language>
    <item>
      <title>Telegram channel t.me/uriminzok_news is not the government's</title>
      <link>https://old.example.com/2010/telegram</link>
      <description>Readers asked about t.me/uriminzok_news.</description>
    </item>
  </channel>
</rss>
"""

ATOM_FEED = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Fact checks</title>
  <id>tag:facts.example.com,2010:feed</id>
  <updated>2010-08-26T10:00:00Z</updated>
  <link rel="self" href="https://facts.example.com/atom.xml"/>
  <entry>
    <title type="html">Is @uriminzok official? No &amp; here is why</title>
    <id>tag:facts.example.com,2010:uriminzok</id>
    <link rel="alternate" href="https://facts.example.com/uriminzok"/>
    <updated>2010-08-26T10:00:00Z</updated>
    <published>2010-08-26T09:30:00Z</published>
    <author><name>Checker</name></author>
    <content type="html">&lt;p&gt;See &lt;a href="https://x.com/uriminzok"&gt;the account&lt;/a&gt;
      and &lt;a href="https://www.youtube.com/@uriminzok"&gt;the channel&lt;/a&gt;.
      &lt;/p&gt;</content>
  </entry>
</feed>
"""

JSON_FEED_DOC = """{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "JSON desk",
  "home_page_url": "https://json.example.com/",
  "feed_url": "https://json.example.com/feed.json",
  "items": [
    {"id": "jd-1", "url": "https://json.example.com/posts/1",
     "title": "Bluesky impostor of NASA removed",
     "content_html": "<p>The account <a href=\\"https://bsky.app/profile/nasa-official.bsky.social\\">nasa-official</a> was removed.</p>",
     "date_published": "2010-08-27T12:00:00+02:00"},
    {"id": 2, "title": "No link, numeric id", "content_text": "Nothing named here.",
     "date_published": "not a date"}
  ]
}
"""  # noqa: E501

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><link>https://bomb.example/1</link></item></channel></rss>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>x</title>
<item><title>&xxe;</title><link>https://xxe.example/1</link></item></channel></rss>
"""

MALFORMED = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Broken
<item><title>unclosed <b>tags & bare ampersands
"""

HTML_PAGE = """<!doctype html><html><head><title>Welcome</title></head>
<body><p>This is a home page, not a feed.</p></body></html>"""

# The same article in two feeds (same link), each feed with one item of its own.
DUP_A = """<?xml version="1.0"?><rss version="2.0"><channel><title>Feed A</title>
<item><title>Shared story about @uriminzok</title><link>https://shared.example/story</link>
<pubDate>Wed, 25 Aug 2010 10:00:00 GMT</pubDate></item>
<item><title>Only in A</title><link>https://a.example/only</link></item>
</channel></rss>"""
DUP_B = """<?xml version="1.0"?><rss version="2.0"><channel><title>Feed B</title>
<item><title>Shared story (B's copy) about @uriminzok</title>
<link>https://shared.example/story</link><guid isPermaLink="false">b-77</guid>
<pubDate>Wed, 25 Aug 2010 10:05:00 GMT</pubDate></item>
<item><title>Only in B</title><link>https://b.example/only</link></item>
<item><title>Only in B</title><link>https://b.example/only</link></item>
</channel></rss>"""


def rss_with(items: list[tuple[str, str, str]], title: str = "Live desk") -> str:
    """An RSS 2.0 document of (title, link, RFC 822 date) items: for feeds a test changes."""
    entries = "".join(
        f"<item><title>{t}</title><link>{link}</link><pubDate>{date}</pubDate></item>"
        for t, link, date in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>{entries}</channel></rss>'  # noqa: E501


class FeedServer:
    """The fixtures above on a real local HTTP server; tests may replace or add documents."""

    def __init__(self, endless_limit: int = ENDLESS_LIMIT) -> None:
        self.documents: dict[str, tuple[str, str]] = {
            "/rss2.xml": (RSS2, RSS),
            "/rss1.rdf": (RSS1, "application/rdf+xml"),
            "/rss091.xml": (RSS091, "text/xml"),
            "/atom.xml": (ATOM_FEED, ATOM),
            "/feed.json": (JSON_FEED_DOC, JSON_FEED),
            "/bomb.xml": (BILLION_LAUGHS, RSS),
            "/xxe.xml": (EXTERNAL_ENTITY, RSS),
            "/malformed.xml": (MALFORMED, RSS),
            "/home.html": (HTML_PAGE, "text/html"),
            "/as-text.xml": (RSS2, "text/plain"),  # a real feed, mislabelled: still a feed
            "/dup-a.xml": (DUP_A, RSS),
            "/dup-b.xml": (DUP_B, RSS),
        }
        self.endless_limit = endless_limit
        self.hits: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.failures_left: Counter[str] = Counter()  # /flaky answers 503 this many times
        self.user_agents: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.release = asyncio.Event()  # /held requests wait for this
        self._server: TestServer | None = None

    def url(self, path: str) -> str:
        assert self._server is not None, "start the server first"
        return str(self._server.make_url(path))

    def set(self, path: str, body: str, content_type: str = RSS) -> None:
        self.documents[path] = (body, content_type)

    async def __aenter__(self) -> FeedServer:
        app = web.Application()
        app.router.add_get("/redirect/{n:\\d+}", self._redirect)
        app.router.add_get("/slow", self._slow)
        app.router.add_get("/endless", self._endless)
        app.router.add_get("/huge-declared", self._huge_declared)
        app.router.add_get("/image.png", self._image)
        app.router.add_get("/flaky", self._flaky)
        app.router.add_get("/held/{name}", self._held)
        app.router.add_get("/gone", self._gone)
        app.router.add_get("/{path:.*}", self._document)
        app.middlewares.append(self._count)
        self._server = TestServer(app)
        await self._server.start_server()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release.set()
        assert self._server is not None
        await self._server.close()

    @web.middleware
    async def _count(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.hits[request.path] += 1
        self.user_agents.append(request.headers.get("User-Agent", ""))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await handler(request)
        finally:
            self.in_flight -= 1

    async def _document(self, request: web.Request) -> web.StreamResponse:
        found = self.documents.get(request.path)
        if found is None:
            raise web.HTTPNotFound()
        body, content_type = found
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            self.not_modified[request.path] += 1
            return web.Response(status=304, headers={"ETag": etag})
        headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED, "Content-Type": content_type}
        return web.Response(body=body.encode("utf-8"), headers=headers)

    async def _redirect(self, request: web.Request) -> web.StreamResponse:
        hops = int(request.match_info["n"])
        target = "/rss2.xml" if hops <= 1 else f"/redirect/{hops - 1}"
        raise web.HTTPFound(target)

    async def _slow(self, request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(3600)  # a client timeout ends this, not the clock
        raise web.HTTPOk()

    async def _endless(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": RSS})
        await response.prepare(request)
        chunk = b"<rss version='2.0'><channel><title>" + b"A" * (64 * 1024 - 36)
        while self.sent[request.path] < self.endless_limit:
            await response.write(chunk)
            self.sent[request.path] += len(chunk)
        await response.write_eof()
        return response

    async def _huge_declared(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": RSS})
        response.content_length = ENDLESS_LIMIT
        await response.prepare(request)
        await response.write(b"<rss")
        self.sent[request.path] += 4
        await asyncio.sleep(3600)  # never sends the rest; the client must not wait for it
        return response

    async def _image(self, request: web.Request) -> web.StreamResponse:
        self.sent[request.path] += 1024
        return web.Response(body=b"\x89PNG" + b"\0" * 1020, content_type="image/png")

    async def _flaky(self, request: web.Request) -> web.StreamResponse:
        if self.failures_left[request.path] > 0:
            self.failures_left[request.path] -= 1
            raise web.HTTPServiceUnavailable()
        return web.Response(body=RSS2.encode(), content_type="application/rss+xml")

    async def _held(self, request: web.Request) -> web.StreamResponse:
        await self.release.wait()
        return web.Response(body=RSS2.encode(), content_type="application/rss+xml")

    async def _gone(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPGone()
