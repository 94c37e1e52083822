"""Registrable domains from the Public Suffix List.

Telling one organisation's names apart from another's needs to know where registrations
are made: ``spf.health.gov.au`` belongs to ``health.gov.au`` (``gov.au`` is a suffix),
``eu._netblocks.mimecast.com`` to ``mimecast.com``. A hand-kept list of second-level
suffixes got the first wrong (it knew ``com.au`` but not ``gov.au``) and every list of
that kind falls behind; the Public Suffix List is what browsers and DMARC (RFC 7489 §3.2)
use. ``publicsuffixlist`` ships a snapshot of it in the wheel and only ever reads that
file unless asked to update, so no audit fetches anything.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from publicsuffixlist import PublicSuffixList


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    """The bundled list, read once (parsing it takes a few milliseconds)."""
    return PublicSuffixList()


@lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str:
    """The registrable domain of ``host`` (``spf.health.gov.au`` → ``health.gov.au``);
    the host itself when it is a public suffix, an address, or has one label."""
    name = host.strip().lower().rstrip(".")
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        return name
    return _psl().privatesuffix(name) or name
