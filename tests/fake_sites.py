"""A small web for tests: many host names served over real TLS by one local aiohttp server.

    async with FakeWeb() as web:
        web.page("nasa.test", "/", '<a href="https://x.com/nasa">X</a>')
        async with web.fetcher() as fetcher:   # a SafeFetcher whose DNS points names at it
            ...

The certificate (made by trustme) covers every host given to `page` before the server starts;
the resolver answers those names with 127.0.0.1 and the server's port (any other name: no such
host), plus the fixed answers in `addresses` (e.g. a name that resolves to a private address).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import trustme
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from knowledge.fetcher import FetchLimits, IPAddress, SafeFetcher, is_public

Handler = Callable[[web.Request], Any]
FIFTY_MB = 50_000_000


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class StaticResolver(AbstractResolver):
    """DNS answers from a table: name -> (address, port); other names do not exist."""

    def __init__(self, table: dict[str, tuple[str, int]]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.table:
            raise OSError(f"no such host: {host}")
        address, served_port = self.table[host]
        return [
            {
                "hostname": host,
                "host": address,
                "port": served_port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


class FakeWeb:
    def __init__(self) -> None:
        self.pages: dict[tuple[str, str], Page] = {}
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.addresses: dict[str, str] = {}  # extra DNS answers: name -> address
        self.hits: Counter[tuple[str, str]] = Counter()
        self.user_agents: list[str] = []
        self.sent: Counter[str] = Counter()
        self.ca = trustme.CA()
        self._server: TestServer | None = None

    def page(self, host: str, path: str, body: str | bytes, **options: Any) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.pages[(host, path)] = Page(data, **options)

    def redirect(self, host: str, path: str, location: str) -> None:
        self.page(host, path, b"", status=302, headers={"Location": location})

    def handle(self, host: str, path: str, handler: Handler) -> None:
        self.pages.setdefault((host, path), Page(b""))
        self.handlers[(host, path)] = handler

    @property
    def hosts(self) -> list[str]:
        return sorted({host for host, _ in self.pages})

    @property
    def port(self) -> int:
        assert self._server is not None and self._server.port is not None
        return self._server.port

    def resolver(self) -> StaticResolver:
        table = {host: ("127.0.0.1", self.port) for host in self.hosts}
        table.update({name: (address, self.port) for name, address in self.addresses.items()})
        return StaticResolver(table)

    def client_ssl(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    @asynccontextmanager
    async def fetcher(
        self,
        limits: FetchLimits | None = None,
        *,
        allow_private: bool = True,
        public: Callable[[IPAddress], bool] = is_public,
        robots: bool = True,
    ) -> AsyncIterator[SafeFetcher]:
        async with SafeFetcher.open(
            limits or FetchLimits(timeout=5, attempts=1),
            allow_private=allow_private,
            public=public,
            resolver=self.resolver(),
            ssl_context=self.client_ssl(),
            robots=robots,
        ) as fetcher:
            yield fetcher

    async def __aenter__(self) -> FakeWeb:
        app = web.Application()
        app.router.add_route("GET", "/{path:.*}", self._serve)
        server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*self.hosts, *self.addresses).configure_cert(server_ssl)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server(ssl=server_ssl)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        await self._server.close()

    async def endless(self, request: web.Request) -> web.StreamResponse:
        """A 50 MB page, written as fast as the reader takes it; `sent` counts what went out."""
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        chunk = b"<p>" + b"A" * (64 * 1024 - 3)
        while self.sent[request.path] < FIFTY_MB:
            await response.write(chunk)
            self.sent[request.path] += len(chunk)
        await response.write_eof()
        return response

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        host = (request.host or "").split(":")[0]
        key = (host, request.path_qs if (host, request.path_qs) in self.pages else request.path)
        self.hits[key] += 1
        self.user_agents.append(request.headers.get("User-Agent", ""))
        if key in self.handlers:
            return await self.handlers[key](request)  # type: ignore[no-any-return]
        page = self.pages.get(key)
        if page is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=page.body,
            status=page.status,
            headers={"Content-Type": page.content_type, **page.headers},
        )


async def slow(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(3600)  # a client timeout ends this, not the clock
    raise web.HTTPOk()
