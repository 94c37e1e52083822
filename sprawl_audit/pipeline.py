"""The audit pipeline, one direction: collect → resolve → graph → analyses → rules → Result.

The CLI only parses flags and calls these functions, so every step can be driven from
tests and benchmarks without click.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sprawl_audit.analyses import run_analyses
from sprawl_audit.catalog import Catalog, load_catalog
from sprawl_audit.config import Config
from sprawl_audit.errors import UserError
from sprawl_audit.graph import AuditGraph, build_graph
from sprawl_audit.model import Inventory, Organisation, merge
from sprawl_audit.resolve import resolve
from sprawl_audit.result import build_result, now_utc


@dataclass(frozen=True)
class RuleSelection:
    """Which rules judge this audit: shipped packs by name plus extra files or folders."""

    packs: tuple[str, ...] = ("baseline",)
    paths: tuple[str, ...] = ()
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    disabled: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Config, extra_paths: Sequence[str] = (),
                    packs: Sequence[str] | None = None) -> RuleSelection:
        return cls(
            packs=tuple(packs) if packs else config.rule_packs,
            paths=(*config.rule_paths, *extra_paths),
            parameters={k: dict(v) for k, v in config.rule_parameters.items()},
            disabled=dict(config.rules_disabled),
        )


def catalog_for(config: Config | None) -> Catalog:
    return load_catalog(list(config.catalog_entries) if config and config.catalog_entries
                        else None)


def analyse(inventory: Inventory, config: Config | None = None,
            catalog: Catalog | None = None) -> AuditGraph:
    """Resolve, build the graph and run every analysis; the input rules are judged on."""
    cfg = config or Config()
    cat = catalog or catalog_for(cfg)
    resolution = resolve(inventory, cat, cfg.sanctioned)
    ag = build_graph(inventory, resolution, activity_days=cfg.activity_days,
                     sanctioned=cfg.sanctioned)
    run_analyses(ag)
    return ag


def build_facts_graph(inventory: Inventory, config: Config | None = None) -> Any:
    """The analysed networkx graph alone (rule fixtures and tests use this)."""
    return analyse(inventory, config).graph


def judge(ag: AuditGraph, selection: RuleSelection) -> tuple[list[dict[str, Any]],
                                                             list[dict[str, Any]]]:
    """Evaluate the selected rules; returns (rule outcomes, findings) as Result dicts."""
    from sprawl_audit.engine import (
        evaluate,
        finding_to_dict,
        load_packs,
        outcome_to_dict,
        sorted_findings,
    )

    ruleset = load_packs(list(selection.packs), [Path(p) for p in selection.paths])
    outcomes = evaluate(ruleset, ag.graph, ag.inventory.coverage,
                        parameters_override=selection.parameters, disabled=selection.disabled)
    return ([outcome_to_dict(o) for o in outcomes],
            [finding_to_dict(f) for f in sorted_findings(outcomes)])


def with_organisation(inventory: Inventory, config: Config) -> Inventory:
    """Config's organisation settings win over what the sources reported."""
    org = inventory.organisation
    if not (config.name or config.domains or config.identity_provider):
        return inventory
    merged = Organisation(
        name=config.name or org.name,
        domains=tuple(dict.fromkeys((*config.domains, *org.domains))),
        identity_provider=config.identity_provider or org.identity_provider,
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
    rules, findings = judge(ag, selection)
    return build_result(
        ag, rules, findings, mode=mode, started_at=started, connectors=connectors,
        rule_packs=list(selection.packs), fail_on=fail_on,
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

    if not config.connectors:
        raise UserError("no connectors configured: add a 'connectors:' section, or use --demo "
                        "or --from SNAPSHOT", path=config.path)
    catalog = catalog_for(config)
    found: list[str] = list(config.domains)
    parts = []
    names = []
    for name, settings in sorted(config.connectors.items(), key=lambda kv: kv[0] == "email"):
        connector = get_connector(name, config.path)
        previous = (state or {}).get(name) or {}
        context = ConnectorContext(config_dir=str(config.base_dir),
                                   domains=tuple(dict.fromkeys(found)), catalog=catalog,
                                   state=previous if isinstance(previous, dict) else {})
        parts.append(connector.collect(settings, context))
        left = getattr(connector, "state", None)
        if state is not None and isinstance(left, dict):
            state[name] = left
        found.extend(d.lower() for d in getattr(connector, "domains", ()))
        names.append(name)
    as_of = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    org = Organisation(name=config.name or "(unnamed organisation)",
                       domains=tuple(dict.fromkeys(found)),
                       identity_provider=config.identity_provider, as_of=as_of)
    return merge(org, list(parts)), names
