"""Small helpers for Microsoft Graph response shapes.

Graph returns collections as pages: ``{"value": [...], "@odata.nextLink": "..."}``. The
client follows the links; transforms take the pages (or already flattened items) so the
demo tenant, stored page by page as Graph returns it, runs through the same code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

Item = Mapping[str, Any]


def iter_values(pages: Iterable[Item]) -> Iterator[Item]:
    """Yield the items of Graph collection pages in order (pages without ``value`` add none)."""
    for page in pages:
        values = page.get("value")
        if isinstance(values, list):
            for item in values:
                if isinstance(item, Mapping):
                    yield item


def text(item: Item, key: str) -> str:
    """A string property, or "" when absent or null (Graph sends null for unset values)."""
    value = item.get(key)
    return value if isinstance(value, str) else ""


def domain_of(address: str) -> str:
    """Lower-case domain part of an email address or UPN ("" when there is none)."""
    _, at, domain = address.strip().rpartition("@")
    return domain.lower().rstrip(".") if at else ""


def is_internal(domain: str, org_domains: Iterable[str]) -> bool:
    """True when ``domain`` is one of the organisation's domains or a subdomain of one."""
    domain = domain.lower()
    for own in org_domains:
        own = own.lower()
        if domain == own or domain.endswith("." + own):
            return True
    return False
