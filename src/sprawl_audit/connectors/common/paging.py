"""A guard for "next page" links, shared by every connector that follows them.

A service that hands back a link it already gave (the same link again, or a cycle
A→B→A) would otherwise be followed for ever: Microsoft Graph paging had no such check,
and one repeating ``@odata.nextLink`` made 47,000 requests in 45 s while memory grew. The
guard ends the read with :class:`PagingError`, which connectors report as a coverage
``error`` naming the collection, so the audit says the read is incomplete instead of
hanging or looking complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Pages of one collection before the read is declared runaway. Graph's largest
#: collections (users of a 200,000-seat tenant at 999 a page) stay far below it.
DEFAULT_MAX_PAGES = 10_000


class PagingError(Exception):
    """A paged read was stopped: a link repeated, or there were more pages than the cap."""


@dataclass
class LinkGuard:
    """Remembers the links one paged read has followed; refuses a repeat or page ``max_pages + 1``.

    ``what`` names the collection in the error (never the link itself: links can carry
    tokens or pre-authenticated signatures).
    """

    what: str
    max_pages: int = DEFAULT_MAX_PAGES
    pages: int = 0
    _seen: set[str] = field(default_factory=set, repr=False)

    def follow(self, link: str) -> str:
        """Record ``link`` as the next page to read and return it, or raise PagingError."""
        if link in self._seen:
            pages = f"{self.pages} page" + ("" if self.pages == 1 else "s")
            raise PagingError(f"{self.what}: the service returned a next-page link it had "
                              f"already given (after {pages}); stopped so as not to loop "
                              "— the collection was not read in full")
        if self.pages >= self.max_pages:
            raise PagingError(f"{self.what}: more than {self.max_pages} pages; stopped at "
                              "the page cap — the collection was not read in full")
        self._seen.add(link)
        self.pages += 1
        return link
