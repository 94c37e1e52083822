"""The rule engine's records: rules as loaded, and what judging them produced.

Rules are data compiled once at load time (conditions become callables, message templates
are parsed, regexes compiled), so evaluation never re-parses YAML and every mistake in a
rule file surfaces at load with its location, not half-way through an audit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sprawl_audit.core.model import SEVERITIES
from sprawl_audit.engine.operators import PatternBudget

#: Higher is worse; used to sort findings and to compare against ``--fail-on``.
SEVERITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(SEVERITIES)}

#: What judging one rule can come to.
OUTCOME_STATUSES: tuple[str, ...] = ("failed", "passed", "not_assessed", "disabled")


@dataclass(frozen=True)
class Scope:
    """What a compiled condition sees besides the facts: the graph and resolved parameters."""

    graph: Any  # networkx.MultiDiGraph; typed loosely so the engine needs no graph import
    params: Mapping[str, Any]
    #: The instant the evidence describes (``as_of``): what ``older_than_days`` counts from.
    #: None means "now".
    as_of: datetime | None = None
    #: Edges by type (:class:`~sprawl_audit.graph.adjacency.EdgeIndex`), built once per
    #: evaluation; None makes ``related`` walk the graph itself (ad-hoc scopes in tests).
    edges: Any = None
    #: ``related`` results of inner conditions per (condition, neighbour) for this rule:
    #: a neighbour's verdict depends only on it and the parameters, and a platform or
    #: department is reached from thousands of people.
    memo: dict[Any, bool] = field(default_factory=dict, compare=False, repr=False)
    #: Time spent by this rule's ``matches`` searches that ran out of budget: a
    #: catastrophic pattern is stopped after a few timeouts, not retried on every subject.
    patterns: PatternBudget = field(default_factory=PatternBudget, compare=False, repr=False)


#: A compiled condition: (scope, facts of the node or edge, graph node id or None) -> match.
Predicate = Callable[[Scope, Mapping[str, Any], "str | None"], bool]


@dataclass(frozen=True, eq=False)
class Condition:
    """A compiled ``where`` clause: the spec as written (for display) and its test."""

    spec: Any
    test: Predicate
    #: Parameter names the condition refers to as ``"{name}"``.
    parameters: frozenset[str] = frozenset()

    def __call__(self, scope: Scope, facts: Mapping[str, Any], node_id: str | None) -> bool:
        return self.test(scope, facts, node_id)


def always(_scope: Scope, _facts: Mapping[str, Any], _node: str | None) -> bool:
    return True


MATCH_ALL = Condition(spec=None, test=always)


@dataclass(frozen=True)
class Reference:
    """A control a rule maps to, cited by framework id, control id and a short title."""

    framework: str
    control: str
    title: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"framework": self.framework, "control": self.control}
        if self.title:
            out["title"] = self.title
        return out


@dataclass(frozen=True)
class Control:
    """One control (article, outcome, requirement area) of a framework: its id and a short
    title in our own words — never the framework's text."""

    id: str
    title: str = ""
    #: In a derived framework: the source framework's controls this one stands for (a
    #: rule citing any of them cites this control too).
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Framework:
    """Metadata of a framework rules cite, defined in its pack's ``pack.yaml``.

    ``controls`` lists what the compliance view reports on, in the framework's order; a
    framework without a list (a custom one) accepts any control id and reports the ones
    its rules cite. ``pack`` names the pack that defines it and ``path``/``line`` where.
    """

    id: str
    name: str
    version: str = ""
    publisher: str = ""
    url: str = ""
    licence: str = ""
    note: str = ""
    controls: tuple[Control, ...] = ()
    pack: str = ""
    path: str = ""
    line: int = 0
    #: Who the framework is written for, in a sentence (shown with every view of it).
    applies_to: str = ""
    #: Sectors (``organisation.sector``) it binds; empty: it applies as written to anyone
    #: who uses it. For any other sector its view is good practice: a control whose rules
    #: found something is ``not_followed``, never ``failed``.
    binding_for: tuple[str, ...] = ()
    #: A framework whose references are derived from another's (the CAF-aligned DSPT from
    #: the CAF): rules never cite it directly, so the two views cannot disagree.
    derived_from: str = ""

    def binding(self, sector: str | None) -> bool:
        """Whether the framework binds an organisation of ``sector`` (None: unknown)."""
        return not self.binding_for or (sector or "") in self.binding_for

    def control(self, control_id: str) -> Control | None:
        for control in self.controls:
            if control.id == control_id:
                return control
        return None

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True, eq=False)
class Assessment:
    """A rule's ``assess`` clause: when a subject's own evidence is enough to judge it.

    A subject that does not match the rule passes only when ``condition`` holds for it;
    otherwise it is *not assessed*, with ``reason`` (a message template) rendered from its
    facts. This is how a rule says what a pass needs — a platform with no MFA evidence,
    a domain whose DNS lookup failed — so that the absence of data never reads as good.
    """

    condition: Condition
    reason: Any  # sprawl_audit.engine.template.Template


@dataclass(frozen=True, eq=False)
class SeverityWhen:
    """One ``severity_when`` entry: a finding on a subject where ``condition`` holds takes
    ``severity`` instead of the rule's own (the first entry that holds wins). One rule can
    then say that the same gap is worse on some subjects — a published service line with
    nobody answering for it, a consumer app that carries residents' data — without a
    second rule reporting the same subject twice."""

    condition: Condition
    severity: str


@dataclass(frozen=True, eq=False)
class Rule:
    """One rule as loaded and validated. ``requires`` entries may be ``"a|b"`` alternatives.

    Compared and hashed by identity (``eq=False``): a rule holds compiled callables, and
    two loads of one file are different rules as far as the engine is concerned.
    """

    id: str
    title: str
    severity: str
    kind: str
    condition: Condition
    requires: tuple[str, ...]
    message: Any  # sprawl_audit.engine.template.Template
    remediation: str
    rationale: str = ""
    parameters: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    references: tuple[Reference, ...] = ()
    tags: tuple[str, ...] = ()
    enabled: bool = True
    pack: str = ""
    path: str = ""
    line: int = 0
    #: ``select.where`` alone: which nodes are the rule's subjects at all (``condition``
    #: already includes it). Subjects outside it are neither passed nor unassessed.
    scope: Condition = MATCH_ALL
    #: What a pass needs per subject (None: every subject in scope can be judged).
    assess: Assessment | None = None
    #: Evidence a *pass* needs on top of ``requires``: without it the rule still finds
    #: what it can see, but cannot pass (e.g. a device rule whose only source lists
    #: enrolled devices cannot say there are no unmanaged ones). Same form as requires.
    pass_requires: tuple[str, ...] = ()
    #: Per-subject severity, first match wins; the rule's ``severity`` otherwise.
    severity_when: tuple[SeverityWhen, ...] = ()

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class Pack:
    """A folder of rules with a ``pack.yaml``; ``root`` also holds its ``tests/`` fixtures."""

    name: str
    root: Any  # pathlib.Path or importlib.resources Traversable
    title: str = ""
    description: str = ""
    #: Frameworks the pack's rules serve (cite); ``--framework X`` enables the shipped
    #: packs that list X.
    frameworks: tuple[str, ...] = ()
    version: str = ""
    #: True when the folder has a pack.yaml (its tests folder then belongs to it alone).
    declared: bool = False
    #: Frameworks this pack's pack.yaml defines (metadata and controls).
    defines: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSet:
    """All rules loaded for one run, in load order, with their packs and frameworks."""

    rules: tuple[Rule, ...]
    packs: Mapping[str, Pack] = field(default_factory=lambda: MappingProxyType({}))
    frameworks: Mapping[str, Framework] = field(default_factory=lambda: MappingProxyType({}))

    def get(self, rule_id: str) -> Rule | None:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        return None

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self.rules)


@dataclass(frozen=True)
class Subject:
    """The graph node a finding is about."""

    kind: str
    id: str
    name: str


@dataclass(frozen=True)
class Finding:
    """One rule hit on one node. ``fingerprint`` is stable across runs for the same pair."""

    fingerprint: str
    rule_id: str
    title: str
    severity: str
    subject: Subject
    message: str
    remediation: str
    rationale: str
    references: tuple[Reference, ...]
    evidence: tuple[str, ...]
    suppressed: bool = False


@dataclass(frozen=True)
class UnassessedSubject:
    """A subject a rule could not judge, and why (its ``assess`` reason)."""

    id: str
    name: str
    reason: str


#: How much of the evidence a rule needs was there (the Result's ``rules[].evidence``).
EVIDENCE_STATES: tuple[str, ...] = ("complete", "incomplete", "missing")


@dataclass(frozen=True)
class RuleOutcome:
    """The verdict on one rule: its status, its findings and, when useful, why.

    ``evidence`` is ``complete`` only when every coverage entry behind the rule's requirements
    was collected in full and every subject could be judged: only then can the rule
    pass, and only then can drift call a vanished finding *resolved*.
    """

    rule: Rule
    status: str  # one of OUTCOME_STATUSES
    findings: tuple[Finding, ...] = ()
    reason: str | None = None
    #: Parameter values actually used (defaults merged with overrides).
    parameters: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: ``complete``, ``incomplete`` or ``missing`` (nothing to judge on, or disabled).
    evidence: str = "missing"
    #: Coverage entries behind the requirements that were not collected in full.
    incomplete: tuple[str, ...] = ()
    #: Subjects the rule could not judge (``assess`` did not hold for them).
    unassessed: tuple[UnassessedSubject, ...] = ()

    @property
    def complete(self) -> bool:
        return self.evidence == "complete"
