"""Registrable domains by the public-suffix rules (bundled snapshot: works offline)."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import idna
import tldextract

# No network: the snapshot shipped inside tldextract is the list we use. Private suffixes count
# (com.ru, github.io, blogspot.com): each name under them has its own owner.
_extract = tldextract.TLDExtract(
    suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
)


class DomainParts(NamedTuple):
    subdomain: str  # "login.secure" in login.secure.example.co.uk
    label: str  # "example": the part a brand lives in
    suffix: str  # "co.uk"

    @property
    def registrable(self) -> str:
        return f"{self.label}.{self.suffix}"


def to_unicode(host: str) -> str:
    """Punycode labels decoded (xn--80ak6aa92e.com -> аррӏе.com); undecodable ones kept as is."""
    labels = []
    for label in host.lower().strip(".").split("."):
        try:
            labels.append(idna.decode(label) if label.startswith("xn--") else label)
        except idna.IDNAError:
            labels.append(label)
    return ".".join(labels)


def to_ascii(host: str) -> str | None:
    """The punycode form of a host, or None when it is no valid domain name."""
    try:
        return idna.encode(host.lower().strip("."), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None


@lru_cache(maxsize=65_536)
def split_domain(host: str) -> DomainParts | None:
    """Subdomain, label and public suffix of a host (unicode form); None if it has no suffix."""
    parts = _extract(to_unicode(host))
    if not parts.domain or not parts.suffix:
        return None
    return DomainParts(parts.subdomain, parts.domain, parts.suffix)
