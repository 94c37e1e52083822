"""Tolerant readers of the untyped Result, without any rendering library.

The report formats read the Result through :mod:`.typed_view`, which parses it once, with
these readers, into the frozen objects every format renders (and which owns order,
grouping and display names). What stays here is what the typed view and the graph
exports (:mod:`.result_graph`, :mod:`.html_graph`, which walk the Result as a graph) both
need: reading a list, a count, a share or a section of the dict, platform names by id,
and the notices (INCOMPLETE, baseline) shown above every report. Nothing here escapes
text — each format escapes for its own medium.

A Result passed here is schema-valid, but every accessor still tolerates a missing or
mistyped part (a newer minor version, a hand-edited file): a report with a gap is more
useful than a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sprawl_audit.report.formats.sanitize import cell

Result = Mapping[str, Any]
Item = Mapping[str, Any]


def items(container: Any, key: str) -> list[Item]:
    """``container[key]`` when it is a list, keeping only its mappings; else ``[]``."""
    value = container.get(key) if isinstance(container, Mapping) else None
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def strings(value: Any) -> list[str]:
    """A list of strings (non-strings skipped); anything else gives ``[]``."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def count(value: Any) -> int:
    """An integer count; booleans, ``None`` and anything else count as 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def ratio(value: Any) -> float:
    try:
        return float(value) if not isinstance(value, bool) else 0.0
    except (TypeError, ValueError):
        return 0.0


def section(result: Result, key: str) -> Mapping[str, Any]:
    value = result.get(key)
    return value if isinstance(value, Mapping) else {}




def platform_names(result: Result) -> dict[str, str]:
    """Platform id -> display name (raw): sections that carry only ids show names."""
    names: dict[str, str] = {}
    for platform in items(result, "platforms"):
        pid = str(platform.get("id", ""))
        name = platform.get("name")
        names[pid] = name if isinstance(name, str) and cell(name) else pid
    return names






























def incomplete_notice(result: Result) -> str | None:
    """"INCOMPLETE: 1 source collected nothing: m365 (error: …)…" when a configured
    source collected nothing (raw text), else ``None``. Derived from coverage, so a
    Result saved before the ``incomplete`` key existed says it too."""
    from sprawl_audit.report.gaps import incomplete_message, result_failed_sources

    sources = result_failed_sources(result)
    return incomplete_message(sources) if sources else None


def baseline_notice(result: Result) -> str | None:
    """"N known findings hidden by the baseline (file, date)" for an ``audit --baseline``
    Result (raw text), else ``None``."""
    base = section(result, "baseline")
    if not base:
        return None
    message = base.get("message")
    if isinstance(message, str) and message:
        return message
    from sprawl_audit.report.recount import baseline_message

    date = base.get("date")
    return baseline_message(count(base.get("known")), base.get("file") or None,
                            date if isinstance(date, str) else None)


def notices(result: Result) -> list[tuple[str, str]]:
    """``[(kind, text)]`` to show above a report: ``incomplete`` first, then
    ``baseline`` (raw text; each format escapes it)."""
    out = []
    for kind, text in (("incomplete", incomplete_notice(result)),
                       ("baseline", baseline_notice(result))):
        if text:
            out.append((kind, text))
    return out


def no_findings_text(result: Result) -> str:
    """What an empty findings section says: "No findings." — unless a baseline hid some
    (then how many, from which baseline) or a source collected nothing."""
    parts = []
    hidden = baseline_notice(result)
    parts.append("No new findings; " + hidden + "." if hidden else "No findings.")
    if incomplete_notice(result):
        parts.append("The audit is INCOMPLETE: sources that collected nothing are named "
                     "above.")
    return " ".join(parts)
