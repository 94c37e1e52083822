"""The rule engine: load YAML rules, judge a facts graph, report outcomes and findings.

Rules are data (``rules/<pack>/*.yaml``) read by compliance officers; this package turns
them into compiled, validated :class:`Rule` objects (:mod:`.loader`), evaluates them
against the graph the analyses produced (:mod:`.evaluate`) and checks each rule against
its fixtures (:mod:`.fixtures`). Rules read only the facts listed in ``docs/facts.md``
(mirrored in :mod:`.vocabulary`).
"""

from sprawl_audit.engine.compliance import CONTROL_STATUSES, compliance_view
from sprawl_audit.engine.evaluate import (
    evaluate,
    finding_sort_key,
    finding_to_dict,
    fingerprint,
    outcome_to_dict,
    sorted_findings,
)
from sprawl_audit.engine.fixtures import (
    FixtureCase,
    FixtureResult,
    load_fixture,
    missing_fixtures,
    orphan_fixtures,
    run_fixtures,
)
from sprawl_audit.engine.frameworks import load_frameworks
from sprawl_audit.engine.loader import check_packs, load_packs, load_rules, shipped_packs
from sprawl_audit.engine.model import (
    OUTCOME_STATUSES,
    SEVERITY_RANK,
    Condition,
    Control,
    Finding,
    Framework,
    Pack,
    Reference,
    Rule,
    RuleOutcome,
    RuleSet,
    Subject,
)
from sprawl_audit.engine.parameters import resolve as resolve_parameters

__all__ = [
    "CONTROL_STATUSES",
    "OUTCOME_STATUSES",
    "SEVERITY_RANK",
    "Condition",
    "Control",
    "Finding",
    "FixtureCase",
    "FixtureResult",
    "Framework",
    "Pack",
    "Reference",
    "Rule",
    "RuleOutcome",
    "RuleSet",
    "Subject",
    "check_packs",
    "compliance_view",
    "evaluate",
    "finding_sort_key",
    "finding_to_dict",
    "fingerprint",
    "load_fixture",
    "load_frameworks",
    "load_packs",
    "load_rules",
    "missing_fixtures",
    "orphan_fixtures",
    "outcome_to_dict",
    "resolve_parameters",
    "run_fixtures",
    "shipped_packs",
    "sorted_findings",
]
