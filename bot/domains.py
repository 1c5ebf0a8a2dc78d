"""Registrable domains by the public-suffix rules (bundled snapshot: works offline)."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import idna
from publicsuffixlist import PublicSuffixList

# No network: the list shipped inside publicsuffixlist (a release follows each update of the
# list) is the one we use; it loads in a few hundredths of a second, a tenth of what
# tldextract's trie took at every start. Private suffixes count (com.ru, github.io,
# blogspot.com): each name under them has its own owner. An unlisted top level is no suffix.
_SUFFIXES = PublicSuffixList(only_icann=False, accept_unknown=False)


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
    name = to_unicode(host)
    suffix = _SUFFIXES.publicsuffix(name)
    if suffix is None:
        return None
    labels = name.split(".")  # sliced from the name: the list's answer comes lowercased
    length = suffix.count(".") + 1
    if len(labels) <= length or not labels[-length - 1]:
        return None
    return DomainParts(
        ".".join(labels[: -length - 1]), labels[-length - 1], ".".join(labels[-length:])
    )
