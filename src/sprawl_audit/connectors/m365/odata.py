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


def text(item: Any, key: str) -> str:
    """A string property, or "" when absent or null (Graph sends null for unset values).

    ``item`` may be anything a damaged payload holds where an object belongs (a string,
    a number, null): that reads as "" rather than raising, so one bad item cannot lose
    its page.
    """
    value = item.get(key) if isinstance(item, Mapping) else None
    return value if isinstance(value, str) else ""


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else [] (null, a string or a number where Graph
    documents a collection is read as empty, not iterated character by character)."""
    return value if isinstance(value, list) else []


def mappings(items: Any) -> tuple[list[Item], int]:
    """(the object items of a collection, how many items were not objects).

    Transforms take already flattened items; an item that is not an object is skipped
    and counted so the topic's coverage can say so (:func:`note_malformed`).
    """
    if isinstance(items, Mapping) or isinstance(items, (str, bytes)) or items is None:
        return [], 0 if items is None else 1
    try:
        listed = list(items)
    except TypeError:
        return [], 1
    good = [i for i in listed if isinstance(i, Mapping)]
    return good, len(listed) - len(good)


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
