"""Progress of a portfolio run: a live table on a terminal, JSON log lines otherwise
(one ``organisation_started`` and one ``organisation_finished`` event per organisation,
with its status, exit code, reason and seconds)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from sprawl_audit.core.sanitize import cell
from sprawl_audit.portfolio.runner import Outcome

log = logging.getLogger("sprawl_audit.portfolio")

_STYLES = {"ok": "green", "findings": "yellow", "incomplete": "yellow", "failed": "red",
           "error": "red", "running": "cyan", "pending": "dim"}


def outcome_table(outcomes: Sequence[Outcome]) -> Table:
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for header in ("Organisation", "Status", "Exit", "Critical", "High", "Seconds", "Reason"):
        table.add_column(header, overflow="fold")
    for o in outcomes:
        table.add_row(Text(cell(o.name, 40)), Text(o.status, style=_STYLES.get(o.status, "")),
                      "" if o.exit_code is None else str(o.exit_code),
                      str(o.findings.get("critical", "")), str(o.findings.get("high", "")),
                      f"{o.seconds:.0f}" if o.seconds else "", Text(cell(o.reason, 160)))
    return table


class Progress:
    """Receives every change of an organisation's outcome (from worker threads)."""

    def __init__(self, names: Sequence[tuple[str, str]], *, live: bool,
                 console: Console | None = None) -> None:
        self.outcomes = {slug: Outcome(name, slug) for name, slug in names}
        self._lock = threading.Lock()
        self._live: Live | None = None
        if live:
            self._live = Live(outcome_table(list(self.outcomes.values())),
                              console=console or Console(stderr=True), transient=False,
                              refresh_per_second=4)

    def __enter__(self) -> Progress:
        if self._live:
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live:
            self._live.__exit__(*exc)

    def __call__(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes[outcome.slug] = outcome
            if self._live:
                self._live.update(outcome_table(list(self.outcomes.values())))
        if outcome.status == "running":
            log.info("organisation %s started", outcome.name,
                     extra={"event": "organisation_started", "organisation": outcome.name})
        elif outcome.status != "pending":
            level = logging.ERROR if outcome.status in ("failed", "error") else logging.INFO
            log.log(level, "organisation %s finished: %s%s", outcome.name, outcome.status,
                    f" ({outcome.reason})" if outcome.reason else "",
                    extra={"event": "organisation_finished", **outcome.to_dict()})
