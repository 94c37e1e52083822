"""Command-line wiring only: parse flags, call the pipeline, map outcomes to exit codes.

Exit codes (stable, for schedulers): 0 no finding at or above --fail-on; 1 findings at
or above it; 2 usage, config or input error (one line, no traceback); 3 the audit was
incomplete (coverage gaps) and --fail-on-incomplete was given; 4 a configured source
collected nothing (sign-in refused, host unreachable) — always, and before 1 and 3.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from sprawl_audit import __version__
from sprawl_audit.cli.common import (
    EXIT_FINDINGS,
    EXIT_INCOMPLETE,
    EXIT_OK,
    EXIT_SOURCE_FAILED,
    EXIT_USAGE,
    ErrorFormatGroup,
    branding_options,
    severity_choice,
    stack,
    user_errors,
)
from sprawl_audit.cli.ops import add_audit_options, add_report_options
from sprawl_audit.cli.ops import register as _register_ops
from sprawl_audit.cli.outputs import (
    attempt_write,
    output_targets,
    render_or_exit,
    render_targets,
    report_write_failures,
)
from sprawl_audit.cli.portfolio import register as _register_portfolio
from sprawl_audit.cli.rules import framework_option
from sprawl_audit.cli.rules import register as _register_rules
from sprawl_audit.core.atomic import Privacy
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import OVERLAP_VIEWS, SEVERITIES
from sprawl_audit.report.gaps import GAP_STATUSES as INCOMPLETE_STATUSES

log = logging.getLogger("sprawl_audit")


_user_errors = user_errors


def _setup_logging(verbose: int, quiet: bool, log_format: str | None = None) -> None:
    from sprawl_audit.core.logsetup import setup_logging

    setup_logging(verbose, quiet, log_format)  # text or JSON lines; secrets blanked




@click.group(cls=ErrorFormatGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="sprawl-audit")
def main() -> None:
    """Audit unified-communications platform sprawl: inventory, overlaps, compliance."""


_audit_options = stack(
    click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
                 envvar="SPRAWL_AUDIT_CONFIG", help="Config file (YAML)."),
    click.option("-f", "--format", "formats", multiple=True, envvar="SPRAWL_AUDIT_FORMAT",
                 help="Output format (repeatable): rich, json, html, board, pdf, "
                      "markdown, csv, xlsx, sarif, graphml, gexf. Default: rich."),
    click.option("-o", "--output", type=click.Path(dir_okay=False),
                 envvar="SPRAWL_AUDIT_OUTPUT", help="Write the (single) format here."),
    click.option("--output-dir", type=click.Path(file_okay=False),
                 envvar="SPRAWL_AUDIT_OUTPUT_DIR",
                 help="Write each format to DIR/sprawl-audit.<ext> "
                      "(csv: DIR/sprawl-audit-<table>.csv)."),
    click.option("--fail-on", type=severity_choice, envvar="SPRAWL_AUDIT_FAIL_ON",
                 help="Exit 1 when a finding is at or above this severity."),
    click.option("--fail-on-incomplete", is_flag=True,
                 envvar="SPRAWL_AUDIT_FAIL_ON_INCOMPLETE",
                 help="Exit 3 when evidence could not be fully collected (a source "
                      "that collected nothing always exits 4)."),
    click.option("--rules", "rule_paths", multiple=True, type=click.Path(exists=True),
                 help="Extra rule file or folder (repeatable)."),
    click.option("--pack", "packs", multiple=True,
                 help="Rule pack to run (repeatable); default from config, else baseline."),
    framework_option,
    click.option("--save-snapshot", type=click.Path(dir_okay=False),
                 help="Also write the collected inventory here, for --from later."),
    click.option("--state", "state_path", type=click.Path(dir_okay=False),
                 envvar="SPRAWL_AUDIT_STATE",
                 help="Delta state for scheduled runs: a file (read, then replaced; 0600), "
                      "or `store` to keep it in the audit store per organisation."),
    click.option("--overlap", "overlap_view", type=click.Choice(OVERLAP_VIEWS),
                 envvar="SPRAWL_AUDIT_OVERLAP",
                 help="Compare platforms on what each is for (primary, default: "
                      "WhatsApp is chat, not video meetings) or on every capability "
                      "it has (all). Config: audit.overlap."),
    click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors."),
    click.option("-v", "--verbose", count=True, help="More detail (repeat for debug)."),
)


@main.command()
@click.option("--demo", is_flag=True, help="Audit the embedded demo tenant (offline).")
@click.option("--from", "snapshot", type=click.Path(dir_okay=False),
              help="Re-analyse a saved inventory snapshot instead of collecting.")
@_audit_options
@add_audit_options
@branding_options
@_user_errors
def audit(demo: bool, snapshot: str | None, **opts: Any) -> None:
    """Collect, analyse, judge and report."""
    _run_audit(demo=demo, snapshot=snapshot, **opts)


@main.command()
@_audit_options
@add_audit_options
@branding_options
@_user_errors
def demo(**opts: Any) -> None:
    """Audit the embedded demo tenant (same as `audit --demo`)."""
    _run_audit(demo=True, snapshot=None, **opts)


_plan_options = stack(
    click.option("--costs", type=click.Path(dir_okay=False, exists=True),
                 help="Price file for the savings (see examples/prices.yaml); "
                      "config: plan.costs. Never assumed."),
    click.option("--decisions", type=click.Path(dir_okay=False, exists=True),
                 help="Decisions file (accepted, deferred, rejected, retired) read to "
                      "report progress; config: plan.decisions."),
    click.option("--horizon", type=click.IntRange(3, 60),
                 help="Months the waves span (default 15); config: plan.horizon_months."),
    click.option("--start", type=click.DateTime(formats=["%Y-%m-%d"]),
                 help="First day of the first wave (default: the first of next month)."),
)


@main.command()
@click.option("--demo", is_flag=True, help="Plan for the embedded demo tenant (offline).")
@click.option("--from", "snapshot", type=click.Path(dir_okay=False),
              help="Plan from a saved inventory snapshot instead of collecting.")
@click.option("--result", "result_file", type=click.Path(dir_okay=False),
              help="Plan from a saved Result JSON (no collection, no rules run again).")
@_plan_options
@_audit_options
@add_audit_options
@branding_options
@_user_errors
def plan(demo: bool, snapshot: str | None, result_file: str | None, costs: str | None,
         decisions: str | None, horizon: int | None, start: Any, **opts: Any) -> None:
    """Audit, then plan the consolidation: a target per capability, what to retire,
    what it saves and in which waves. Adds ``plan`` to the Result."""
    flags = {"costs": costs, "decisions": decisions, "horizon": horizon,
             "start": start.date() if start else None}
    if result_file:
        if demo or snapshot:
            raise click.UsageError("--result cannot be combined with --demo or --from")
        _plan_saved_result(result_file, flags, **opts)
        return
    _run_audit(demo=demo, snapshot=snapshot, plan_flags=flags, **opts)


def _plan_settings(config: Any, flags: Mapping[str, Any]) -> Any:
    from sprawl_audit.plan.settings import parse_plan_settings

    settings = parse_plan_settings(config.plan, config.path or "<config>", config.base_dir)
    return settings.with_flags(**flags)


def _with_plan(result: dict[str, Any], settings: Any, config: Any) -> dict[str, Any]:
    from sprawl_audit import pipeline
    from sprawl_audit.plan.build import build_plan, plan_summary

    plan = build_plan(result, settings, pipeline.catalog_for(config),
                      sanctioned=config.sanctioned)
    return {**result, "plan": plan,
            "summary": {**result["summary"], "plan": plan_summary(plan)}}


def _plan_saved_result(result_file: str, flags: Mapping[str, Any], *,
                       config_path: str | None, formats: Sequence[str], output: str | None,
                       output_dir: str | None, quiet: bool, verbose: int,
                       branding_flags: dict[str, Any] | None = None, **_: Any) -> None:
    """``plan --result``: re-plan a saved audit (its Result is not changed on disk)."""
    from sprawl_audit.cli.outputs import resolve_branding
    from sprawl_audit.config import load_config
    from sprawl_audit.report.formats.schema import load_result

    _setup_logging(verbose, quiet, _.get("log_format"))
    config = load_config(config_path)
    settings = _plan_settings(config, flags)
    targets = output_targets(formats, output, output_dir)
    branding = resolve_branding(config, branding_flags)
    result = _with_plan(load_result(result_file), settings, config)
    failures = render_targets(result, targets, quiet=quiet, verbose=verbose, focus="plan",
                              branding=branding)
    if failures:
        report_write_failures(failures)
        sys.exit(EXIT_USAGE)


def _run_audit(**kwargs: Any) -> None:
    from sprawl_audit.core.gcpause import gc_paused

    with gc_paused():  # an audit is a batch job: see sprawl_audit/core/gcpause.py
        _audit_run(**kwargs)


def _audit_run(*, demo: bool, snapshot: str | None, config_path: str | None,
               formats: Sequence[str], output: str | None, output_dir: str | None,
               fail_on: str | None, fail_on_incomplete: bool, rule_paths: Sequence[str],
               packs: Sequence[str], save_snapshot: str | None, quiet: bool,
               verbose: int, state_path: str | None = None,
               frameworks: Sequence[str] = (), overlap_view: str | None = None,
               plan_flags: Mapping[str, Any] | None = None,
               branding_flags: dict[str, Any] | None = None, **ops: Any) -> None:
    from sprawl_audit import pipeline
    from sprawl_audit.cli.ops import post_process, resolve_ops
    from sprawl_audit.cli.outputs import check_output_file, resolve_branding
    from sprawl_audit.config import load_config
    from sprawl_audit.inventory.snapshot import read_snapshot

    _setup_logging(verbose, quiet, ops.get("log_format"))
    if demo and snapshot:
        raise click.UsageError("--demo and --from cannot be combined")
    config = load_config(config_path)
    ops_options = resolve_ops(ops, config, demo=demo)  # fails before any collection
    effective_fail_on = (fail_on or config.fail_on)
    effective_fail_on = effective_fail_on.lower() if effective_fail_on else None
    # Every path this run writes is checked now, not after an hour of collection.
    targets = output_targets(formats, output, output_dir)
    branding = resolve_branding(config, branding_flags)  # a bad logo fails now, too
    if save_snapshot:
        check_output_file(save_snapshot, option="--save-snapshot")
    in_store = state_path == STATE_IN_STORE
    if in_store and not (demo or snapshot):
        _state_owner(config, ops_options)  # fails now, not after the collection
    elif state_path and not (demo or snapshot):
        check_output_file(state_path, option="--state")

    state: dict[str, Any] | None = None
    if demo and config_path is None:
        from sprawl_audit.connectors.demo import demo_config

        config = demo_config()
    # The plan's settings and files are checked now, not after an hour of collection.
    plan_settings = _plan_settings(config, plan_flags) if plan_flags is not None else None
    if demo:
        from sprawl_audit.connectors.demo import load_demo_inventory

        inventory, mode = load_demo_inventory(), "demo"
        connectors = sorted({c.connector for c in inventory.coverage})
    elif snapshot:
        inventory, mode = read_snapshot(snapshot), "snapshot"
        connectors = sorted({c.connector for c in inventory.coverage})
    else:
        from sprawl_audit.store.state import read_state

        if in_store:
            state = ops_options.history.read_state(_state_owner(config, ops_options))
        else:
            state = read_state(state_path) if state_path else None
        inventory, connectors = pipeline.collect_live(config, state)
        mode = "live"

    failures: list[str] = []
    saved: str | None = None
    try:
        if in_store and state is not None:
            ops_options.history.write_state(_state_owner(config, ops_options), state)
        elif state_path and state is not None:
            from sprawl_audit.store.state import write_state

            failures += attempt_write(state_path, write_state, state_path, state)
        if save_snapshot:
            failed = attempt_write(save_snapshot, _save_snapshot, inventory, save_snapshot,
                              ops_options)
            failures += failed
            saved = None if failed else save_snapshot
        if overlap_view:  # the flag wins over the config (and the demo's)
            config = dataclasses.replace(config, overlap_view=overlap_view)
        selection = pipeline.RuleSelection.from_config(config, rule_paths, packs, frameworks)
        result = pipeline.run_audit(inventory, config, selection, mode=mode,
                                    connectors=connectors, fail_on=effective_fail_on)
        if plan_settings is not None:
            result = _with_plan(result, plan_settings, config)
        result = post_process(result, ops_options)  # suppress, baseline, redact, history
        report_failed_sources(result)  # one line each on stderr, even with -q
        failures += render_targets(result, targets, quiet=quiet, verbose=verbose,
                                   focus="plan" if plan_settings is not None else "report",
                                   branding=branding)
    except (UserError, OSError):
        if mode == "live" and saved is None:
            _rescue(inventory, ops_options)  # the collection must not be lost
        raise
    if failures:
        report_write_failures(failures)
        if mode == "live" and saved is None:
            _rescue(inventory, ops_options)
        sys.exit(EXIT_USAGE)
    if demo and not quiet and any(name == "rich" and path in (None, "-")
                                  for name, path in targets):
        click.echo(OWN_TENANT_HINT)
    sys.exit(exit_code(result, effective_fail_on, fail_on_incomplete))


#: ``--state store``: keep the delta state in the audit store, per organisation, so a job
#: needs only its config and the store URL.
STATE_IN_STORE = "store"


def _state_owner(config: Any, ops_options: Any) -> str:
    """The organisation whose state ``--state store`` reads and writes."""
    if ops_options.history is None:
        raise UserError("--state store keeps the state in the audit store: name one with "
                        "--store (or leave history on)")
    if not config.name:
        raise UserError("--state store needs organisation.name in the config (the state "
                        "is kept per organisation)", path=config.path, key="organisation.name")
    return str(config.name)


#: The line after the demo report: where a first-time user goes next. Only after the
#: terminal report (never into a JSON or HTML output), and not with -q.
OWN_TENANT_HINT = "Your own tenant: sprawl-audit audit -c config.yaml — see config.example.yaml"


def _save_snapshot(inventory: Any, path: str | Path, ops_options: Any,
                   privacy: Privacy = "personal") -> None:
    from sprawl_audit.cli.ops import write_snapshot

    write_snapshot(inventory, str(path), ops_options, privacy=privacy)  # redacted: --redact


def _rescue(inventory: Any, ops_options: Any) -> None:
    """Keep a live collection whose outputs could not be written (owner-only, always)."""
    from sprawl_audit.cli.outputs import rescue_snapshot

    rescue_snapshot(lambda target: _save_snapshot(inventory, target, ops_options, "owner"))


def report_failed_sources(result: dict[str, Any]) -> None:
    """One ERROR line per configured source that collected nothing, so a scheduled run
    (``-q``, ``--log-format json``) cannot mistake an outage for a quiet day. The JSON
    line carries ``connector``, ``topic`` (the failed topics, comma-separated),
    ``status``, ``reason`` and ``count`` (items it still reported) as fields."""
    from sprawl_audit.report.gaps import result_failed_sources

    for src in result_failed_sources(result):
        log.error("source %s collected nothing (%s: %s); audit INCOMPLETE, topics: %s",
                  src.connector, src.status, src.reason, ", ".join(src.topics),
                  extra={"event": "source_failed", "connector": src.connector,
                         "topic": ",".join(src.topics), "status": src.status,
                         "reason": src.reason, "count": src.count})


def exit_code(result: dict[str, Any], fail_on: str | None, fail_on_incomplete: bool) -> int:
    """A failed source wins (the run could not look, so its findings and passes are not
    the day's news); then findings at or above --fail-on; then incompleteness."""
    from sprawl_audit.report.gaps import result_failed_sources

    if result_failed_sources(result):
        return EXIT_SOURCE_FAILED
    if fail_on:
        floor = SEVERITIES.index(fail_on)
        if any(SEVERITIES.index(f["severity"]) >= floor and not f.get("suppressed")
               for f in result["findings"]):
            return EXIT_FINDINGS
    if fail_on_incomplete and any(c["status"] in INCOMPLETE_STATUSES for c in result["coverage"]):
        return EXIT_INCOMPLETE
    return EXIT_OK


@main.command()
@click.argument("result_file", type=click.Path(dir_okay=False))
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
              envvar="SPRAWL_AUDIT_CONFIG",
              help="Config file: its report: section brands the board pack.")
@branding_options
@add_report_options
@_user_errors
def report(result_file: str, formats: Sequence[str], output: str | None,
           output_dir: str | None, quiet: bool, verbose: int, redact: bool,
           redact_key_env: str, redaction_map: str | None, log_format: str | None,
           file_mode: str | None, config_path: str | None,
           branding_flags: dict[str, Any]) -> None:
    """Re-render a saved Result JSON without collecting again."""
    from sprawl_audit.cli.ops import redact_if_asked
    from sprawl_audit.cli.outputs import resolve_branding
    from sprawl_audit.config import load_config
    from sprawl_audit.core.atomic import set_file_mode
    from sprawl_audit.report.formats.schema import load_result

    _setup_logging(verbose, quiet, log_format)
    set_file_mode(file_mode)
    targets = output_targets(formats, output, output_dir)
    branding = resolve_branding(load_config(config_path), branding_flags)
    result = redact_if_asked(load_result(result_file), redact, redact_key_env, redaction_map)
    render_or_exit(result, targets, quiet=quiet, verbose=verbose, branding=branding)


@main.group()
def connectors() -> None:
    """List connectors and the evidence they collect."""


@connectors.command("list")
def connectors_list() -> None:
    """Every connector, what it reads, and its evidence topics."""
    from sprawl_audit.connectors.registry import REGISTRY

    for info in REGISTRY.values():
        click.echo(f"{info.name:<13} {info.summary}")


@connectors.command("check")
@click.argument("names", nargs=-1)
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
              envvar="SPRAWL_AUDIT_CONFIG", help="Config file with the connectors' settings.")
@_user_errors
def connectors_check(names: Sequence[str], config_path: str | None) -> None:
    """Sign in and show, per evidence topic, whether the needed permission is granted.

    Collects nothing. Exit 0 when everything needed is granted, 1 when something is
    missing, 2 on a configuration error.
    """
    from sprawl_audit.config import load_config
    from sprawl_audit.connectors.interface import ConnectorContext
    from sprawl_audit.connectors.registry import get_connector
    from sprawl_audit.core.sanitize import terminal_safe

    config = load_config(config_path)
    chosen = list(names) or list(config.connectors)
    if not chosen:
        raise UserError("no connectors to check: name one, or configure 'connectors:'",
                        path=config.path)
    context = ConnectorContext(config_dir=str(config.base_dir), domains=config.domains,
                               default_region=config.default_region)
    missing = 0
    for name in chosen:
        if name not in config.connectors:
            raise UserError(f"connector {name!r} is not configured", path=config.path,
                            key="connectors")
        results = get_connector(name, config.path).run_check(config.connectors[name],
                                                              context)
        click.echo(f"{name}:")
        if not results:
            click.echo("  nothing to sign in to (reads files)")
        for r in results:
            mark = {True: "granted", False: "MISSING", None: "unknown"}[r.granted]
            if r.granted is False and r.optional:
                mark = "optional"  # shown, but the topic runs without it
            missing += r.granted is False and not r.optional
            line = f"  {mark:<8} {r.topic:<26} {terminal_safe(r.needed)}"
            if r.detail:
                line += f"  ({terminal_safe(r.detail)})"
            click.echo(line)
    sys.exit(1 if missing else 0)


_register_ops(main)  # diff, history
_register_rules(main)  # rules list|show|validate|test
_register_portfolio(main)  # portfolio run|report
