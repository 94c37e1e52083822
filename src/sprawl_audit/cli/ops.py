"""Command-line wiring for scheduled use: suppressions, baseline, history, redaction, logs.

``cli.py`` adds :func:`add_audit_options` to ``audit``/``demo``, calls
:func:`resolve_ops` before collecting (so a bad suppressions file, baseline or missing
redaction key fails before any API call), :func:`post_process` on the Result before
rendering, and :func:`register` to add the ``diff`` and ``history`` commands.

The order inside :func:`post_process` matters:

1. **suppress** — marks accepted findings; the summary is recounted;
2. **match the baseline** — which findings the baseline already has (before redaction,
   so an unredacted baseline still matches; redacted fingerprints are matched too);
3. **redact** — after suppression and matching, which need the real identifiers
   (a suppression may name ``phone:+44…``), and before anything is written;
4. **mark an incomplete audit** (``incomplete``: the sources that collected nothing,
   :mod:`sprawl_audit.report.gaps`) — after redaction, since a reason can quote an address;
5. **record in history** — the full Result (every finding, suppressed ones marked),
   redacted when ``--redact`` is given, so no personal data reaches the database the
   operator asked to keep out of reports, and trends count all open findings even in
   ``--baseline`` runs;
6. **drop baseline findings** — only what is new reaches the report, JSON, SARIF and
   ``--fail-on``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from sprawl_audit.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    branding_options,
    file_mode_option,
    limit_option,
    log_format_option,
    redact_options,
    rerender_options,
    severity_choice,
    stack,
    text_or_json_option,
    user_errors,
)
from sprawl_audit.core.atomic import Privacy
from sprawl_audit.core.errors import UserError

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("sprawl_audit")

#: The keyword arguments :func:`add_audit_options` adds to a command.
OPS_KEYS = ("suppressions", "baseline", "history", "no_history", "redact", "redact_key_env",
            "redaction_map", "log_format", "file_mode")

_history_option = click.option(
    "--store", "--history", "history_path", envvar=["SPRAWL_AUDIT_STORE", "SPRAWL_AUDIT_HISTORY"],
    help="The audit store: a SQLite file (a path or sqlite:///PATH; default: in your user "
         "data directory) or postgresql://… (SPRAWL_AUDIT_STORE).")
_config_option = click.option(
    "-c", "--config", "config_path", type=click.Path(dir_okay=False),
    envvar="SPRAWL_AUDIT_CONFIG", help="Config file (for audit.history).")


_user_errors = user_errors


# -- audit / demo options -----------------------------------------------------------------

_audit_ops_options = stack(
    click.option("--suppressions", type=click.Path(dir_okay=False),
                 envvar="SPRAWL_AUDIT_SUPPRESSIONS",
                 help="Suppressions file (YAML): accepted findings with a rationale and "
                      "an optional expiry."),
    click.option("--baseline", type=click.Path(dir_okay=False), envvar="SPRAWL_AUDIT_BASELINE",
                 help="A previous Result JSON: report (and --fail-on) only findings not in "
                      "it."),
    click.option("--store", "--history", "history",
                 envvar=["SPRAWL_AUDIT_STORE", "SPRAWL_AUDIT_HISTORY"],
                 help="Record the audit in this store: a SQLite file (a path or "
                      "sqlite:///PATH; default: in your user data directory; demo runs only "
                      "when given) or postgresql://… (SPRAWL_AUDIT_STORE)."),
    click.option("--no-history", is_flag=True, envvar="SPRAWL_AUDIT_NO_HISTORY",
                 help="Do not record the audit in the history database."),
    redact_options,
    log_format_option,
    file_mode_option,
)


def add_audit_options(func: F) -> F:
    """Add ``--suppressions --baseline --history --no-history --redact --redact-key-env
    --log-format --file-mode`` to an audit-like command (keyword arguments:
    :data:`OPS_KEYS`)."""
    decorated: F = _audit_ops_options(func)
    return decorated


@dataclass(frozen=True)
class OpsOptions:
    """The resolved scheduled-run options (flags > SPRAWL_AUDIT_* env > config)."""

    suppressions: Any = None  # suppress.SuppressionSet
    baseline: Mapping[str, Any] | None = None
    baseline_path: str | None = None
    history: Any = None  # store.interface.Store
    redactor: Any = None  # redact.Redactor
    redaction_map: str | None = None  # --redaction-map FILE
    log_format: str = "text"
    today: date = field(default_factory=date.today)


def resolve_ops(ops: Mapping[str, Any], config: Any, *, demo: bool = False,
                today: date | None = None) -> OpsOptions:
    """Check and load everything the options name, before any collection starts.

    ``config`` is the loaded :class:`~sprawl_audit.config.Config` (its
    ``audit.suppressions`` / ``audit.history`` apply when no flag or variable is given).
    Demo runs are recorded in history only when a history path is given explicitly.
    """
    from sprawl_audit.core.atomic import set_file_mode
    from sprawl_audit.core.logsetup import resolve_log_format
    from sprawl_audit.store.backend import resolve_store

    unknown = set(ops) - set(OPS_KEYS)
    if unknown:
        raise TypeError(f"unexpected options: {', '.join(sorted(unknown))}")
    set_file_mode(ops.get("file_mode"))
    suppressions = None
    sup_path = ops.get("suppressions") or getattr(config, "suppressions", None)
    if sup_path:
        from sprawl_audit.store.suppress import load_suppressions

        suppressions = load_suppressions(sup_path)
    baseline, baseline_path = None, ops.get("baseline")
    if baseline_path:
        from sprawl_audit.report.formats.schema import load_result

        baseline = load_result(baseline_path)
    redactor = None
    if ops.get("redact"):
        from sprawl_audit.store.redact import KEY_ENV, Redactor

        redactor = Redactor.from_env(ops.get("redact_key_env") or KEY_ENV)
    redaction_map = redaction_map_path(ops.get("redaction_map"), bool(ops.get("redact")))
    store = resolve_store(None, ops.get("history"), config,
                          no_history=bool(ops.get("no_history")), demo=demo)
    if store is not None:
        store.prepare()
    return OpsOptions(suppressions=suppressions, baseline=baseline,
                      baseline_path=baseline_path, history=store, redactor=redactor,
                      redaction_map=redaction_map,
                      log_format=resolve_log_format(ops.get("log_format")),
                      today=today or date.today())


def post_process(result: Mapping[str, Any], options: OpsOptions) -> dict[str, Any]:
    """Suppress, match the baseline, redact, record in history, drop baseline findings.

    See the module docstring for why in this order. Returns the Result to render and to
    compute the exit code from; the input is not modified.
    """
    from sprawl_audit.report.gaps import with_incomplete
    from sprawl_audit.store import drift, suppress

    plan = options.redactor.plan(result) if options.redactor is not None else None
    alias = plan.fingerprint if plan is not None else None
    out = dict(result)
    if options.suppressions is not None:
        out = suppress.apply_to_result(out, options.suppressions, options.today, alias=alias)
    match = None
    if options.baseline is not None:
        match = drift.match_baseline(out, options.baseline, alias=alias)
        for note in drift.baseline_notes(options.baseline, result):
            log.warning("baseline %s: %s", options.baseline_path, note)
    if plan is not None:
        out = plan.apply(out)
        if options.redaction_map:
            write_redaction_map(options.redactor, options.redaction_map, out)
    out = with_incomplete(out)  # INCOMPLETE + failed sources, in the JSON and history
    if options.history is not None:
        options.history.store(out)
    if options.baseline is not None:
        out = drift.apply_baseline(out, options.baseline, source=options.baseline_path,
                                   match=match)
        log.info("baseline %s: %s; %d new, %d resolved, %d not re-checked",
                 options.baseline_path, out["baseline"]["message"], len(out["findings"]),
                 out["baseline"]["resolved"], out["baseline"]["not_rechecked"])
    return out


def write_snapshot(inventory: Any, path: str, options: OpsOptions, *,
                   privacy: Privacy = "personal") -> None:
    """``--save-snapshot``: the inventory, redacted when ``--redact`` is given."""
    if options.redactor is not None:
        options.redactor.write_snapshot(inventory, path, privacy=privacy)
    else:
        from sprawl_audit.inventory.snapshot import write_snapshot as plain

        plain(inventory, path, privacy=privacy)


# -- report --redact ----------------------------------------------------------------------

def add_report_options(func: F) -> F:
    """``-f -o --output-dir -q -v`` (:data:`~.common.rerender_options`) and ``--redact
    --redact-key-env --log-format --file-mode`` for ``report`` (re-render, redacted)."""
    decorated: F = stack(rerender_options, redact_options, log_format_option,
                         file_mode_option)(func)
    return decorated


def redaction_map_path(path: str | None, redact: bool) -> str | None:
    """``--redaction-map`` only makes sense with ``--redact``: a map of an unredacted
    report would be a second copy of the personal data, so it is refused."""
    if path and not redact:
        raise UserError("needs --redact (it maps pseudonyms back to people)",
                        key="--redaction-map")
    return path or None


def write_redaction_map(redactor: Any, path: str, result: Mapping[str, Any]) -> None:
    count = redactor.write_map(path, result)
    log.info("redaction map: %d pseudonyms written to %s (owner-only; keep it apart from "
             "the report)", count, path)


def redact_if_asked(result: dict[str, Any], redact: bool, redact_key_env: str | None,
                    redaction_map: str | None = None) -> dict[str, Any]:
    """``report --redact``: the saved Result redacted (and the client's key written when
    ``--redaction-map`` names a file)."""
    path = redaction_map_path(redaction_map, redact)
    if not redact:
        return result
    from sprawl_audit.store.redact import KEY_ENV, Redactor

    redactor = Redactor.from_env(redact_key_env or KEY_ENV)
    out = redactor.redact_result(result)
    if path:
        write_redaction_map(redactor, path, out)
    return out


# -- diff ---------------------------------------------------------------------------------


@click.command("diff")
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@text_or_json_option(help="Plain text or the drift as JSON.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the drift here (atomically) instead of stdout.")
@click.option("--fail-on", type=severity_choice, envvar="SPRAWL_AUDIT_FAIL_ON",
              help="Exit 1 when a new finding (or one that rose to it) is at or above this.")
@click.option("--users-threshold", type=click.IntRange(min=1), default=5, show_default=True,
              help="Report user-count changes of at least this many people (and 20%).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors (exit code only).")
@click.option("-v", "--verbose", count=True, help="Show fingerprints.")
@log_format_option
@_user_errors
def diff_command(old: str, new: str, fmt: str, output: str | None, fail_on: str | None,
                 users_threshold: int, quiet: bool, verbose: int, log_format: str | None
                 ) -> None:
    """What changed between two Result JSON files: findings new, resolved, changed;
    platforms, integrations and external parties added or gone.

    Exit 0, or 1 with --fail-on when a new finding is at or above that severity; 2 when
    a file is not a valid Result.
    """
    from sprawl_audit.core.logsetup import setup_logging
    from sprawl_audit.report.formats.schema import load_result
    from sprawl_audit.store import drift

    setup_logging(verbose, quiet, log_format)
    before, after = load_result(old), load_result(new)
    result = drift.diff(before, after, old_source=old, new_source=new,
                        users_min_delta=users_threshold)
    for note in result.notes:
        log.warning("%s", note)
    text = (drift.render_json(result) if fmt.lower() == "json"
            else drift.render_text(result, verbose=verbose > 0))
    if output and output != "-":
        from sprawl_audit.core.atomic import atomic_write_text

        atomic_write_text(Path(output), text)
    elif not quiet:
        click.echo(text, nl=False)
    if fail_on and result.escalations(fail_on.lower()):
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)


# -- history ------------------------------------------------------------------------------


@click.group("history")
def history_group() -> None:
    """Past audits recorded in the history database: list, show, trend."""


def _history_path(history_path: str | None, config_path: str | None) -> Any:
    """The store ``audit`` records into, resolved the same way
    (:func:`sprawl_audit.store.backend.resolve_store`)."""
    from sprawl_audit.config import load_config
    from sprawl_audit.store.backend import resolve_store

    config = load_config(config_path) if config_path and not history_path else None
    path = resolve_store(None, history_path, config)
    if path is None:
        raise UserError("this config keeps no history (audit.history: false); name one "
                        "with --history PATH or SPRAWL_AUDIT_HISTORY", path=config_path,
                        key="audit.history")
    return path


def _pick_org(store: Any, org: str | None) -> str | None:
    if org is not None:
        return org
    orgs = store.organisations()
    if len(orgs) > 1:
        raise UserError("the history holds several organisations; choose one with --org: "
                        + ", ".join(repr(o) for o in orgs), path=store.shown)
    return orgs[0] if orgs else None


def _when(ts: str) -> str:
    return ts.replace("T", " ")[:16] if ts else "-"


@history_group.command("list")
@_history_option
@_config_option
@click.option("--org", help="Only this organisation.")
@limit_option
@text_or_json_option()
@log_format_option
@_user_errors
def history_list(history_path: str | None, config_path: str | None, org: str | None,
                 limit: int | None, fmt: str, log_format: str | None) -> None:
    """Recorded audits, oldest first: id, when, organisation, platforms, consumer-app
    users, findings by severity."""
    from sprawl_audit.core.logsetup import setup_logging
    from sprawl_audit.core.sanitize import cell
    from sprawl_audit.report.formats.json_format import dumps

    setup_logging(0, False, log_format)
    store = _history_path(history_path, config_path)
    rows = store.list_runs(organisation=org, limit=limit)
    if fmt.lower() == "json":
        click.echo(dumps({"history": store.shown, "runs": [r.to_dict() for r in rows]}),
                   nl=False)
        return
    if not rows:
        click.echo(f"No audits recorded in {cell(store.shown, 200)}.")
        return
    click.echo(f"{'ID':>4}  {'WHEN (UTC)':<16}  {'ORGANISATION':<26} {'MODE':<8} "
               f"{'PLATF':>5} {'CONS':>5}  {'CRIT':>4} {'HIGH':>4} {'MED':>4} {'LOW':>4} "
               f"{'INFO':>4}  RUN")
    for r in rows:
        f = r.findings
        click.echo(f"{r.id:>4}  {_when(r.started_at):<16}  {cell(r.organisation, 26):<26} "
                   f"{cell(r.mode, 8):<8} {r.platforms:>5} {r.consumer_app_users:>5}  "
                   f"{f['critical']:>4} {f['high']:>4} {f['medium']:>4} {f['low']:>4} "
                   f"{f['info']:>4}  {cell(r.run_id, 40)}" + ("  (redacted)" if r.redacted else "")
                   + _incomplete_mark(r))


def _incomplete_mark(row: Any) -> str:
    """``  INCOMPLETE (m365, email)`` for a run in which sources collected nothing."""
    from sprawl_audit.core.sanitize import cell

    if not row.failed_sources:
        return ""
    return f"  INCOMPLETE ({cell(', '.join(row.failed_sources), 80)} collected nothing)"


@history_group.command("show")
@click.argument("run", default="latest")
@_history_option
@_config_option
@rerender_options
@log_format_option
@file_mode_option
@branding_options
@_user_errors
def history_show(run: str, history_path: str | None, config_path: str | None,
                 formats: Sequence[str], output: str | None, output_dir: str | None,
                 quiet: bool, verbose: int, log_format: str | None,
                 file_mode: str | None, branding_flags: dict[str, Any]) -> None:
    """Re-render a recorded audit (RUN: history id, Result run id, or latest) in any
    output format, as `report` does for a saved file."""
    from sprawl_audit.cli.outputs import output_targets, render_or_exit, resolve_branding
    from sprawl_audit.config import load_config
    from sprawl_audit.core.atomic import set_file_mode
    from sprawl_audit.core.logsetup import setup_logging

    setup_logging(verbose, quiet, log_format)
    set_file_mode(file_mode)
    targets = output_targets(formats, output, output_dir)
    branding = resolve_branding(load_config(config_path), branding_flags)
    result = _history_path(history_path, config_path).load_run(run)
    render_or_exit(result, targets, quiet=quiet, verbose=verbose, branding=branding)


@history_group.command("trend")
@_history_option
@_config_option
@click.option("--org", help="Organisation (needed when the history holds several).")
@limit_option
@text_or_json_option()
@log_format_option
@_user_errors
def history_trend(history_path: str | None, config_path: str | None, org: str | None,
                  limit: int | None, fmt: str, log_format: str | None) -> None:
    """Platform count, consumer-app users and open findings by severity over time."""
    from sprawl_audit.core.logsetup import setup_logging
    from sprawl_audit.core.sanitize import cell
    from sprawl_audit.report.formats.json_format import dumps

    setup_logging(0, False, log_format)
    store = _history_path(history_path, config_path)
    organisation = _pick_org(store, org)
    rows = store.list_runs(organisation=organisation, limit=limit)
    points: list[dict[str, Any]] = [
        {"id": r.id, "started_at": r.started_at, "platforms": r.platforms,
         "consumer_app_users": r.consumer_app_users, "findings_by_severity": r.findings,
         "suppressed": r.suppressed, "coverage_gaps": r.coverage_gaps,
         "incomplete": r.incomplete, "failed_sources": list(r.failed_sources),
         "plan": r.plan} for r in rows]
    if fmt.lower() == "json":
        click.echo(dumps({"organisation": organisation, "points": points}), nl=False)
        return
    if not rows:
        click.echo("No audits to show a trend for.")
        return
    click.echo(f"Trend for {cell(organisation, 100)} ({len(rows)} audits)")
    click.echo(f"{'WHEN (UTC)':<16}  {'PLATFORMS':>12} {'CONSUMER':>12}  {'CRIT':>8} "
               f"{'HIGH':>8} {'MED':>8} {'LOW':>8} {'INFO':>8}")

    def col(value: int, before: int | None, width: int) -> str:
        if before is None or before == value:
            return f"{value:>{width}}"
        return f"{f'{value} ({value - before:+d})':>{width}}"

    # An incomplete run's numbers are what a partial look saw: shown, marked, and not
    # the reference the next run's changes are counted from.
    prev: dict[str, Any] = {}
    for p, r in zip(points, rows, strict=True):
        sev, psev = p["findings_by_severity"], prev.get("findings_by_severity", {})
        click.echo(
            f"{_when(p['started_at']):<16}  "
            f"{col(p['platforms'], prev.get('platforms'), 12)} "
            f"{col(p['consumer_app_users'], prev.get('consumer_app_users'), 12)}  "
            + " ".join(col(sev[s], psev.get(s), 8)
                       for s in ("critical", "high", "medium", "low", "info"))
            + _incomplete_mark(r))
        if not r.incomplete:
            prev = p
    _plan_trend(rows)
    incomplete = sum(r.incomplete for r in rows)
    if incomplete:
        click.echo(f"{incomplete} of {len(rows)} audits INCOMPLETE (a source collected "
                   "nothing): their numbers are not comparable, and changes are counted "
                   "from the last complete audit.")


def _plan_trend(rows: Sequence[Any]) -> None:
    """Plan progress per audit that made a plan (``sprawl-audit plan``): platforms
    retired (confirmed by the audit / marked in the decisions file), people still to
    move, savings realised a year."""
    from sprawl_audit.report.formats.plan_view import money

    planned = [r for r in rows if r.plan]
    if not planned:
        return
    click.echo("Plan progress")
    click.echo(f"{'WHEN (UTC)':<16}  {'RETIRED':>10} {'OF':>4} {'TO MOVE':>8}  "
               f"{'WAVES DONE':>10}  SAVINGS REALISED")
    for r in planned:
        p = r.plan
        retired = f"{p.get('retired') or 0}/{p.get('marked_retired') or 0}"
        realised = p.get("savings_realised")
        waves = f"{p.get('waves_done') or 0}/{p.get('waves') or 0}"
        saved = money(realised, p.get("currency")) if realised is not None else "—"
        click.echo(f"{_when(r.started_at):<16}  {retired:>10} {p.get('retire') or 0:>4} "
                   f"{p.get('people_to_move') or 0:>8}  {waves:>10}  {saved}"
                   + _incomplete_mark(r))


@click.group("store")
def store_group() -> None:
    """The audit store itself: its schema version and migrations."""


@store_group.command("migrate")
@_history_option
@_config_option
@click.option("--to", "target", type=int, default=None,
              help="Schema version to bring the store to, up or down (default: the "
                   "latest). PostgreSQL only; SQLite migrates itself when opened.")
@log_format_option
@_user_errors
def store_migrate(history_path: str | None, config_path: str | None, target: int | None,
                  log_format: str | None) -> None:
    """Create or migrate the store's schema (run once before many jobs start, or to
    roll back a release)."""
    from sprawl_audit.core.logsetup import setup_logging
    from sprawl_audit.store.pg_schema import LATEST
    from sprawl_audit.store.postgres import PostgresStore

    setup_logging(0, False, log_format)
    store = _history_path(history_path, config_path)
    if not isinstance(store, PostgresStore):
        if target is not None:
            raise UserError("--to applies to a PostgreSQL store; a SQLite history migrates "
                            "itself forward when opened")
        store.prepare()
        click.echo(f"{store.shown}: ready")
        return
    before, after = store.migrate(LATEST if target is None else target)
    click.echo(f"{store.shown}: schema {before} -> {after}" if before != after
               else f"{store.shown}: schema {after} (nothing to do)")


def register(main: click.Group) -> None:
    """Add ``diff``, ``history`` and ``store`` to the top-level command group."""
    main.add_command(diff_command, "diff")
    main.add_command(history_group, "history")
    main.add_command(store_group, "store")
