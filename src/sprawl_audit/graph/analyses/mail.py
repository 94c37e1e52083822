"""Mail domains: who receives and sends as the organisation, and how strictly.

A lookup that got no answer (timeout, SERVFAIL, REFUSED: ``attributes.errors`` from the
email connector) is not a missing record. Each domain says which records could not be
read (``lookup_failures``) and why, in words a report can show (``lookup_errors``), so the
rules about those records leave the domain *not assessed* instead of failing or passing it.

SPF and DMARC are judged as receivers judge them (:mod:`sprawl_audit.parsers.spf`,
:mod:`sprawl_audit.parsers.mailauth`): the email connector's evaluation of the whole SPF tree
when it has one (``attributes.spf_result``), else the domain's own record read alone —
what it says is still judged, and what it delegates is named as the gap
(``spf_tree_gap``) so no rule passes on a tree nobody walked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sprawl_audit.core.model import MailDomain
from sprawl_audit.graph.build import AuditGraph, EdgeTypes
from sprawl_audit.parsers import spf as spf_module
from sprawl_audit.parsers.mailauth import check_dmarc, parse_mta_sts_mode

#: Records a lookup failure can leave unknown, as the rules name them.
RECORDS: tuple[str, ...] = ("mx", "spf", "spf_tree", "dmarc", "dkim", "mta_sts", "tls_rpt")
_LABELS = {"mx": "MX", "spf": "SPF (TXT)", "spf_tree": "SPF include", "dmarc": "DMARC",
           "dkim": "DKIM", "mta_sts": "MTA-STS", "tls_rpt": "TLS-RPT"}
#: The connector's error keys -> the records they leave unknown.
_AFFECTS: dict[str, tuple[str, ...]] = {
    "mx": ("mx",),
    "txt": ("spf", "spf_tree"),  # the apex TXT holds SPF, the root of the include tree
    "dmarc": ("dmarc",),
    "mta_sts": ("mta_sts",),
    "mta_sts_policy": ("mta_sts",),
    "tls_rpt": ("tls_rpt",),
    "other lookups": ("dmarc", "dkim", "mta_sts", "tls_rpt"),
    "answers": RECORDS,
}
#: Not failures: answers saying the name or record does not exist.
_ANSWERS = frozenset({"NXDOMAIN", "NODATA"})


def _phrase(error: str) -> str:
    low = error.strip().lower()
    if low == "timeout":
        return "timed out"
    if low == "skipped":
        return "was not asked (the domain's MX and TXT lookups timed out)"
    if error.upper() in ("SERVFAIL", "REFUSED"):
        return f"got {error.upper()}"
    return f"failed ({error})"


def lookup_failures(domain: str, errors: Any) -> dict[str, str]:
    """record -> "DMARC lookup for example.org timed out", for every record a failed lookup
    left unknown (the first failure wins where several touch one record)."""
    out: dict[str, str] = {}
    if not isinstance(errors, Mapping):
        return out
    for key, value in errors.items():
        error = str(value)
        if error in _ANSWERS:
            continue
        name = str(key)
        if name.startswith("dkim "):
            records: tuple[str, ...] = ("dkim",)
            what = f"DKIM selector {name[5:]}"
        elif name.startswith("spf "):  # spf include|redirect|a|mx <host>
            records = ("spf_tree",)
            what = f"SPF {name[4:]}"
        else:
            records = _AFFECTS.get(name, ())
            what = ""
        for record in records:
            label = what or _LABELS[record]
            out.setdefault(record, f"{label} lookup for {domain} {_phrase(error)}")
    return {r: out[r] for r in RECORDS if r in out}


def spf_facts(m: MailDomain, failures: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The SPF facts of a domain (see docs/facts.md). ``failures`` are its
    :func:`lookup_failures`: a record that could not be read is a gap, never a verdict."""
    failures = failures or {}
    attrs = m.attributes
    records = spf_module.published_records(m.spf, attrs)
    if "spf_result" in attrs:
        verdict = dict(attrs)
    else:  # the domain's own record alone: the connector did not walk its tree
        verdict = spf_module.evaluate(m.domain, records, None).attributes()
    result = verdict.get("spf_result") or "none"
    unresolved = list(verdict.get("spf_unresolved") or [])
    top = records[0] if len(records) == 1 else None
    tree_gap = failures.get("spf") or failures.get("spf_tree")
    if not tree_gap and unresolved:
        tree_gap = (f"the SPF of {m.domain} names {', '.join(unresolved[:5])}"
                    f"{' and more' if len(unresolved) > 5 else ''}, which were not looked "
                    "up (the DNS answers hold only its own record)")
    default = verdict.get("spf_default")
    default_gap = failures.get("spf")
    if not default_gap and records and default is None:
        if result == "permerror":
            default_gap = (f"the SPF of {m.domain} is a permerror (SA-DNS-006): it "
                           "declares no default receivers could apply")
        else:
            default_gap = tree_gap or (f"the SPF of {m.domain} redirects through a macro, "
                                       "which is expanded only for each message")
    permerrors = [str(p) for p in verdict.get("spf_permerrors") or []]
    return {
        "spf": m.spf,
        "spf_all": spf_module.written_all(top),
        "spf_includes": spf_module.include_hosts(top),
        # the whole include tree when the email connector resolved it (RFC 7208's limit
        # applies to the tree), else the top record's own terms
        "spf_lookups": int(attrs.get("spf_lookups_total", spf_module.own_lookups(top))),
        "spf_result": result,
        "spf_default": default,
        "spf_default_gap": default_gap,
        "spf_permerrors": permerrors,
        "spf_permerror_kinds": list(verdict.get("spf_permerror_kinds") or []),
        "spf_permerror_summary": "; ".join(permerrors) or None,
        "spf_warnings": list(verdict.get("spf_warnings") or []),
        "spf_tree_gap": tree_gap,
    }


def dmarc_facts(m: MailDomain) -> dict[str, Any]:
    """The DMARC facts of a domain (see docs/facts.md)."""
    records = [str(r) for r in m.attributes.get("dmarc_record_list")
               or ([m.dmarc] if m.dmarc else [])]
    d = check_dmarc(records)
    return {
        "dmarc": m.dmarc,
        "dmarc_result": d.result,
        "dmarc_policy": d.policy,
        "dmarc_subdomain_policy": d.subdomain_policy,
        "dmarc_nonexistent_policy": d.nonexistent_policy,
        "dmarc_pct": d.pct if d.record else None,
        "dmarc_rua": list(d.rua),
        "dmarc_errors": list(d.errors),
        "dmarc_error_kinds": list(dict.fromkeys(d.error_kinds)),
        "dmarc_ignored": list(d.ignored),
        "dmarc_problem_summary": "; ".join([*d.errors, *d.ignored]) or None,
        "dmarc_warnings": list(d.warnings),
    }


#: SPF terms that authorise no sender: the version, ``all`` with any qualifier, and the
#: explanation modifier.
_NO_SENDER = ("v=spf1", "all", "exp=")


def sends_mail(m: MailDomain, failures: Mapping[str, str]) -> bool | None:
    """Whether the domain sends mail as far as DNS says: its MX names a mailbox, or its
    SPF record authorises a sender (any mechanism but ``all``, or a ``redirect``). A
    domain with neither — ``v=spf1 -all`` and no MX — is parked, and should reject
    everything in DMARC rather than merely monitor. None when an MX or SPF lookup got no
    answer and nothing else says it sends: an unanswered lookup is not "sends none"."""
    if m.mx:
        return True
    for record in spf_module.published_records(m.spf, m.attributes):
        for term in record.split():
            bare = term.lstrip("+-~?").lower()
            if bare and not bare.startswith(_NO_SENDER):
                return True
    if "mx" in failures or "spf" in failures:
        return None
    return False


def dmarc_partial(policy: Any, subdomains: Any, pct: Any, sends: bool | None) -> str | None:
    """Why an existing DMARC policy does not protect all of the domain's mail, in words
    (None: nothing found). Read by SA-DNS-008; "quarantine, not reject" is listed so a
    rule that requires reject can say so."""
    gaps: list[str] = []
    enforcing = policy in ("quarantine", "reject")
    if enforcing and isinstance(pct, int) and pct < 100:
        gaps.append(f"the policy applies to {pct}% of failing mail (pct={pct})")
    if enforcing and subdomains == "none":
        gaps.append("subdomains are only monitored (sp=none)")
    if sends is False and policy != "reject":
        gaps.append("the domain sends no mail but DMARC does not reject (p="
                    f"{policy or 'missing'})")
    if policy == "quarantine":
        gaps.append("failing mail is quarantined, not rejected (p=quarantine)")
    return "; ".join(gaps) or None


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    by_domain = {m.domain.lower(): m for m in ag.inventory.mail_domains}
    for dnode in ag.nodes_of("mail_domain"):
        facts = g.nodes[dnode]
        m = by_domain[facts["domain"]]
        failures = lookup_failures(m.domain, m.attributes.get("errors"))
        edges: EdgeTypes = g.out_edges(dnode, data="type")
        providers = sorted({g.nodes[t]["id"] for _s, t, d in edges if d == "RECEIVES_VIA"})
        dmarc = dmarc_facts(m)
        sends = sends_mail(m, failures)
        senders = sorted({g.nodes[t]["id"] for _s, t, d in edges if d == "SENDS_VIA"})
        facts.update(
            mx=list(m.mx),
            mail_providers=providers,
            **spf_facts(m, failures),
            spf_senders=senders,
            **dmarc,
            dkim_ok=sorted(s for s, ok in m.dkim.items() if ok),
            dkim_missing=sorted(s for s, ok in m.dkim.items() if not ok),
            mta_sts_mode=parse_mta_sts_mode(m.mta_sts),
            tls_rpt=bool(m.tls_rpt and m.tls_rpt.lower().startswith("v=tlsrptv1")),
            attributes=dict(m.attributes),
            lookup_failures=list(failures),
            lookup_errors=failures,
            lookup_summary="; ".join(failures.values()) or None,
            sends_mail=sends,
            dmarc_partial_summary=dmarc_partial(dmarc["dmarc_policy"],
                                                dmarc["dmarc_subdomain_policy"],
                                                dmarc["dmarc_pct"], sends),
            dmarc_rua_expected="dmarc_rua_unexpected" in m.attributes,
            dmarc_rua_gap=failures.get("dmarc") or (
                None if "dmarc_rua_unexpected" in m.attributes else
                f"no expected DMARC report addresses configured for {m.domain} "
                "(connectors.email.dmarc_report_addresses or the rule's expected_addresses)"),
        )
