"""Read a Result the way every report format needs it, without any rendering library.

Every format shares these, so they agree on order and grouping: findings worst first and
grouped by rule, platform names looked up by id, overlap counted the same way. The HTML,
Markdown and SARIF reports read the Result only through :mod:`.typed_view`, which parses
it once, with these accessors, into frozen dataclasses; the terminal report
(:mod:`.rich_sections`) and the table formats (CSV, XLSX) still call them on the dict.
Nothing here escapes text — each format escapes for its own medium.

A Result passed here is schema-valid, but every accessor still tolerates a missing or
mistyped part (a newer minor version, a hand-edited file): a report with a gap is more
useful than a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sprawl_audit.report.formats.labels import SEVERITY_ORDER, severity_rank
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


def organisation_name(result: Result) -> str:
    """The organisation's name (raw, unescaped), or a neutral placeholder."""
    organisation = section(section(result, "run"), "organisation")
    name = organisation.get("name")
    return name if isinstance(name, str) and cell(name) else "Unnamed organisation"


def platform_names(result: Result) -> dict[str, str]:
    """Platform id -> display name (raw): sections that carry only ids show names."""
    names: dict[str, str] = {}
    for platform in items(result, "platforms"):
        pid = str(platform.get("id", ""))
        name = platform.get("name")
        names[pid] = name if isinstance(name, str) and cell(name) else pid
    return names


def severity_counts(result: Result) -> dict[str, int]:
    """Findings per severity: the summary's counts, else counted (unsuppressed only)."""
    given = section(result, "summary").get("findings_by_severity")
    if isinstance(given, Mapping):
        return {sev: count(given.get(sev)) for sev in SEVERITY_ORDER}
    counts = dict.fromkeys(SEVERITY_ORDER, 0)
    for finding in items(result, "findings"):
        if not finding.get("suppressed") and finding.get("severity") in counts:
            counts[str(finding["severity"])] += 1
    return counts


def sorted_findings(result: Result) -> list[Item]:
    """Findings worst first, then by rule id and subject (the Result's documented order)."""
    return sorted(
        items(result, "findings"),
        key=lambda f: (severity_rank(str(f.get("severity"))), str(f.get("rule_id")),
                       str(section(f, "subject").get("name"))),
    )


def findings_by_severity(findings: Sequence[Item]) -> list[tuple[str, list[list[Item]]]]:
    """``[(severity, [findings of one rule, ...]), ...]``, worst severity first.

    Within a severity, rules keep the order of their first finding; severities the Result
    does not know are gathered last under ``"other"``.
    """
    known = set(SEVERITY_ORDER)
    out: list[tuple[str, list[list[Item]]]] = []
    for severity in (*SEVERITY_ORDER, "other"):
        bucket = [f for f in findings
                  if (f.get("severity") == severity if severity != "other"
                      else f.get("severity") not in known)]
        if not bucket:
            continue
        by_rule: dict[str, list[Item]] = {}
        for finding in bucket:
            by_rule.setdefault(str(finding.get("rule_id")), []).append(finding)
        out.append((severity, list(by_rule.values())))
    return out


def suppression_note(finding: Item) -> str:
    """Why a suppressed finding was suppressed, when the Result says; raw text."""
    detail = finding.get("suppression")
    if isinstance(detail, Mapping):
        for key in ("rationale", "justification", "reason", "comment"):
            value = detail.get(key)
            if isinstance(value, str) and value.strip():
                return value
    return "suppressed in the audit configuration"


def overlapping_capabilities(result: Result) -> list[Item]:
    """Capabilities with two or more platforms in active use, most overlapping users first."""
    caps = [c for c in items(result, "capabilities")
            if len([p for p in items(c, "platforms") if count(p.get("active_users"))]) >= 2]
    return sorted(caps, key=lambda c: -count(c.get("overlapping_users")))


def top_pairs(result: Result, limit: int = 10) -> list[tuple[str, Item]]:
    """The pairs of platforms sharing most people, over all capabilities: (capability, pair).

    A pair that overlaps in several capabilities is listed once, under the capability
    where it shares most people.
    """
    best: dict[tuple[str, str], tuple[str, Item]] = {}
    for cap in items(result, "capabilities"):
        for pair in items(cap, "pairs"):
            a, b = str(pair.get("a")), str(pair.get("b"))
            key = (min(a, b), max(a, b))
            current = best.get(key)
            if current is None or count(pair.get("shared")) > count(current[1].get("shared")):
                best[key] = (str(cap.get("name")), pair)
    ranked = sorted(best.values(),
                    key=lambda cp: (-count(cp[1].get("shared")), -ratio(cp[1].get("jaccard")),
                                    str(cp[1].get("a")), str(cp[1].get("b"))))
    return ranked[:limit]


def exposed_departments(result: Result) -> list[Item]:
    """Departments whose staff use consumer apps, highest share first."""
    return sorted(
        (d for d in items(result, "departments") if count(d.get("consumer_app_users"))),
        key=lambda d: (-ratio(d.get("consumer_exposure")), -count(d.get("consumer_app_users"))),
    )


def rules_with_status(result: Result, status: str) -> list[Item]:
    return [r for r in items(result, "rules") if r.get("status") == status]


def frameworks(result: Result) -> list[Item]:
    """The optional compliance view: ``[{id, name, version, ..., controls: [...]}]``."""
    return items(result, "frameworks")


def control_id(control: Item) -> Any:
    """A control's id (``id``; ``control`` in early drafts of the compliance view)."""
    return control.get("id") if control.get("id") is not None else control.get("control")


def control_rules(control: Item) -> list[str]:
    """Ids of the rules citing a control (entries are ``{id, status, findings}`` or ids)."""
    out: list[str] = []
    entries = control.get("rules")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
            out.append(entry["id"])
        elif isinstance(entry, str):
            out.append(entry)
    return out


def control_tally(framework: Item) -> dict[str, int]:
    """Controls per status: the framework's ``summary`` when given, else counted."""
    given = framework.get("summary")
    if isinstance(given, Mapping):
        return {str(k): count(v) for k, v in given.items()}
    tally: dict[str, int] = {}
    for control in items(framework, "controls"):
        status = str(control.get("status", "unknown"))
        tally[status] = tally.get(status, 0) + 1
    return tally


def people_platform_pairs(result: Result) -> list[tuple[str, str, str]]:
    """``(person, department, platform id)`` per active use, sorted; raw strings."""
    rows: list[tuple[str, str, str]] = []
    for person in items(result, "people"):
        pid = str(person.get("id", ""))
        department = person.get("department")
        dept = department if isinstance(department, str) else ""
        for platform in strings(person.get("platforms")):
            rows.append((pid, dept, platform))
    return sorted(rows)


def references_text(refs: Any) -> list[str]:
    """``framework:control`` per reference (raw strings)."""
    out = []
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, Mapping):
            out.append(f"{ref.get('framework', '')}:{ref.get('control', '')}")
    return out


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
