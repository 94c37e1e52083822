"""The graph vocabulary rules may use: node kinds, their facts, edge types, edge attributes.

This mirrors ``docs/facts.md`` (the contract between the analyses and the rules) so that a
rule naming ``active_user`` instead of ``active_users`` is rejected when it is loaded, with
its file and line, instead of silently never matching. When the analyses gain a fact, add
it here and in ``docs/facts.md`` together. A few facts the graph builder sets beyond the
document are listed too (marked "beyond facts.md" below).
"""

from __future__ import annotations

#: Facts every node carries.
COMMON_FACTS: frozenset[str] = frozenset({"kind", "name"})

#: Facts that hold a mapping; rules may reach inside with a dotted name (``attributes.plan``).
DICT_FACTS: frozenset[str] = frozenset({"attributes", "lookup_errors"})

NODE_FACTS: dict[str, frozenset[str]] = {
    "platform": frozenset({
        "id", "vendor", "catalog", "capabilities", "classification", "sanctioned", "tags",
        "retired", "users", "active_users", "departments", "department_count", "sources",
        "source_count", "evidence", "identity_linked", "external_targets", "external_count",
        "integration_count", "device_count", "personal_device_count", "corporate_device_count",
        "head_count",
        "data_categories", "overlap_capabilities", "overlaps_with", "attributes",
        "account_count", "accounts_enabled", "accounts_without_mfa", "accounts_mfa_unknown",
        "accounts_mfa_enforced", "accounts_mfa_not_enforced", "accounts_mfa_enforcement_unknown",
        "accounts_admin", "accounts_admin_unknown",
        "accounts_admin_mfa_unknown", "accounts_login_unknown", "account_login_countries",
        "accounts_never_signed_in", "accounts_never_signed_in_list",
        "accounts_sign_in_unknown",
        "guest_list_read", "guest_list_gap", "guests", "guests_partner",
        "guests_personal_mail", "guests_personal_mail_list", "guests_personal_mail_summary",
        "licences_scope", "licences_read", "licences_gap", "licences_disabled_holders",
        "licences_disabled_list",
        "licences_disabled_summary", "licences_activity_read", "licences_activity_gap",
        "licences_inactive", "licences_inactive_list", "licences_inactive_summary",
        "licences_unassigned", "licence_rows", "licence_products",
        # graph/analyses/residents.py
        "resident_topics", "disappearing_messages", "retrievable", "retrievable_note",
        "recorded_lines", "recorded_payment_lines", "recorded_payment_unknown",
        "recorded_payment_list", "payment_recording_unknown",
    }),
    "account": frozenset({
        "person", "platform", "enabled", "mfa", "mfa_enforced", "admin", "role",
        "login_countries", "last_login", "attributes", "evidence",
    }),
    "person": frozenset({
        "department", "job_title", "enabled", "guest", "licences", "platforms",
        "platform_count", "consumer_platforms", "attributes",
        "in_directory",  # beyond facts.md: the person is in the directory (not only seen)
    }),
    "department": frozenset({
        "people", "consumer_app_users", "consumer_apps", "consumer_exposure", "platforms",
    }),
    "capability": frozenset({
        "platforms", "platform_names", "platform_count", "overlapping_users", "overlap",
        "pairs", "max_jaccard",
    }),
    "integration": frozenset({
        "app", "host", "integration_kind", "scopes", "consent_type", "user_count",
        "all_users", "users_label",
        "publisher", "verified_publisher", "sanctioned", "classification", "tags", "ai",
        "mail_access", "meeting_access", "files_access", "chat_access", "directory_write",
        "high_privilege", "offline_bulk_read", "attributes",
        # beyond facts.md: set by the graph builder / integrations analysis
        "id", "capabilities", "app_name", "evidence",
    }),
    "external": frozenset({
        "target", "link_kinds", "platforms", "people", "consumer_domain", "aliases", "domains",
        "tenant_ids", "slack_teams", "org_evidence", "federation_inbound",
    }),
    "device": frozenset({
        "os", "ownership", "managed", "owner", "apps", "consumer_apps",
        "unrecognised_apps",  # beyond facts.md: installed apps the catalogue did not know
    }),
    "phone": frozenset({
        "number", "owner", "has_owner", "owner_known", "owner_enabled", "owner_internal",
        "leaver_line", "leaver_reason", "label", "service_line", "provider", "system",
        "number_kind", "number_valid", "attributes",
        "evidence",  # beyond facts.md
        "line_topics", "owning_team",  # graph/analyses/residents.py
    }),
    "mail_domain": frozenset({
        "domain", "mx", "mail_providers", "spf", "spf_all", "spf_includes", "spf_lookups",
        "spf_senders", "dmarc", "dmarc_policy", "dmarc_subdomain_policy", "dmarc_pct",
        "dmarc_rua", "dkim_ok", "dkim_missing", "mta_sts_mode", "tls_rpt",
        "lookup_failures", "lookup_errors", "lookup_summary", "dmarc_rua_expected",
        "dmarc_rua_gap",
        # RFC 7208 / RFC 7489 verdicts (parsers/spf.py, parsers/mailauth.py)
        "spf_result", "spf_default", "spf_default_gap", "spf_permerrors",
        "spf_permerror_kinds", "spf_permerror_summary", "spf_warnings", "spf_tree_gap",
        "dmarc_result", "dmarc_nonexistent_policy", "dmarc_errors", "dmarc_error_kinds",
        "dmarc_ignored", "dmarc_problem_summary", "dmarc_warnings",
        "sends_mail", "dmarc_partial_summary",
        "evidence", "attributes",  # beyond facts.md
    }),
}

NODE_KINDS: tuple[str, ...] = tuple(NODE_FACTS)

EDGE_TYPES: tuple[str, ...] = (
    "USES", "MEMBER_OF", "PROVIDES", "OWNS", "RUNS", "INSTANCE_OF", "CONNECTED_TO",
    "GRANTED", "LINKS_TO", "ASSIGNED_TO", "CARRIED_BY", "HOSTED_ON", "RECEIVES_VIA",
    "SENDS_VIA", "SIGNS_IN_WITH", "HOLDS", "ON_PLATFORM",
)

#: Attributes edges may carry (``type`` on every edge; the rest per edge type).
EDGE_FACTS: frozenset[str] = frozenset({
    "type", "active", "last_active", "activity", "head_count", "sources", "scopes",
    "consent_type", "link_kind", "people", "detail",
})

#: Edge attributes holding a mapping (``activity.messages``).
EDGE_DICT_FACTS: frozenset[str] = frozenset({"activity"})


def facts_of(kind: str | None) -> frozenset[str]:
    """Facts a node of ``kind`` may carry; any kind's facts when ``kind`` is None."""
    if kind is None:
        out: set[str] = set(COMMON_FACTS)
        for names in NODE_FACTS.values():
            out |= names
        return frozenset(out)
    return COMMON_FACTS | NODE_FACTS[kind]


def is_known_fact(name: str, known: frozenset[str], dict_facts: frozenset[str]) -> bool:
    """True when ``name`` is a known fact, or a dotted path into a known mapping fact."""
    head, dot, _rest = name.partition(".")
    if not dot:
        return name in known
    return head in known and head in dict_facts
