"""Microsoft 365 usage reports → Usage records.

Sources (CSV, downloaded from the redirect Graph answers with; UTF-8 with a BOM):

* ``GET /reports/getTeamsUserActivityUserDetail(period='D30')`` — columns include
  "Report Refresh Date", "User Principal Name", "Last Activity Date", "Is Deleted",
  "Team Chat Message Count", "Private Chat Message Count", "Call Count",
  "Meeting Count", "Report Period".
* ``GET /reports/getEmailActivityUserDetail(period='D30')`` — "User Principal Name",
  "Last Activity Date", "Is Deleted", "Send Count", "Receive Count", "Read Count".

Since 2021 tenants conceal user names in reports by default: the UPN column then holds
an opaque hex hash, which cannot be joined to the directory. Such rows yield no Usage, and
the coverage says so (partial) with the setting to change, rather than silently reporting
nobody as active. A row with no activity date and no counts is a licensed user who did
nothing; it yields no Usage either, so "users" means people seen using the product.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass

from sprawl_audit.connectors.interface import coverage
from sprawl_audit.connectors.m365.transform.directory import EXCHANGE, TEAMS
from sprawl_audit.core.model import AppRef, Coverage, InventoryBuilder, SourceRef, Usage

TEAMS_COUNTS: Mapping[str, str] = {
    "Team Chat Message Count": "team_chat_messages",
    "Private Chat Message Count": "private_chat_messages",
    "Call Count": "calls",
    "Meeting Count": "meetings",
}
EMAIL_COUNTS: Mapping[str, str] = {
    "Send Count": "sent",
    "Receive Count": "received",
    "Read Count": "read",
}
CONCEALED_HINT = (
    "turn off 'Display concealed user, group, and site names in all reports' "
    "(Microsoft 365 admin centre > Settings > Org settings > Reports)"
)
_HASH = re.compile(r"[0-9A-Fa-f]{16,}")


def read_report_csv(text: str) -> list[dict[str, str]]:
    """Parse a usage report (BOM tolerated) into rows keyed by column title."""
    return read_report_rows(text)[0]


def read_report_rows(text: str) -> tuple[list[dict[str, str]], int]:
    """(the rows of a usage report, how many lines could not be parsed).

    Python's csv module raises on a line it cannot read (a field over its 128 KiB limit,
    say), which would lose the whole report; such a line is skipped and counted instead,
    and the reader carries on with the next one.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    rows: list[dict[str, str]] = []
    unreadable = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return rows, unreadable
        except csv.Error:
            unreadable += 1
            continue
        rows.append(row)


def is_concealed(upn: str) -> bool:
    """True for a concealed report name: a hex hash where a UPN should be."""
    upn = upn.strip()
    return bool(upn) and "@" not in upn and bool(_HASH.fullmatch(upn))


@dataclass
class ReportStats:
    """What one report held, for the coverage detail."""

    name: str
    rows: int = 0
    usages: int = 0
    concealed: int = 0
    refreshed: str = ""
    period: str = ""
    unreadable: int = 0


def _count(value: str | None) -> int:
    """A count cell as an int; 0 for text, NaN or infinity ("1e999" overflows int())."""
    try:
        return int(float(value or 0))
    except (ValueError, OverflowError, TypeError):
        return 0


def usages_from_report(
    rows: list[dict[str, str]],
    platform: AppRef,
    counts: Mapping[str, str],
    *,
    name: str,
    connector: str = "m365",
) -> tuple[list[Usage], ReportStats]:
    """Turn one report's rows into Usage records for ``platform``."""
    stats = ReportStats(name)
    source = SourceRef(connector, "activity.usage", name)
    out: list[Usage] = []
    for row in rows:
        stats.rows += 1
        stats.refreshed = stats.refreshed or (row.get("Report Refresh Date") or "")
        stats.period = stats.period or (row.get("Report Period") or "")
        if (row.get("Is Deleted") or "").strip().lower() == "true":
            continue
        upn = (row.get("User Principal Name") or "").strip()
        activity = {key: _count(row.get(col)) for col, key in counts.items()}
        last = (row.get("Last Activity Date") or "").strip() or None
        if last is None and not any(activity.values()):
            continue
        if is_concealed(upn):
            stats.concealed += 1
            continue
        if not upn:
            continue
        out.append(Usage(upn.lower(), platform, last, activity, source))
        stats.usages += 1
    return out, stats


def _report_coverage(connector: str, stats: list[ReportStats], missing: list[str]) -> Coverage:
    parts = []
    for s in stats:
        when = f", refreshed {s.refreshed}" if s.refreshed else ""
        period = f", {s.period} days" if s.period else ""
        parts.append(f"{s.name}: {s.usages} active people{period}{when}")
    concealed = [s for s in stats if s.concealed]
    for s in concealed:
        parts.append(
            f"{s.name} conceals user names ({s.concealed} active rows hashed), "
            f"so per-person usage is missing; {CONCEALED_HINT}"
        )
    parts.extend(f"{m} report not given" for m in missing)
    unreadable = [s for s in stats if s.unreadable]
    parts.extend(f"{s.name}: {s.unreadable} unreadable lines skipped" for s in unreadable)
    status = "partial" if concealed or missing or unreadable else "collected"
    if not stats:
        status = "unavailable"
    return coverage(
        connector, "activity.usage", status, "; ".join(parts), sum(s.usages for s in stats)
    )


def transform_activity_reports(
    teams_csv: str | None, email_csv: str | None, *, connector: str = "m365"
) -> InventoryBuilder:
    """Usage for Teams and Exchange Online from the two D30 user-detail reports.

    Either report may be None (not fetched); coverage ``activity.usage`` is then partial.
    """
    out = InventoryBuilder()
    stats: list[ReportStats] = []
    missing: list[str] = []
    for text, platform, counts, name in (
        (teams_csv, TEAMS, TEAMS_COUNTS, "Teams user activity"),
        (email_csv, EXCHANGE, EMAIL_COUNTS, "Email activity"),
    ):
        if text is None:
            missing.append(name)
            continue
        rows, unreadable = read_report_rows(text)
        usages, st = usages_from_report(rows, platform, counts, name=name, connector=connector)
        st.unreadable = unreadable
        out.usages.extend(usages)
        stats.append(st)
    out.coverage.append(_report_coverage(connector, stats, missing))
    return out
