"""``sprawl-audit rules``: list, show, validate and test rule packs (click wiring only).

Every command reads the shipped packs, the config's ``rules.paths`` (``-c``) and any
paths given on the command line, so a custom pack works with all of them. ``--pack``
narrows to named packs (shipped or custom).

``validate`` lists every problem it finds — in rule files, pack.yaml files, the
config's ``rules`` section and ``matches`` patterns that backtrack catastrophically — each
with file and line, then exits 2; an audit still stops at the first (and runs such a
pattern within its time budget). ``test`` runs every fixture case and prints a verdict per
rule, exiting 1 if any rule fails (a case behaves unexpectedly, the rule has no fixture,
or its fixture lacks a firing or a quiet case).

``cli.py`` calls :func:`register` to add the ``rules`` group, and decorates ``audit`` and
``demo`` with :func:`framework_option` (passing ``frameworks`` to
``RuleSelection.from_config``).
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import click

from sprawl_audit.cli.common import severity_choice, stack, user_errors
from sprawl_audit.core.errors import UserError

EXIT_FAILED, EXIT_USAGE = 1, 2

#: ``--framework`` for ``audit`` and ``demo``: the value reaches the command as
#: ``frameworks`` (a tuple), for ``RuleSelection.from_config(..., frameworks=...)``.
framework_option = click.option(
    "--framework", "frameworks", multiple=True, envvar="SPRAWL_AUDIT_FRAMEWORK",
    help="Only rules citing this framework, and its per-control compliance view "
         "(repeatable): uk-gdpr, ncsc-caf, nhs-dspt, nhs-im, cyber-essentials, "
         "uk-gov-nccc, iso27001-2022, baseline. Also enables the shipped packs serving it "
         "unless --pack is given.")


def register(main: click.Group) -> None:
    """Add the ``rules`` group to the top-level command group."""
    main.add_command(rules, "rules")


_user_errors = user_errors


_common = stack(
    click.argument("paths", nargs=-1, type=click.Path(exists=True)),
    click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
                 envvar="SPRAWL_AUDIT_CONFIG",
                 help="Config file: its rules.paths (custom packs) are loaded too."),
    click.option("--pack", "packs", multiple=True,
                 help="Only this pack, shipped or custom (repeatable)."),
)


class _Loaded:
    """What a rules command works on: the config, the rule set, and the packs asked for."""

    def __init__(self, config_path: str | None, paths: Sequence[str],
                 packs: Sequence[str], *, strict: bool = True) -> None:
        from sprawl_audit.config import load_config
        from sprawl_audit.engine import check_packs, shipped_packs

        self.config = load_config(config_path)
        self.paths = [Path(p) for p in (*self.config.rule_paths, *paths)]
        self.ruleset, self.errors = check_packs(list(shipped_packs()), self.paths)
        if strict and self.errors:
            raise self.errors[0]
        unknown = [p for p in packs if p not in self.ruleset.packs]
        if unknown:
            known = ", ".join(self.ruleset.packs) or "none"
            raise UserError(f"unknown rule pack {unknown[0]!r} (loaded packs: {known})",
                            key="--pack")
        self.packs = tuple(dict.fromkeys(packs))

    @property
    def rules(self) -> list[Any]:
        return [r for r in self.ruleset.rules if not self.packs or r.pack in self.packs]

    def enabled(self, rule: Any) -> bool:
        """Whether an audit with this config runs the rule: a shipped pack must be in
        ``rules.packs`` (custom packs from paths always run), and the rule not disabled."""
        from sprawl_audit.engine import shipped_packs

        shipped = shipped_packs()
        pack = self.ruleset.packs.get(rule.pack)
        is_shipped = (rule.pack in shipped and pack is not None
                      and str(pack.root) == str(shipped[rule.pack]))
        runs = rule.pack in self.config.rule_packs if is_shipped else True
        return runs and rule.enabled and rule.id not in self.config.rules_disabled


def _safe(value: Any) -> str:
    from sprawl_audit.core.sanitize import terminal_safe

    return terminal_safe(value)


def _where(source: Any) -> str:
    """A location shown relative to the working directory when it is under it."""
    text = str(source)
    try:
        return str(Path(text).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return text


@click.group("rules")
def rules() -> None:
    """List, show, validate and test rule packs (shipped and custom)."""


# -- list -------------------------------------------------------------------------------


@rules.command("list")
@_common
@click.option("--framework", "frameworks", multiple=True,
              help="Only rules citing this framework (repeatable), e.g. ncsc-caf.")
@click.option("--severity", "severities", type=severity_choice, multiple=True,
              help="Only this severity (repeatable).")
@click.option("--topic", "topics", multiple=True,
              help="Only rules requiring this evidence topic, alone or as an alternative.")
@click.option("--enabled", "only_enabled", is_flag=True,
              help="Only rules an audit with this config runs.")
@_user_errors
def rules_list(paths: Sequence[str], config_path: str | None, packs: Sequence[str],
               frameworks: Sequence[str], severities: Sequence[str], topics: Sequence[str],
               only_enabled: bool) -> None:
    """List rules: id, severity, pack, title and the evidence they require."""
    loaded = _Loaded(config_path, paths, packs)
    unknown = [f for f in frameworks if f not in loaded.ruleset.frameworks]
    if unknown:
        raise UserError(f"unknown framework {unknown[0]!r} (known: "
                        f"{', '.join(loaded.ruleset.frameworks)})", key="--framework")
    from sprawl_audit.core.topics import TOPICS

    bad_topic = [t for t in topics if t not in TOPICS]
    if bad_topic:
        raise UserError(f"unknown evidence topic {bad_topic[0]!r} (known: {', '.join(TOPICS)})",
                        key="--topic")
    wanted_sev = {s.lower() for s in severities}
    for rule in loaded.rules:
        if wanted_sev and rule.severity not in wanted_sev:
            continue
        if frameworks and not any(ref.framework in frameworks for ref in rule.references):
            continue
        if topics and not any(t in req.split("|") for req in rule.requires for t in topics):
            continue
        if only_enabled and not loaded.enabled(rule):
            continue
        click.echo(f"{rule.id:<18} {rule.severity:<8} {_safe(rule.pack):<16} "
                   f"{_safe(rule.title)}  [{', '.join(rule.requires) or '-'}]")


# -- show -------------------------------------------------------------------------------


@rules.command("show")
@click.argument("rule_id")
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
              envvar="SPRAWL_AUDIT_CONFIG",
              help="Config file: custom packs, parameter overrides and disabled rules.")
@click.option("--rules", "paths", multiple=True, type=click.Path(exists=True),
              help="Extra rule file or folder (repeatable).")
@_user_errors
def rules_show(rule_id: str, config_path: str | None, paths: Sequence[str]) -> None:
    """Everything about one rule: what it checks, where, with what, and why."""
    import difflib

    loaded = _Loaded(config_path, paths, ())
    rule = loaded.ruleset.get(rule_id)
    if rule is None:
        close = difflib.get_close_matches(rule_id, loaded.ruleset.ids, n=1)
        hint = f" (did you mean {close[0]}?)" if close else " (see `sprawl-audit rules list`)"
        raise UserError(f"no rule has id {rule_id!r}{hint}")
    for line in describe_rule(rule, loaded):
        click.echo(line)


def describe_rule(rule: Any, loaded: _Loaded) -> list[str]:
    """The lines ``rules show`` prints (tested directly)."""
    import yaml

    from sprawl_audit.core.topics import TOPICS
    from sprawl_audit.engine import resolve_parameters
    from sprawl_audit.engine.fixtures import fixture_file, load_fixture

    ruleset, config = loaded.ruleset, loaded.config
    pack = ruleset.packs.get(rule.pack)
    out = [f"{rule.id}  {_safe(rule.title)}", ""]

    def field(label: str, value: str) -> None:
        lines = value.split("\n") if value else [""]
        out.append(f"  {label:<12}{lines[0]}")
        out.extend(f"  {'':<12}{line}" for line in lines[1:])

    field("severity", rule.severity)
    for entry in rule.severity_when:
        when = yaml.safe_dump(entry.condition.spec, sort_keys=False, default_flow_style=True,
                              allow_unicode=True, width=1000).rstrip()
        field("", _safe(f"{entry.severity} when {when}"))
    pack_text = _safe(rule.pack)
    if pack is not None and pack.title:
        pack_text += f" — {_safe(pack.title)}"
    field("pack", pack_text)
    field("defined at", _where(rule.location))
    if rule.id in config.rules_disabled:
        state = f"disabled in the config: {_safe(config.rules_disabled[rule.id])}"
    elif not rule.enabled:
        state = "disabled in the rule file (enabled: false)"
    elif not loaded.enabled(rule):
        state = f"not run by default: enable the pack ({rule.pack}) in rules.packs"
    else:
        state = "enabled"
    field("status", state)
    field("selects", f"{rule.kind} nodes (one finding per matching node)")
    spec = rule.condition.spec
    where = "every node of that kind" if spec is None else yaml.safe_dump(
        spec, sort_keys=False, default_flow_style=False, allow_unicode=True, width=80).rstrip()
    field("where", _safe(where))
    def topics(requirements: tuple[str, ...]) -> str:
        lines = []
        for requirement in requirements:
            alternatives = requirement.split("|")
            text = " or ".join(f"{t} ({TOPICS.get(t, '?')})" for t in alternatives)
            lines.append(("any of: " if len(alternatives) > 1 else "") + text)
        return "\n".join(lines)

    field("requires", topics(rule.requires) or "nothing")
    if rule.pass_requires:
        field("a pass also needs", topics(rule.pass_requires))
    if rule.assess is not None:
        assess = yaml.safe_dump(rule.assess.condition.spec, sort_keys=False,
                                default_flow_style=False, allow_unicode=True, width=80).rstrip()
        field("judged only when", _safe(assess))
    override = config.rule_parameters.get(rule.id) or {}
    params = resolve_parameters(rule.id, rule.parameters, override)
    lines = []
    for name, default in rule.parameters.items():
        line = f"{name}: {_value(default)}"
        if name in override:
            line += f"  (config: {_value(params[name])})"
        else:
            line += "  (default)"
        lines.append(line)
    field("parameters", _safe("\n".join(lines)) or "none")
    refs = []
    for ref in rule.references:
        meta = ruleset.frameworks.get(ref.framework)
        control = meta.control(ref.control) if meta else None
        title = ref.title or (control.title if control else "")
        text = f"{ref.framework} {ref.control}"
        if title:
            text += f" — {title}"
        if meta is not None:
            text += f" ({meta.name})"
        refs.append(_safe(text))
    field("references", "\n".join(refs) or "none")
    if rule.tags:
        field("tags", _safe(", ".join(rule.tags)))
    source = fixture_file(rule, ruleset)
    if source is None:
        field("fixtures", f"none (expected {rule.pack}/tests/{rule.id}.yaml)")
    else:
        try:
            cases = load_fixture(source, rule)
        except UserError as exc:
            field("fixtures", f"unreadable: {_safe(exc.oneline())}")
        else:
            counts = {e: sum(c.expect == e for c in cases) for e in ("fail", "pass",
                                                                     "not_assessed")}
            detail = ", ".join(f"{n} {e}" for e, n in counts.items() if n)
            field("fixtures", f"{len(cases)} cases ({detail}) in {_where(source)}")
    field("message", _safe(rule.message.text))
    for label, text in (("rationale", rule.rationale), ("remediation", rule.remediation)):
        if text:
            out.append("")
            out.append(f"  {label.capitalize()}:")
            out.extend(textwrap.wrap(_safe(" ".join(text.split())), width=76,
                                     initial_indent="    ", subsequent_indent="    "))
    return out


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)


# -- validate ---------------------------------------------------------------------------


@rules.command("validate")
@_common
@_user_errors
def rules_validate(paths: Sequence[str], config_path: str | None, packs: Sequence[str]) -> None:
    """Check every rule, pack.yaml and the config's rules section; list ALL problems.

    Each problem is one line with file and line. Exit 0 when there are none, 2 otherwise.
    """
    loaded = _Loaded(config_path, paths, packs, strict=False)
    problems = list(loaded.errors)
    problems.extend(config_problems(loaded))
    problems.extend(pattern_problems(loaded.rules))
    if problems:
        for problem in problems:
            click.echo(_safe(problem.oneline()))
        files = {p.path for p in problems if p.path}
        click.echo(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in "
                   f"{len(files)} file{'s' if len(files) != 1 else ''}", err=True)
        sys.exit(EXIT_USAGE)
    rules_ = loaded.rules
    shown = sorted({r.pack for r in rules_})
    click.echo(f"{len(rules_)} rules valid in {len(shown)} pack{'s' if len(shown) != 1 else ''}"
               f" ({', '.join(shown)})")


def pattern_problems(rules_: Iterable[Any]) -> list[UserError]:
    """``matches`` patterns that backtrack catastrophically. An audit runs them anyway,
    each search within its time budget (a timed-out subject is not assessed); ``validate``
    says so before that happens."""
    from sprawl_audit.engine.patterns import pattern_problem, patterns_in

    out: list[UserError] = []
    for rule in rules_:
        specs = [rule.condition.spec, rule.assess.condition.spec if rule.assess else None]
        for pattern in dict.fromkeys(p for spec in specs for p in patterns_in(spec)):
            problem = pattern_problem(pattern)
            if problem:
                out.append(UserError(f"pattern {pattern!r:.80}: {problem}", path=rule.path,
                                     line=rule.line or None, key=f"{rule.id} matches"))
    return out


def config_problems(loaded: _Loaded) -> list[UserError]:
    """The config's ``rules`` section against the loaded rules: pack names, rule ids in
    ``parameters``/``disabled``, and parameter overrides of the right type."""
    from sprawl_audit.core.errors import did_you_mean
    from sprawl_audit.engine import resolve_parameters, shipped_packs
    from sprawl_audit.pipeline import _config_line

    config = loaded.config
    path = config.path
    out: list[UserError] = []
    shipped = shipped_packs()
    for index, name in enumerate(config.rule_packs):
        if name not in shipped:
            out.append(UserError(
                f"unknown rule pack {name!r} (shipped packs: {', '.join(shipped)})",
                path=path, line=_config_line(path, "rules", "packs", index), key="rules.packs"))
    by_id = {r.id: r for r in loaded.ruleset.rules}
    for section, mapping in (("parameters", config.rule_parameters),
                             ("disabled", config.rules_disabled)):
        for rule_id in mapping:
            if rule_id not in by_id:
                out.append(UserError(
                    f"no rule has id {rule_id!r}{did_you_mean(rule_id, by_id)}", path=path,
                    line=_config_line(path, "rules", section, rule_id),
                    key=f"rules.{section}.{rule_id}"))
    for rule_id, override in config.rule_parameters.items():
        if rule_id not in by_id:
            continue
        for name, value in override.items():
            try:
                resolve_parameters(rule_id, by_id[rule_id].parameters, {name: value})
            except UserError as exc:
                out.append(UserError(
                    exc.message, path=path,
                    line=_config_line(path, "rules", "parameters", rule_id, name),
                    key=f"rules.parameters.{rule_id}.{name}"))
    return out


# -- test -------------------------------------------------------------------------------


@rules.command("test")
@_common
@click.option("--rule", "rule_ids", multiple=True, help="Only this rule (repeatable).")
@click.option("-v", "--verbose", is_flag=True, help="Print every case, not only failures.")
@_user_errors
def rules_test(paths: Sequence[str], config_path: str | None, packs: Sequence[str],
               rule_ids: Sequence[str], verbose: bool) -> None:
    """Run every rule's fixtures: PASS or FAIL per rule; exit 1 if any rule fails."""
    loaded = _Loaded(config_path, paths, packs)
    chosen = loaded.rules
    if rule_ids:
        known = {r.id for r in chosen}
        missing = [r for r in rule_ids if r not in known]
        if missing:
            raise UserError(f"no loaded rule has id {missing[0]!r}", key="--rule")
        chosen = [r for r in chosen if r.id in set(rule_ids)]
    verdicts = test_rules(chosen, loaded.ruleset)
    failed_rules = 0
    cases = 0
    for verdict in verdicts:
        cases += verdict.cases
        if verdict.failures:
            failed_rules += 1
        mark = "FAIL" if verdict.failures else "PASS"
        click.echo(f"{mark} {verdict.rule_id:<18} {verdict.summary}")
        for line in verdict.failures:
            click.echo(f"     {_safe(line)}")
        if verbose:
            for line in verdict.passes:
                click.echo(f"     ok {_safe(line)}")
    if not rule_ids and not loaded.packs:
        from sprawl_audit.engine import orphan_fixtures

        for orphan in orphan_fixtures(loaded.ruleset):
            failed_rules += 1
            click.echo(f"FAIL {_where(orphan)}: names no loaded rule (expected "
                       "tests/<RULE-ID>.yaml)")
    passed = len(verdicts) - sum(1 for v in verdicts if v.failures)
    click.echo(f"{len(verdicts)} rules, {cases} cases: {passed} passed, {failed_rules} failed")
    sys.exit(EXIT_FAILED if failed_rules else 0)


class Verdict:
    """One rule's fixture run: how many cases, what failed (located), what passed."""

    def __init__(self, rule_id: str) -> None:
        self.rule_id = rule_id
        self.cases = 0
        self.failures: list[str] = []
        self.passes: list[str] = []
        self.summary = ""


def test_rules(rules_: Iterable[Any], ruleset: Any) -> list[Verdict]:
    """Run each rule's fixture cases on the real pipeline; one Verdict per rule."""
    from sprawl_audit.engine.fixtures import fixture_file, load_fixture, run_case
    from sprawl_audit.pipeline import build_facts_graph

    verdicts = []
    for rule in rules_:
        verdict = Verdict(rule.id)
        verdicts.append(verdict)
        source = fixture_file(rule, ruleset)
        if source is None:
            verdict.failures.append(f"no fixture file (expected {rule.pack}/tests/{rule.id}.yaml)")
            verdict.summary = "no fixtures"
            continue
        try:
            cases = load_fixture(source, rule)
        except UserError as exc:
            verdict.failures.append(exc.oneline())
            verdict.summary = "fixture file has errors"
            continue
        verdict.cases = len(cases)
        bad = 0
        for case in cases:
            result = run_case(rule, case, build_facts_graph)
            where = f"{_where(result.path)}:{result.line}"
            if result.passed:
                verdict.passes.append(f"{where}: {case.name}")
            else:
                bad += 1
                verdict.failures.append(f"{where}: {case.name} — {result.detail}")
        expects = {c.expect for c in cases}
        wanted = ["fail", "pass"]
        if rule.requires or rule.pass_requires or rule.assess is not None:
            wanted.append("not_assessed")  # the rule can lack evidence: prove it says so
        lacking = [e for e in wanted if e not in expects]
        if lacking:
            verdict.failures.append(
                f"{_where(source)}: needs a case with expect: {', '.join(lacking)} "
                "(every rule proves it fails, passes and, when its evidence can be "
                "missing, is not assessed)")
        verdict.summary = (f"{len(cases)} cases" if not verdict.failures
                           else f"{bad} of {len(cases)} cases failed" if bad
                           else f"{len(cases)} cases")
    return verdicts

