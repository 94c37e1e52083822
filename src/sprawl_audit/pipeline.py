"""The audit pipeline, one direction: collect → resolve → graph → analyses → rules → Result.

The CLI only parses flags and calls these functions, so every step can be driven from
tests and benchmarks without click.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sprawl_audit.catalog import Catalog, load_catalog
from sprawl_audit.config import Config
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.model import Inventory, Organisation, merge
from sprawl_audit.graph.analyses import run_analyses
from sprawl_audit.graph.build import AuditGraph, build_graph
from sprawl_audit.inventory.resolve import resolve
from sprawl_audit.report.result import build_result, now_utc


@dataclass(frozen=True)
class RuleSelection:
    """Which rules judge this audit: shipped packs by name plus extra files or folders.

    ``frameworks`` (``--framework``, repeatable) limits the run to rules citing one of
    them and the Result's compliance view to those frameworks; unless the packs were named
    on the command line (``packs_explicit``), the shipped packs that serve a selected
    framework (their pack.yaml lists it) are enabled too.
    """

    packs: tuple[str, ...] = ("baseline",)
    paths: tuple[str, ...] = ()
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    disabled: dict[str, str] = field(default_factory=dict)
    frameworks: tuple[str, ...] = ()
    packs_explicit: bool = False
    #: The config file packs, parameters and disabled rules came from (located errors).
    config_path: str | None = None
    #: ``organisation.sector``: which frameworks bind the organisation (the others are
    #: read as good practice, never failed).
    sector: str | None = None
    #: The framework views shown without ``--framework`` (``rules.frameworks`` or the
    #: sector's); empty: every framework the rules cite.
    views: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Config, extra_paths: Sequence[str] = (),
                    packs: Sequence[str] | None = None,
                    frameworks: Sequence[str] = ()) -> RuleSelection:
        return cls(
            packs=tuple(packs) if packs else config.rule_packs,
            paths=(*config.rule_paths, *extra_paths),
            parameters={k: dict(v) for k, v in config.rule_parameters.items()},
            disabled=dict(config.rules_disabled),
            frameworks=tuple(dict.fromkeys(frameworks)),
            packs_explicit=bool(packs),
            config_path=config.path,
            sector=config.sector,
            views=config.rule_frameworks,
        )

    def enabled_packs(self) -> tuple[str, ...]:
        """The packs this run loads: the chosen ones, plus those serving ``frameworks``."""
        if not self.frameworks or self.packs_explicit:
            return tuple(dict.fromkeys(self.packs))
        from sprawl_audit.engine.loader import packs_for_frameworks

        return tuple(dict.fromkeys((*self.packs, *packs_for_frameworks(self.frameworks))))


@dataclass(frozen=True)
class Judgement:
    """What judging produced, as Result dicts: rule outcomes, findings, compliance view."""

    rules: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    frameworks: list[dict[str, Any]]
    packs: tuple[str, ...] = ()


def catalog_for(config: Config | None) -> Catalog:
    return load_catalog(list(config.catalog_entries) if config and config.catalog_entries
                        else None)


def analyse(inventory: Inventory, config: Config | None = None,
            catalog: Catalog | None = None) -> AuditGraph:
    """Resolve, build the graph and run every analysis; the input rules are judged on."""
    cfg = config or Config()
    cat = catalog or catalog_for(cfg)
    resolution = resolve(inventory, cat, cfg.sanctioned)
    check_catalogue_names(cfg, cat, resolution.platforms)
    ag = build_graph(inventory, resolution, activity_days=cfg.activity_days,
                     sanctioned=cfg.sanctioned, overlap_view=cfg.overlap_view)
    run_analyses(ag)
    return ag


#: A ``platforms.sanctioned`` entry of this shape is a catalogue slug (or a platform id);
#: anything else (capitals, spaces, ``slack:T123``) is an app or workspace named as its
#: source shows it, which the catalogue cannot know.
_SLUG_SHAPED = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def check_catalogue_names(config: Config, catalog: Catalog,
                          platform_ids: Iterable[str] = ()) -> None:
    """Refuse config naming products nobody knows: a slug-shaped ``platforms.sanctioned``
    entry that is neither a catalogue slug nor a platform id of this inventory, and an
    ``organisation.identity_provider`` the catalogue has no identity provider for. A typo
    here is not harmless: ``sharepoint-onedrive`` silently sanctions nothing and OneDrive
    is then reported as unsanctioned."""
    from sprawl_audit.core.errors import did_you_mean
    from sprawl_audit.graph.identity import canonical_provider, known_provider_names

    slugs = [e.slug for e in catalog]
    known = {*slugs, *platform_ids}
    for index, name in enumerate(config.sanctioned or ()):
        if name in known or not _SLUG_SHAPED.fullmatch(name):
            continue
        raise UserError(
            f"{name!r} is not a catalogue slug{did_you_mean(name, slugs)}; an app the "
            "catalogue does not know is written as its source names it (e.g. 'DocuSign'), "
            "or added under catalog.entries",
            path=config.path, line=_config_line(config.path, "platforms", "sanctioned", index),
            key="platforms.sanctioned")
    for index, name in enumerate(config.identity_providers):
        if canonical_provider(name, catalog) is not None:
            continue
        keys: tuple[Any, ...] = ("organisation", "identity_provider")
        if len(config.identity_providers) > 1 or _config_is_list(config.path, keys):
            keys = (*keys, index)
        raise UserError(
            f"{name!r} is not an identity provider the catalogue knows"
            f"{did_you_mean(name, known_provider_names(catalog))}",
            path=config.path, line=_config_line(config.path, *keys),
            key="organisation.identity_provider")


def _config_is_list(path: str | None, keys: tuple[Any, ...]) -> bool:
    from sprawl_audit.core.yamlio import load_file

    if not path or path.startswith("<") or not Path(path).is_file():
        return False
    try:
        node: Any = load_file(path)
        for key in keys:
            node = node[key]
    except (UserError, KeyError, IndexError, TypeError):
        return False
    return isinstance(node, list)


def build_facts_graph(inventory: Inventory, config: Config | None = None) -> Any:
    """The analysed networkx graph alone (rule fixtures and tests use this)."""
    return analyse(inventory, config).graph


def judge(ag: AuditGraph, selection: RuleSelection) -> tuple[list[dict[str, Any]],
                                                             list[dict[str, Any]]]:
    """Evaluate the selected rules; returns (rule outcomes, findings) as Result dicts."""
    judged = judge_full(ag, selection)
    return judged.rules, judged.findings


def judge_full(ag: AuditGraph, selection: RuleSelection) -> Judgement:
    """Evaluate the selected rules: outcomes, findings and the compliance view."""
    from sprawl_audit.engine import (
        compliance_view,
        evaluate,
        finding_to_dict,
        load_packs,
        outcome_to_dict,
        sorted_findings,
    )
    from sprawl_audit.engine.compliance import elsewhere_index

    packs = selection.enabled_packs()
    _check_pack_names(selection)
    ruleset = load_packs(list(packs), [Path(p) for p in selection.paths])
    unknown = [f for f in selection.frameworks if f not in ruleset.frameworks]
    if unknown:
        raise UserError(f"unknown framework {unknown[0]!r} (known: "
                        f"{', '.join(ruleset.frameworks)})", key="--framework")
    _check_views(selection, ruleset.frameworks)
    known_rules = _every_known_rule(ruleset)
    _check_rule_config(selection, known_rules)
    rules = [r for r in ruleset.rules
             if not selection.frameworks
             or any(ref.framework in selection.frameworks for ref in r.references)]
    ids = {r.id for r in rules}
    outcomes = evaluate(
        rules, ag.graph, ag.inventory.coverage,
        parameters_override={k: v for k, v in selection.parameters.items() if k in ids},
        disabled={k: v for k, v in selection.disabled.items() if k in ids},
        as_of=ag.as_of, edges=ag.edges,
    )
    view = compliance_view(outcomes, ruleset.frameworks, selected=selection.frameworks,
                           elsewhere=elsewhere_index(known_rules.values(), ids),
                           shown=selection.views, sector=selection.sector)
    return Judgement(
        rules=[outcome_to_dict(o) for o in outcomes],
        findings=[finding_to_dict(f) for f in sorted_findings(outcomes)],
        frameworks=view,
        packs=packs,
    )


def _every_known_rule(ruleset: Any) -> dict[str, Any]:
    """Rules of every shipped pack and of the loaded ones, by id: config may tune a rule of
    a pack this run does not enable, and a not-covered control can name the pack to add."""
    from sprawl_audit.engine import load_packs, shipped_packs

    known = {rule.id: rule for rule in ruleset.rules}
    missing = [name for name in shipped_packs() if name not in ruleset.packs]
    if missing:
        for rule in load_packs(missing, frameworks=ruleset.frameworks).rules:
            known.setdefault(rule.id, rule)
    return known


def _config_line(path: str | None, *keys: Any) -> int | None:
    """Line of ``keys`` (mapping keys / list indexes) in the config file, if it can be read."""
    from sprawl_audit.core.yamlio import line_of, load_file

    if not path or path.startswith("<") or not Path(path).is_file():
        return None
    try:
        node: Any = load_file(path)
    except UserError:
        return None
    line = line_of(node)
    for key in keys:
        try:
            line = line_of(node, key) or line
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
    return line


def _check_views(selection: RuleSelection, frameworks: Any) -> None:
    """``rules.frameworks`` names frameworks that exist (a typo would hide a view)."""
    from sprawl_audit.core.errors import did_you_mean

    for index, name in enumerate(selection.views):
        if name not in frameworks:
            raise UserError(f"unknown framework {name!r}{did_you_mean(name, list(frameworks))}",
                            path=selection.config_path,
                            line=_config_line(selection.config_path, "rules", "frameworks",
                                              index),
                            key="rules.frameworks")


def _check_pack_names(selection: RuleSelection) -> None:
    from sprawl_audit.engine import shipped_packs

    shipped = shipped_packs()
    for index, name in enumerate(selection.packs):
        if name in shipped:
            continue
        known = ", ".join(shipped) or "none"
        if selection.packs_explicit:
            raise UserError(f"unknown rule pack {name!r} (shipped packs: {known})", key="--pack")
        raise UserError(f"unknown rule pack {name!r} (shipped packs: {known})",
                        path=selection.config_path,
                        line=_config_line(selection.config_path, "rules", "packs", index),
                        key="rules.packs")


def _check_rule_config(selection: RuleSelection, known: dict[str, Any]) -> None:
    """Every rule id in ``rules.parameters`` / ``rules.disabled`` names a rule, and every
    override fits its parameter — whichever packs this run enables."""
    from sprawl_audit.core.errors import did_you_mean
    from sprawl_audit.engine import resolve_parameters

    path = selection.config_path
    for section, mapping in (("parameters", selection.parameters),
                             ("disabled", selection.disabled)):
        for rule_id in mapping:
            if rule_id not in known:
                raise UserError(f"no rule has id {rule_id!r}{did_you_mean(rule_id, known)} "
                                "(see `sprawl-audit rules list`)",
                                path=path, line=_config_line(path, "rules", section, rule_id),
                                key=f"rules.{section}.{rule_id}")
    for rule_id, override in selection.parameters.items():
        try:
            resolve_parameters(rule_id, known[rule_id].parameters, override)
        except UserError as exc:
            name = (exc.key or "").rsplit(".", 1)[-1]
            raise UserError(exc.message, path=path,
                            line=_config_line(path, "rules", "parameters", rule_id, name),
                            key=f"rules.parameters.{exc.key}") from None


def with_organisation(inventory: Inventory, config: Config) -> Inventory:
    """Config's organisation settings win over what the sources reported."""
    org = inventory.organisation
    if not (config.name or config.domains or config.identity_providers):
        return inventory
    providers = config.identity_providers or (org.identity_provider, *org.identity_providers)
    merged = Organisation(
        name=config.name or org.name,
        domains=tuple(dict.fromkeys((*config.domains, *org.domains))),
        identity_provider=providers[0] if providers else "",
        identity_providers=tuple(providers[1:]),
        as_of=org.as_of,
    )
    return merge(merged, [inventory])


def run_audit(
    inventory: Inventory,
    config: Config,
    selection: RuleSelection,
    *,
    mode: str,
    connectors: list[str],
    fail_on: str | None,
    started_at: str | None = None,
) -> dict[str, Any]:
    started = started_at or now_utc()
    inventory = with_organisation(inventory, config)
    ag = analyse(inventory, config)
    judged = judge_full(ag, selection)
    return build_result(
        ag, judged.rules, judged.findings, mode=mode, started_at=started,
        connectors=connectors, rule_packs=list(judged.packs), fail_on=fail_on,
        frameworks=judged.frameworks,
    )


def collect_live(config: Config, state: dict[str, Any] | None = None
                 ) -> tuple[Inventory, list[str]]:
    """Run every connector configured in ``connectors:``; a source fault is coverage.

    The email connector runs last so it can check the domains the directory connectors
    found (verified domains of Microsoft 365 or Google Workspace) as well as the config's.
    ``state`` maps connector name to what it left last run (delta links); it is updated
    in place with what each connector leaves this run.
    """
    from datetime import datetime, timezone

    from sprawl_audit.connectors.interface import ConnectorContext
    from sprawl_audit.connectors.registry import get_connector
    from sprawl_audit.core.instants import format_instant
    from sprawl_audit.core.logsetup import progress

    if not config.connectors:
        raise UserError("no connectors configured: add a 'connectors:' section, or use --demo "
                        "or --from SNAPSHOT", path=config.path)
    catalog = catalog_for(config)
    check_catalogue_names(config, catalog)  # before minutes of collection, not after
    found: list[str] = list(config.domains)
    parts = []
    names = []
    silent: list[str] = []  # directory connectors that collected nothing (no domains)
    ordered = sorted(config.connectors.items(), key=lambda kv: kv[0] == "email")
    with progress("Collecting", total=len(ordered)) as bar:  # stderr, on a terminal only
        for name, settings in ordered:
            bar.update(label=f"Collecting from {name}")
            connector = get_connector(name, config.path)
            previous = (state or {}).get(name) or {}
            context = ConnectorContext(config_dir=str(config.base_dir),
                                       domains=tuple(dict.fromkeys(found)), catalog=catalog,
                                       state=previous if isinstance(previous, dict) else {},
                                       default_region=config.default_region)
            part = connector.run(settings, context)
            if name == "email" and silent:
                _domains_unknown(part, silent)
            parts.append(part)
            left = getattr(connector, "state", None)
            if state is not None and isinstance(left, dict):
                state[name] = left
            found.extend(d.lower() for d in getattr(connector, "domains", ()))
            if hasattr(connector, "domains") and _failed(part):
                silent.append(name)
            names.append(name)
            bar.advance()
    as_of = format_instant(datetime.now(timezone.utc))
    org = Organisation(name=config.name or "(unnamed organisation)",
                       domains=tuple(dict.fromkeys(found)),
                       identity_provider=config.identity_provider,
                       identity_providers=config.identity_providers[1:], as_of=as_of)
    return merge(org, list(parts)), names


def _failed(part: Any) -> bool:
    from dataclasses import asdict

    from sprawl_audit.report.gaps import failed_sources

    return bool(failed_sources(asdict(c) for c in part.coverage))


def _domains_unknown(part: Any, silent: list[str]) -> None:
    """A directory that collected nothing found no verified domains, so the DNS checks
    ran on fewer domains than they should: ``dns.email`` is partial, not collected —
    otherwise a domain's DNS findings would disappear (and pass) on the outage."""
    from sprawl_audit.connectors.interface import coverage

    note = (f"mail domains that {', '.join(silent)} would have found were not checked "
            f"({', '.join(silent)} collected nothing)")
    part.coverage[:] = [
        coverage(c.connector, c.topic, "partial", f"{c.detail}; {note}", c.items)
        if c.topic == "dns.email" and c.status == "collected" else c
        for c in part.coverage]
