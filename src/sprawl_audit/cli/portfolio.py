"""``sprawl-audit portfolio run`` and ``portfolio report``: many organisations, one store."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from sprawl_audit.cli.common import (
    log_format_option,
    severity_choice,
    user_errors,
)
from sprawl_audit.core.errors import UserError


@click.group("portfolio")
def portfolio_group() -> None:
    """Audit many organisations side by side into one store, and compare them."""


@portfolio_group.command("run")
@click.argument("portfolio_file", type=click.Path(dir_okay=False, exists=True))
@click.option("--store", envvar="SPRAWL_AUDIT_STORE",
              help="Store every run records into: sqlite:///PATH or postgresql://… "
                   "(default: the portfolio's `store`).")
@click.option("--workers", type=click.IntRange(1, 256),
              help="Organisations audited at once (default: the portfolio's `workers`, "
                   "else 4).")
@click.option("--output-dir", type=click.Path(file_okay=False),
              help="One folder per organisation inside (default: the portfolio's "
                   "`output_dir`, else ./portfolio-out).")
@click.option("-f", "--format", "formats", multiple=True,
              help="Report formats each organisation writes (json always).")
@click.option("--fail-on", type=severity_choice,
              help="Exit 1 when an organisation has a finding at or above this severity.")
@click.option("--fail-on-incomplete", is_flag=True,
              help="Exit 3 when an organisation's evidence was incomplete.")
@click.option("--tag", "tags", multiple=True,
              help="Only organisations with this schedule tag (repeatable).")
@click.option("--org", "only", multiple=True, help="Only this organisation (repeatable).")
@click.option("--timeout", type=click.FloatRange(1), default=4 * 3600.0, show_default=True,
              help="Seconds one organisation's audit may take.")
@click.option("--redact", is_flag=True,
              help="Pseudonymise personal identifiers in every organisation's outputs and "
                   "store (key in SPRAWL_AUDIT_REDACT_KEY).")
@click.option("--fresh-processes", is_flag=True,
              help="Start each audit as a new interpreter instead of forking it from a "
                   "warm fork server (slower: every audit imports and parses the rule "
                   "packs again).")
@click.option("-q", "--quiet", is_flag=True, help="No progress, only the summary.")
@log_format_option
@user_errors
def portfolio_run(portfolio_file: str, store: str | None, workers: int | None,
                  output_dir: str | None, formats: Sequence[str], fail_on: str | None,
                  fail_on_incomplete: bool, tags: Sequence[str], only: Sequence[str],
                  timeout: float, redact: bool, fresh_processes: bool, quiet: bool,
                  log_format: str | None) -> None:
    """Audit every organisation of PORTFOLIO_FILE concurrently, each in its own process
    with its own credentials, state and output folder; one failing never stops the
    others. Exit 4 if any failed, else 1 / 3 as --fail-on / --fail-on-incomplete."""
    from sprawl_audit.cli.outputs import check_output_dir
    from sprawl_audit.core.atomic import atomic_write_text
    from sprawl_audit.core.logsetup import setup_logging
    from sprawl_audit.portfolio.progress import Progress, outcome_table
    from sprawl_audit.portfolio.runner import RunOptions, exit_code, run_portfolio
    from sprawl_audit.portfolio.spec import load_portfolio
    from sprawl_audit.report.formats import get_format
    from sprawl_audit.report.formats.json_format import dumps
    from sprawl_audit.store.backend import open_store

    live = sys.stderr.isatty() and not quiet and log_format != "json"
    # not a terminal: the progress is the JSON log lines, at INFO (unless -q)
    setup_logging(0 if live or quiet else 1, quiet, log_format or (None if live else "json"))
    portfolio = load_portfolio(portfolio_file)
    chosen = [o for o in portfolio.organisations
              if (not tags or set(tags) & set(o.tags)) and (not only or o.name in only)]
    missing = set(only) - {o.name for o in portfolio.organisations}
    if missing:
        raise UserError(f"no organisation {sorted(missing)[0]!r} in the portfolio",
                        path=portfolio_file)
    if not chosen:
        raise UserError("no organisation of the portfolio matches --tag/--org",
                        path=portfolio_file)
    for name in formats:
        get_format(name)  # an unknown format fails now, not in every child
    store_url = store or portfolio.store
    if not store_url:
        raise UserError("name the store every run records into: --store, "
                        "SPRAWL_AUDIT_STORE or `store:` in the portfolio", path=portfolio_file)
    open_store(store_url).prepare()  # migrate once, before the workers start
    root = Path(output_dir) if output_dir else (portfolio.output_dir or Path("portfolio-out"))
    check_output_dir(root)
    options = RunOptions(store=store_url, output_dir=root,
                         workers=workers or portfolio.workers or 4,
                         formats=tuple(f for f in formats if f != "json"),
                         fail_on=fail_on, fail_on_incomplete=fail_on_incomplete,
                         timeout=timeout, redact=redact,
                         launcher="process" if fresh_processes else "auto")
    if redact and not os.environ.get("SPRAWL_AUDIT_REDACT_KEY"):
        raise UserError("--redact needs the key in SPRAWL_AUDIT_REDACT_KEY")
    with Progress([(o.name, o.slug) for o in chosen], live=live) as progress:
        outcomes = run_portfolio(portfolio, chosen, options, progress)
    summary = {"portfolio": str(portfolio.path), "store": _shown(store_url),
               "workers": options.workers, "organisations": [o.to_dict() for o in outcomes]}
    atomic_write_text(root / "portfolio-run.json", dumps(summary))
    from rich.console import Console

    Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160).print(
        outcome_table(outcomes))
    failed = [o for o in outcomes if o.status in ("failed", "error")]
    for o in failed:
        click.echo(f"FAILED {o.name}: {o.reason}", err=True)
    sys.exit(exit_code(outcomes, fail_on, fail_on_incomplete))


@portfolio_group.command("report")
@click.argument("portfolio_file", required=False, type=click.Path(dir_okay=False, exists=True))
@click.option("--store", envvar="SPRAWL_AUDIT_STORE",
              help="The store the runs recorded into (default: the portfolio's `store`).")
@click.option("-f", "--format", "fmt", type=click.Choice(("rich", "json", "csv", "xlsx",
                                                          "html")), default="rich",
              show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the report here (xlsx needs it).")
@click.option("--org", "focus", help="The organisation the report is for (marked; kept "
                                     "named with --redact).")
@click.option("--redact", is_flag=True,
              help="Anonymise every other organisation as Peer 1, Peer 2… (ordered by a "
                   "hash keyed with SPRAWL_AUDIT_REDACT_KEY when set).")
@click.option("--history", "history", type=click.IntRange(1, 1000), default=12,
              show_default=True, help="Audits per organisation in the trends.")
@log_format_option
@user_errors
def portfolio_report(portfolio_file: str | None, store: str | None, fmt: str,
                     output: str | None, focus: str | None, redact: bool, history: int,
                     log_format: str | None) -> None:
    """Every organisation's headline figures side by side, their trends, and each one's
    position against the portfolio's median and quartiles."""
    from sprawl_audit.cli.outputs import check_output_file
    from sprawl_audit.core.atomic import atomic_write_bytes
    from sprawl_audit.core.logsetup import setup_logging
    from sprawl_audit.portfolio import render
    from sprawl_audit.portfolio.report import build_report
    from sprawl_audit.portfolio.spec import load_portfolio
    from sprawl_audit.store.backend import open_store

    setup_logging(0, False, log_format)
    url = store or (load_portfolio(portfolio_file).store if portfolio_file else None)
    if not url:
        raise UserError("name the store: --store, SPRAWL_AUDIT_STORE or a portfolio file "
                        "with `store:`")
    if fmt == "xlsx" and not output:
        raise UserError("-f xlsx needs -o FILE")
    if output:
        check_output_file(output, option="--output")
    doc = build_report(open_store(url), focus=focus, redact=redact,
                       key=os.environ.get("SPRAWL_AUDIT_REDACT_KEY", ""), history=history)
    if fmt == "xlsx":
        data = render.to_xlsx(doc)
    else:
        text = {"rich": lambda: render.to_text(doc, color=bool(not output
                                                                and sys.stdout.isatty())),
                "json": lambda: render.to_json(doc), "csv": lambda: render.to_csv(doc),
                "html": lambda: render.to_html(doc)}[fmt]()
        data = text.encode("utf-8")
    if output:
        atomic_write_bytes(Path(output), data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def _shown(url: str) -> str:
    from sprawl_audit.store.postgres import masked

    return masked(url)


def register(main: click.Group) -> None:
    main.add_command(portfolio_group, "portfolio")

