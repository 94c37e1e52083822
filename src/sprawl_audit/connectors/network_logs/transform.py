"""Aggregated log sightings → Observation records: the transform step.

One :class:`~sprawl_audit.core.model.Observation` per (user, catalogued product) per log file:
the product is named by the host seen most often (``AppRef("domain", host)``), so
resolution treats ``web.whatsapp.com`` in a proxy log exactly like ``com.whatsapp`` on a
phone or "WhatsApp" in an interview — one platform, one more source. The note carries
the count, first and last time, blocked requests and the hosts, for the evidence trail.
Requests nobody could be identified for become one Observation per product with no
person: the product was used, by someone.

Hosts no catalogue entry claims are counted in the coverage detail and nothing else; a
proxy log names thousands of ordinary web sites, and they are not communication platforms.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sprawl_audit.connectors.interface import coverage
from sprawl_audit.connectors.network_logs.reader import LogSummary, Sighting
from sprawl_audit.core.instants import format_instant
from sprawl_audit.core.model import AppRef, InventoryBuilder, Observation, SourceRef

TOPIC = "network.logs"


def _note(s: Sighting) -> str:
    hosts = ", ".join(sorted(s.hosts, key=lambda h: (-s.hosts[h], h))[:5])
    more = len(s.hosts) - 5
    if more > 0:
        hosts += f" and {more} more"
    parts = [f"{s.count} request{'s' if s.count != 1 else ''} to {hosts}",
             f"first {format_instant(s.first)}, last {format_instant(s.last)}"]
    if s.blocked:
        parts.append(f"{s.blocked} blocked")
    if s.bytes:
        parts.append(f"{s.bytes} bytes")
    return "; ".join(parts)


def observations(summary: LogSummary, *, connector: str = "network_logs") -> list[Observation]:
    """The sightings of one log as Observations, ordered by product then user."""
    source = SourceRef(connector, TOPIC, Path(summary.path).name)
    out = []
    for (_user, _slug), s in sorted(summary.sightings.items(),
                                    key=lambda kv: (kv[0][1], kv[0][0] or "")):
        host = s.top_host
        out.append(Observation(
            platform=AppRef("domain", host, host),
            person=s.user,
            note=_note(s),
            last_seen=format_instant(s.last),
            source=source,
        ))
    return out


def transform_network_logs(
    summaries: Iterable[LogSummary], *, connector: str = "network_logs"
) -> InventoryBuilder:
    """Observations of every log; one ``network.logs`` coverage entry with the counts."""
    out = InventoryBuilder()
    parts: list[str] = []
    for summary in summaries:
        obs = observations(summary, connector=connector)
        out.observations.extend(obs)
        products = len({slug for _u, slug in summary.sightings})
        users = len({u for u, _s in summary.sightings if u})
        parts.append(
            f"{Path(summary.path).name}: {summary.rows} rows, {products} catalogued products "
            f"seen by {users} users; {summary.unknown_requests} requests to "
            f"{summary.unknown_hosts} hosts not in the catalogue (counted, not platforms)"
            + (f"; {summary.no_host} rows without a host" if summary.no_host else "")
        )
    if not parts:
        out.coverage.append(coverage(connector, TOPIC, "not_configured",
                                     "no network log imports listed"))
        return out
    out.coverage.append(coverage(connector, TOPIC, "collected", "; ".join(parts),
                                 len(out.observations)))
    return out
