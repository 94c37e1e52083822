"""How identifiers are compared: one normal form per kind of identifier.

The same function normalises the catalogue's identifiers when the index is built and a
source's value when it is looked up, so both sides always agree.

Names (desktop app names, Entra and Google OAuth app names, Slack app names, phone
providers, free-text names) are reduced to a *name key*:

1. Unicode NFKD, accents dropped, ``casefold``;
2. split into words on anything that is not a letter or digit (so punctuation,
   brackets, dots and hyphens all separate words: "Otter.ai" -> ``otter ai``);
3. trailing platform noise is dropped, repeatedly, while at least one word remains:
   ``desktop``, ``app``, ``application``, ``beta``, ``x64``, ``x86``, ``arm64``,
   ``64 bit``, ``32 bit``, ``64bit``, ``32bit`` and ``for`` followed by ``windows``,
   ``mac``, ``macos``, ``pc``, ``desktop``, ``android``, ``ios``, ``iphone`` or ``ipad``;
4. the remaining words are joined with no separator, so spacing and punctuation
   never matter ("Rocket.Chat" = "Rocket Chat" = "RocketChat").

Only trailing words are dropped, never leading or inner ones, so "WhatsApp Desktop",
"WhatsApp (64-bit)" and "WhatsApp for Windows" all become ``whatsapp`` while "Microsoft
Teams" stays distinct from "Teams". A name made only of noise ("App") is kept as is.

Hosts (web domains, MX hosts, SPF include hosts) are reduced to a bare lower-case host:
a URL loses its scheme, user, port, path and query; an e-mail address loses its local
part; ``*.`` wildcards, SPF ``include:``/``redirect=`` prefixes and trailing dots go.

Exact identifiers (Android packages, iOS bundle ids, Entra app ids) are compared
case-insensitively; Entra app ids may come wrapped in braces.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from sprawl_audit.parsers.spf import term_host

_WORD = re.compile(r"[^\W_]+")
_PLATFORMS = ("windows", "mac", "macos", "pc", "desktop", "android", "ios", "iphone", "ipad")
#: Trailing word sequences that describe a build of a product, not the product.
NOISE_SUFFIXES: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        [
            ("desktop",), ("app",), ("application",), ("beta",),
            ("x64",), ("x86",), ("arm64",), ("64bit",), ("32bit",),
            ("64", "bit"), ("32", "bit"),
            *(("for", p) for p in _PLATFORMS),
        ],
        key=len,
        reverse=True,
    )
)
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?"
_HOST_OK = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def name_words(value: str) -> list[str]:
    """The words of a product name after folding and trailing-noise removal."""
    folded = unicodedata.normalize("NFKD", value)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).casefold()
    words = _WORD.findall(folded)
    changed = True
    while changed:
        changed = False
        for suffix in NOISE_SUFFIXES:
            n = len(suffix)
            if len(words) > n and tuple(words[-n:]) == suffix:
                del words[-n:]
                changed = True
                break
    return words


def name_key(value: str) -> str:
    """The comparison key of a product name ('' when it has no letters or digits)."""
    return "".join(name_words(value))


def host_key(value: str, *, spf: bool = False) -> str:
    """The bare lower-case host a domain, URL, address or SPF term points at ('' if none)."""
    v = value.strip().casefold()
    if spf:
        v = term_host(v)
    if "://" in v:
        try:
            v = urlsplit(v).hostname or ""
        except ValueError:
            return ""
    else:
        v = v.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        if "@" in v:
            v = v.rsplit("@", 1)[1]
        if v.count(":") == 1:
            v = v.split(":", 1)[0]
    while v.startswith("*."):
        v = v[2:]
    v = v.strip(".")
    return v


def is_valid_host(host: str) -> bool:
    """Whether a normalised host looks like a DNS name (letters, digits, ``-``, ``_``)."""
    return bool(host) and len(host) <= 253 and bool(_HOST_OK.match(host))


def host_suffixes(host: str) -> list[str]:
    """``host`` and each parent domain, longest first: a.b.c -> [a.b.c, b.c, c]."""
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def exact_key(value: str) -> str:
    """Key of an Android package or iOS bundle id: trimmed and case-folded."""
    return value.strip().casefold()


def guid_key(value: str) -> str:
    """Key of an Entra application id: trimmed, braces removed, lower case."""
    return value.strip().strip("{}").strip().casefold()


def is_guid(value: str) -> bool:
    """Whether ``value`` (already a :func:`guid_key`) is a canonical GUID."""
    return bool(_GUID.match(value))
