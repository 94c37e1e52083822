"""Run a portfolio's audits side by side, each in its own process.

A bounded pool of workers (``--workers``) each runs one organisation's ``sprawl-audit
audit`` at a time and waits for it: collection is bound by each tenant's API limits, not
by our CPU, so several run at once. One organisation failing — a wrong secret, a source
down, a config error, a crash or its time limit — never stops the others; it is reported
with its reason. The children record into the one store (``--store``), idempotently.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sprawl_audit.core.atomic import atomic_write_text
from sprawl_audit.core.errors import UserError
from sprawl_audit.portfolio.isolation import (
    OrgPaths,
    base_env,
    child_env,
    org_paths,
    secret_values,
)
from sprawl_audit.portfolio.launch import TIMED_OUT, Launcher, environment, launcher_for
from sprawl_audit.portfolio.spec import OrgSpec, Portfolio

log = logging.getLogger("sprawl_audit.portfolio")

#: How Python starts the report of an exception nothing caught.
_TRACEBACK = "Traceback (most recent call last):"
#: A child's exit code -> the organisation's status.
STATUSES = {0: "ok", 1: "findings", 3: "incomplete", 4: "failed"}


@dataclass(frozen=True)
class RunOptions:
    store: str
    output_dir: Path
    workers: int
    formats: tuple[str, ...] = ("json",)
    fail_on: str | None = None
    fail_on_incomplete: bool = False
    timeout: float | None = None
    redact: bool = False
    extra_args: tuple[str, ...] = ()
    launcher: str = "auto"  # auto (a warm fork server where there is one) or process


@dataclass
class Outcome:
    name: str
    slug: str
    status: str = "pending"  # pending, running, ok, findings, incomplete, failed, error
    exit_code: int | None = None
    reason: str = ""
    seconds: float = 0.0
    findings: dict[str, int] = field(default_factory=dict)
    folder: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"organisation": self.name, "slug": self.slug, "status": self.status,
                "exit_code": self.exit_code, "reason": self.reason,
                "seconds": round(self.seconds, 2), "findings_by_severity": self.findings,
                "folder": self.folder}


def command(org: OrgSpec, paths: OrgPaths, options: RunOptions) -> list[str]:
    """The child's ``sprawl-audit`` arguments (no secret: those go in its environment)."""
    args = ["audit", "--store", options.store,
            "--output-dir", str(paths.output), "-q", "--log-format", "json"]
    for fmt in dict.fromkeys(("json", *options.formats)):
        args += ["-f", fmt]
    if paths.config is not None:
        args += ["-c", str(paths.config)]
    if org.snapshot is not None:
        args += ["--from", str(org.snapshot)]
    else:
        args += ["--state", str(paths.state)]
    if options.fail_on:
        args += ["--fail-on", options.fail_on]
    if options.fail_on_incomplete:
        args.append("--fail-on-incomplete")
    if options.redact:
        args.append("--redact")
    return args + list(options.extra_args)


def _reason(log_text: str, exit_code: int, secrets: Sequence[str]) -> str:
    """The child's last error, from its JSON log lines (its secrets blanked again)."""
    reason = ""
    for line in log_text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and str(entry.get("level")).lower() in ("error", "critical"):
            reason = str(entry.get("message") or entry.get("msg") or "")
    if not reason:
        crash = [line for line in log_text.splitlines() if line and not line[0].isspace()
                 and not line.startswith(("Traceback", "{"))]
        if exit_code == 1 and _TRACEBACK in log_text and crash:
            reason = f"the audit crashed: {crash[-1]}"
    if not reason:
        reason = {0: "exit 0 without a Result (see audit.log)",
                  1: "exit 1 without a Result (see audit.log)",
                  3: "exit 3 without a Result (see audit.log)",
                  2: "the audit refused its input (see audit.log)",
                  -9: "killed"}.get(exit_code, f"exit {exit_code} (see audit.log)")
    for value in secrets:
        reason = reason.replace(value, "***")
    return reason[:400]


def run_one(portfolio: Portfolio, org: OrgSpec, options: RunOptions,
            on_change: Callable[[Outcome], None], launcher: Launcher,
            parent: Mapping[str, str] | None = None) -> Outcome:
    """One organisation's audit; ``parent`` is the environment its secrets are read
    from (default: this process's)."""
    paths = org_paths(options.output_dir, org)
    outcome = Outcome(org.name, org.slug, folder=str(paths.folder))
    started = time.monotonic()
    try:
        paths.output.mkdir(parents=True, exist_ok=True)
        env = child_env(portfolio, org, parent)
        if org.inline is not None and paths.config is not None:
            plain = json.loads(json.dumps(org.inline, default=str))  # located -> plain
            atomic_write_text(paths.config, yaml.safe_dump(plain, sort_keys=False),
                              privacy="owner")
    except (UserError, OSError) as exc:
        outcome.status, outcome.reason = "error", str(exc)[:400]
        on_change(outcome)
        return outcome
    outcome.status = "running"
    on_change(outcome)
    launched = time.time()
    code = launcher.run(command(org, paths, options), env, paths.log, options.timeout)
    outcome.seconds = time.monotonic() - started
    outcome.exit_code = code
    outcome.status = STATUSES.get(code, "error")
    summary = _fresh_summary(paths.output / "sprawl-audit.json", launched)
    try:
        log_text = paths.log.read_text("utf-8", "replace")
    except OSError:  # a launcher that never got as far as its log
        log_text = ""
    crashed = code == 1 and _TRACEBACK in log_text  # Python's exit 1, not findings
    if outcome.status in ("ok", "findings", "incomplete") and (summary is None or crashed):
        outcome.status = "error"  # a verdict needs this run's Result, and no crash
    if code == TIMED_OUT:
        outcome.status, outcome.reason = "error", f"stopped after {options.timeout:g} s"
    elif outcome.status in ("failed", "error", "incomplete"):
        outcome.reason = _reason(log_text, code, secret_values(org, env))
    if summary is not None:
        outcome.findings = dict(summary.get("findings_by_severity") or {})
    on_change(outcome)
    return outcome


def _fresh_summary(result: Path, since: float) -> dict[str, Any] | None:
    """The summary of the Result this run wrote — None when it wrote none (a report left
    by an earlier run is not this run's evidence)."""
    try:
        if result.stat().st_mtime < since - 1:  # some file systems keep whole seconds
            return None
        summary = json.loads(result.read_text("utf-8")).get("summary")
    except (OSError, ValueError, AttributeError):
        return None
    return summary if isinstance(summary, dict) else None


def _guarded(portfolio: Portfolio, org: OrgSpec, options: RunOptions,
             on_change: Callable[[Outcome], None], launcher: Launcher,
             parent: Mapping[str, str]) -> Outcome:
    """:func:`run_one`, whose own failure is this organisation's, never the portfolio's."""
    try:
        return run_one(portfolio, org, options, on_change, launcher, parent)
    except Exception as exc:
        log.exception("organisation %s: the portfolio runner failed", org.name)
        outcome = Outcome(org.name, org.slug, status="error",
                          reason=f"{type(exc).__name__}: {exc}"[:400])
        on_change(outcome)
        return outcome


def run_portfolio(portfolio: Portfolio, organisations: Sequence[OrgSpec], options: RunOptions,
                  on_change: Callable[[Outcome], None]) -> list[Outcome]:
    """Every organisation's audit, at most ``options.workers`` at once, in file order.

    While they run, this process's own environment holds no organisation's secret (each
    is read from a copy taken first): whatever it starts — the fork server, or the fork
    server again should it die — starts without them.
    """
    parent = dict(os.environ)
    base = base_env(portfolio, parent)
    with environment(base):
        launcher = launcher_for(base, options.launcher)
        log.debug("portfolio: each audit starts as %s", launcher.name)
        with ThreadPoolExecutor(max_workers=options.workers,
                                thread_name_prefix="portfolio") as pool:
            futures = [pool.submit(_guarded, portfolio, org, options, on_change, launcher,
                                   parent) for org in organisations]
            return [f.result() for f in futures]


def exit_code(outcomes: Sequence[Outcome], fail_on: str | None,
              fail_on_incomplete: bool) -> int:
    """As one audit's: a failed organisation (4) wins, then findings at or above
    ``--fail-on`` (1), then incompleteness with ``--fail-on-incomplete`` (3)."""
    if any(o.status in ("failed", "error") for o in outcomes):
        return 4
    if fail_on and any(o.status == "findings" for o in outcomes):
        return 1
    if fail_on_incomplete and any(o.status == "incomplete" for o in outcomes):
        return 3
    return 0
