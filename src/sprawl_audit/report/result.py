"""Assemble the Result document (docs/result.md) from the analysed graph and rule outcomes.

The Result is the only thing formats see, so everything a report shows must be here,
already computed: a saved Result re-renders identically without the inventory.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from sprawl_audit import __version__
from sprawl_audit.core.model import CAPABILITIES, SEVERITIES, Inventory
from sprawl_audit.graph.build import AuditGraph
from sprawl_audit.report.grouping import annotate_groups

SCHEMA_VERSION = "1.6"
_SEV_RANK = {s: i for i, s in enumerate(SEVERITIES)}
#: The manual connector's evidence detail is "<source>, entry <n>" (connectors/manual).
_ENTRY_SUFFIX = re.compile(r", entry \d+$")


def now_utc() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _pick(facts: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {k: facts.get(k) for k in keys}


def _phone(f: Mapping[str, Any]) -> dict[str, Any]:
    """One number as the Result lists it: the graph's verdicts and what the import gave
    (label, site, call recording, retention, card payments), so an export shows the line
    as the phone system knows it, not only as a number."""
    attributes = f.get("attributes") or {}
    recording = attributes.get("call_recording")
    payments = attributes.get("takes_payments")
    retention = attributes.get("retention_days")
    return {
        **_pick(f, ("number", "owner", "has_owner", "owner_enabled", "provider", "system")),
        "kind": f.get("number_kind"),
        "owner_known": bool(f.get("owner_known")),
        "leaver_line": bool(f.get("leaver_line")),
        "leaver_reason": f.get("leaver_reason"),
        "service_line": bool(f.get("service_line")),
        "label": f.get("label"),
        "site": str(attributes["site"]) if attributes.get("site") else None,
        "call_recording": recording if isinstance(recording, bool) else None,
        "retention_days": retention if isinstance(retention, int)
        and not isinstance(retention, bool) else None,
        "takes_payments": payments if isinstance(payments, bool) else None,
    }


def interviews(inventory: Inventory) -> list[dict[str, Any]]:
    """Who gathered the interview notes and when (the manual file's ``source``, else its
    file name), with the number of entries each gave: a reader weighs what people said
    by who asked them and how long ago, so the methodology names it."""
    entries: Counter[str] = Counter()
    for obs in inventory.observations:
        if obs.source.topic != "manual.inventory":
            continue
        source = _ENTRY_SUFFIX.sub("", obs.source.detail)
        entries[source] += obs.person is None  # one per entry; named people add none
    return [{"source": source, "entries": n} for source, n in sorted(entries.items())]


#: Licence rows: platforms whose licences were read first (subscriptions, then products),
#: then platforms in a connector's licence scope whose licences were not read (a
#: directory, a Slack workspace), then platforms nobody reads them for.
_LICENCE_KINDS = ("subscription", "product", "platform")
_LICENCE_STATES = ("read", "not_read", "unknown")


def licences(ag: AuditGraph) -> list[dict[str, Any]]:
    """The ``licences`` table (docs/result.md): per platform whose licences were read, one
    row per subscription (seats bought, assigned, held by disabled accounts, held by
    people with no activity — None when activity was not readable) and one per product
    (users it is switched on for); a platform in a connector's licence scope (a
    directory, a Slack workspace) whose licences were not read says why;
    other corporate platforms people use are counted, their licences ``unknown``."""
    g = ag.graph
    rows: list[dict[str, Any]] = []
    read_by: set[str] = set()
    for n in ag.nodes_of("platform"):
        f = g.nodes[n]
        if not f.get("licences_read"):
            continue
        record = ag.resolution.platforms.get(str(f.get("id")))
        if record is not None:
            read_by.update(s.connector for s in record.sources)
    for n in ag.nodes_of("platform"):
        f = g.nodes[n]
        base = {"platform": f.get("id"), "name": f.get("name"), "sku": None, "product": None,
                "enabled": None, "suspended": None, "warning": None, "consumed": None,
                "users": None, "held_by_disabled": None, "inactive": None, "detail": None}
        if f.get("licences_read"):
            for r in f.get("licence_rows") or ():
                rows.append({**base, "kind": "subscription", "licence": "read",
                             **_pick(r, ("sku", "product", "enabled", "suspended", "warning",
                                         "consumed", "users", "held_by_disabled",
                                         "inactive"))})
            for product, users in (f.get("licence_products") or {}).items():
                rows.append({**base, "kind": "product", "licence": "read", "product": product,
                             "users": users})
            continue
        if f.get("licences_scope"):
            rows.append({**base, "kind": "platform", "licence": "not_read",
                         "users": f.get("users"), "detail": f.get("licences_gap")})
            continue
        record = ag.resolution.platforms.get(str(f.get("id")))
        covered = record is not None and any(
            s.connector in read_by and s.topic == "directory.users" for s in record.sources)
        if covered or f.get("classification") != "corporate" or not f.get("users"):
            continue
        rows.append({**base, "kind": "platform", "licence": "unknown", "users": f.get("users"),
                     "detail": "no connector reads this product's licences"})
    rows.sort(key=lambda r: (_LICENCE_STATES.index(r["licence"]),
                             str(r["name"] or r["platform"]).lower(),
                             _LICENCE_KINDS.index(r["kind"]),
                             str(r["sku"] or r["product"] or "").lower()))
    return rows


def build_result(
    ag: AuditGraph,
    outcomes: Sequence[Mapping[str, Any]],
    findings: Sequence[Mapping[str, Any]],
    *,
    mode: str,
    started_at: str,
    connectors: list[str],
    rule_packs: list[str],
    fail_on: str | None,
    frameworks: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The Result document. ``frameworks`` is the compliance view
    (:func:`sprawl_audit.engine.compliance_view`); None leaves the section out."""
    g = ag.graph
    org = ag.inventory.organisation

    def facts(kind: str) -> list[dict[str, Any]]:
        return [g.nodes[n] for n in ag.nodes_of(kind)]

    platforms = sorted(
        (
            _pick(f, ("id", "name", "vendor", "catalog", "capabilities",
                      "primary_capabilities", "classification",
                      "sanctioned", "tags", "users", "active_users", "departments", "sources",
                      "identity_linked", "external_targets", "head_count", "data_categories",
                      "attributes"))
            for f in facts("platform")
        ),
        key=lambda p: (-p["active_users"], p["id"]),
    )
    names = {p["id"]: p["name"] for p in platforms}
    capabilities = []
    for f in sorted(facts("capability"), key=lambda f: CAPABILITIES.index(f["name"])
                    if f["name"] in CAPABILITIES else 99):
        if not f.get("platforms"):
            continue
        capabilities.append({
            "name": f["name"],
            "platforms": [{"id": p, "name": names.get(p, p),
                           "active_users": f["platform_users"].get(p, 0)}
                          for p in f["platforms"]],
            "overlapping_users": f["overlapping_users"],
            "pairs": f["pairs"],
            "secondary_platforms": [{"id": p, "name": names.get(p, p)}
                                    for p in f.get("secondary_platforms", ())],
        })
    departments = sorted(
        (_pick(f, ("name", "people", "consumer_app_users", "consumer_apps", "consumer_exposure"))
         for f in facts("department")),
        key=lambda d: (-d["consumer_app_users"], d["name"]),
    )
    integrations = sorted(
        (
            {**_pick(f, ("id", "name", "app", "host", "scopes", "consent_type", "user_count",
                         "all_users", "users_label", "publisher", "verified_publisher",
                         "sanctioned", "ai", "mail_access", "meeting_access")),
             "kind": f.get("integration_kind")}
            for f in facts("integration")
        ),
        key=lambda i: (-i["user_count"], i["name"], i["id"]),
    )
    externals = sorted(
        ({**_pick(f, ("target", "name", "aliases", "domains", "tenant_ids", "slack_teams",
                      "link_kinds", "platforms", "people", "consumer_domain")),
          "evidence": list(f.get("org_evidence", ()))}
         for f in facts("external")),
        key=lambda e: (-e["people"], e["target"]),
    )
    phones = sorted((_phone(f) for f in facts("phone")), key=lambda n: n["number"])
    mail_domains = sorted(
        (_pick(f, ("domain", "mail_providers", "spf_all", "spf_senders", "spf_lookups",
                   "dmarc_policy", "dmarc_pct", "dmarc_rua", "dkim_ok", "dkim_missing",
                   "mta_sts_mode", "tls_rpt")) for f in facts("mail_domain")),
        key=lambda m: m["domain"],
    )
    islands = sorted(p["id"] for p in platforms
                     if not p["identity_linked"] and p["users"] > 0
                     and p["classification"] != "consumer")
    coverage = [
        {"connector": c.connector, "topic": c.topic, "status": c.status, "detail": c.detail,
         "items": c.items}
        for c in sorted(ag.inventory.coverage, key=lambda c: (c.connector, c.topic))
    ]
    by_sev = Counter(f["severity"] for f in findings if not f.get("suppressed"))
    status_count = Counter(o["status"] for o in outcomes)
    consumer_people = {
        n for n in ag.nodes_of("person") if g.nodes[n].get("consumer_platforms")
    }
    consumer_heads = sum(d["consumer_app_users"] for d in departments)
    people_count = sum(1 for n in ag.nodes_of("person") if g.nodes[n].get("in_directory"))
    summary = {
        "platforms": len(platforms),
        "people": people_count,
        "departments": sum(1 for d in departments if d["people"]),
        "corporate_platforms": sum(p["classification"] == "corporate" for p in platforms),
        "consumer_platforms": sum(p["classification"] == "consumer" for p in platforms),
        "unknown_platforms": sum(p["classification"] == "unknown" for p in platforms),
        "capabilities_with_overlap": [c["name"] for c in capabilities if c["overlapping_users"]],
        "consumer_app_users": max(len(consumer_people), consumer_heads),
        "integrations": len(integrations),
        "external_parties": len(externals),
        "phone_numbers": len(phones),
        "mail_domains": len(mail_domains),
        "findings_by_severity": {s: by_sev.get(s, 0) for s in reversed(SEVERITIES)},
        "rules": {k: status_count.get(k, 0) for k in ("failed", "passed", "not_assessed")},
        "coverage_gaps": sum(c["status"] != "collected" for c in coverage),
    }
    ordered = sorted(
        findings,
        key=lambda f: (-_SEV_RANK[f["severity"]], f["rule_id"], f["subject"]["id"]),
    )
    finished = now_utc()
    result: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "sprawl-audit", "version": __version__},
        "run": {
            "id": f"{started_at}-{secrets.token_hex(2)}",
            "mode": mode,
            "started_at": started_at,
            "finished_at": finished,
            "as_of": ag.as_of.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "organisation": {"name": org.name, "domains": list(org.domains),
                             "identity_provider": org.identity_provider,
                             "identity_providers": list(ag.identity_providers),
                             "identity_providers_inferred":
                                 list(ag.identity_providers_inferred)},
            "connectors": connectors,
            "rule_packs": rule_packs,
            "activity_days": ag.activity_days,
            "overlap_view": ag.overlap_view,
            "interviews": interviews(ag.inventory),
            "fail_on": fail_on,
        },
        "summary": summary,
        "platforms": platforms,
        "capabilities": capabilities,
        "departments": departments,
        "integrations": integrations,
        "external_parties": externals,
        "phone_numbers": phones,
        "mail_domains": mail_domains,
        "licences": licences(ag),
        "islands": islands,
        # who actively uses what: people-per-platform exports, and what --redact rewrites
        "people": [
            {"id": n.split(":", 1)[1], "department": f.get("department", ""),
             "platforms": f.get("platforms", [])}
            for n in sorted(ag.nodes_of("person"))
            if (f := g.nodes[n]).get("platforms")
        ],
        "unrecognised": [
            {"kind": u.kind, "value": u.value, "label": u.label, "seen": u.seen,
             "connectors": list(u.connectors)}
            for u in ag.resolution.unrecognised
        ],
        "findings": ordered,
        "rules": list(outcomes),
        "coverage": coverage,
    }
    if frameworks is not None:
        result["frameworks"] = [dict(f) for f in frameworks]
    return annotate_groups(result)
