"""One ranking of coverage statuses for every connector.

A topic read by several calls (Google feeds, Slack workspaces) that all failed reports one
status. Google and Slack used to pick it in opposite orders, so the same two failures
read "forbidden" from one source and "error" from the other. ``error`` ranks first: it
says nothing is known (the failure may hide a permission problem too), whereas
``forbidden`` and ``unavailable`` are definite answers about one call.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Worst first. Statuses not listed (``collected``, ``partial``) are not failures.
FAILURE_ORDER: tuple[str, ...] = ("error", "forbidden", "unavailable", "not_configured")


def worst_failure(statuses: Iterable[str], default: str = "error") -> str:
    """The highest-ranked failure among ``statuses``; ``default`` when none is ranked."""
    present = set(statuses)
    return next((s for s in FAILURE_ORDER if s in present), default)
