"""DNS answers about mail domains → MailDomain and email-sender Integration records.

The input is what a resolver (dnspython, later) or a saved ``dig`` session answered, one
mapping per domain::

    {"riversidehomes.org.uk": {
        "mx": [[10, "eu-smtp-inbound-1.mimecast.com."]],   # MX: [preference, host]
        "txt": ["v=spf1 include:spf.protection.outlook.com -all", "MS=ms123"],
        "dmarc": ["v=DMARC1; p=none; rua=mailto:d@example.org"],   # TXT _dmarc.<domain>
        "dkim": {"selector1": ["v=DKIM1; k=rsa; p=MIIB..."], "s2": null},
        "mta_sts": ["v=STSv1; id=2025"],          # TXT _mta-sts.<domain>
        "mta_sts_policy": "version: STSv1\\nmode: testing\\n...",   # the HTTPS policy file
        "mta_sts_policy_error": "mta-sts.x: HTTP 404",  # optional: why there is no policy
        "tls_rpt": ["v=TLSRPTv1; rua=mailto:t@example.org"],        # TXT _smtp._tls.<domain>
        "errors": {"dmarc": "SERVFAIL"},         # optional: lookups that got no answer
        "nxdomain": true                         # optional: the domain does not exist
    }}

``errors`` holds only lookups that got no answer (timeout, SERVFAIL, REFUSED...): the
record may exist, so rules about it are *not assessed* for the domain. NXDOMAIN and NODATA
are answers (no such record); older saved answers that listed them under ``errors`` are
read as answers too.

A TXT answer may be a string or a list of character-strings (long records are split in
255-byte chunks; they are joined). Absent, null and empty all mean "no record". Records are
kept raw: analyses parse policies and qualifiers.

Optional, written by the live connector (``sprawl_audit/connectors/email/connector.py``)::

        "spf_includes": {                          # TXT of every include/redirect target,
            "spf.protection.outlook.com": ["v=spf1 include:spfd.protection.outlook.com -all"],
            "spfd.protection.outlook.com": ["v=spf1 ip4:40.92.0.0/15 -all"],
            "gone.example": {"error": "NXDOMAIN"}  # or timeout / SERVFAIL; [] = no records
        },
        "spf_addresses": {"mail.example.org": ["192.0.2.25"]},   # A+AAAA of a:/ptr targets
        "spf_mx": {"example.org": [[10, "mx.example.org"]]}      # MX of mx targets

With ``spf_includes`` present the SPF tree is evaluated (:mod:`sprawl_audit.parsers.spf`) and the
MailDomain gets its verdict — ``spf_result``, ``spf_default``, ``spf_permerrors``,
``spf_permerror_kinds``, ``spf_warnings`` — and ``spf_lookups_total``,
``spf_void_lookups``, ``spf_lookup_limit_exceeded``, ``spf_void_limit_exceeded``,
``spf_includes_all``, ``spf_tree`` and ``spf_problems``; a target that timed out or failed
is a lookup error (coverage ``partial``), never a permerror. Answers saved before
``spf_addresses``/``spf_mx`` existed leave ``a``/``mx`` targets unresolved. Without
``spf_includes`` (older saved answers, the demo) only the top record is read, by the
analysis. Several SPF (or DMARC) records are kept in ``spf_record_list``
(``dmarc_record_list``) so the verdict — a permerror — never depends on answer order.

Two comparisons need the caller's knowledge: MX hosts inside the organisation's own
domains are listed as ``mx_self_hosted`` (mail received on premises), and with the
expected DMARC report addresses (config ``dmarc_report_addresses``) the published ``rua``
is compared into ``dmarc_rua_unexpected`` (reports going somewhere not expected) and
``dmarc_rua_missing`` (an expected address not published).

Every SPF ``include:`` (and ``redirect=``) is a service allowed to send as the domain, so
it becomes an Integration of kind ``email_sender`` — those of the top record, and, from the
walked tree, nested ones that belong to another organisation than the include naming them
(an IT supplier's include that pulls in SendGrid), not a provider's own internal chain
(``spf.protection.outlook.com`` → ``spfd.protection.outlook.com``): the app is
``AppRef("spf", host)``, the host the organisation's mailbox platform — Exchange Online
or Gmail (Workspace) when MX or SPF shows one, else the first MX host
(``AppRef("mx", host)``), else ``AppRef("name", "email")``. The mailbox platform's own
include is not listed as a sender to itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sprawl_audit.connectors.interface import coverage
from sprawl_audit.core.model import AppRef, Integration, InventoryBuilder, MailDomain, SourceRef
from sprawl_audit.parsers import spf as spf_module
from sprawl_audit.parsers.domains import registrable_domain
from sprawl_audit.parsers.mailauth import check_dmarc, is_dmarc_record

EXCHANGE = AppRef("slug", "exchange-online")
GOOGLE = AppRef("slug", "gmail")  # Google Workspace mailboxes
_OWN_INCLUDES = {
    EXCHANGE: frozenset({"spf.protection.outlook.com"}),
    GOOGLE: frozenset({"_spf.google.com"}),
}


def txt_strings(answer: Any) -> list[str]:
    """Normalise a TXT answer: each record a string (chunks joined)."""
    if answer is None:
        return []
    if isinstance(answer, str):
        return [answer]
    if not isinstance(answer, (list, tuple)):
        return []  # a damaged saved answer (a number, an object): no records in it
    out: list[str] = []
    for record in answer:
        if isinstance(record, str):
            out.append(record)
        elif isinstance(record, (list, tuple)):
            out.append("".join(str(part) for part in record))
    return out


def _starting(records: Iterable[str], tag: str) -> list[str]:
    """Records whose first term is ``tag`` (``v=spf1``, ``v=DMARC1``...), case-insensitive."""
    tag = tag.lower()
    out = []
    for record in records:
        head = record.strip().split(";")[0].split(" ")[0].strip().lower()
        if head == tag:
            out.append(record.strip())
    return out


def mx_hosts(answer: Any) -> list[tuple[int, str]]:
    """MX answers as (preference, host) sorted by preference, hosts without trailing dot."""
    out: list[tuple[int, str]] = []
    for entry in answer if isinstance(answer, (list, tuple)) else []:
        if isinstance(entry, (list, tuple)) and len(entry) == 2 and isinstance(entry[1], str):
            try:
                out.append((int(entry[0]), entry[1].lower().rstrip(".")))
            except (TypeError, ValueError, OverflowError):  # OverflowError: inf preference
                continue
    return sorted(out)


def mailbox_platform(mx: list[str], includes: list[str]) -> AppRef:
    """Where the domain's mailboxes live, as far as its DNS tells."""
    if any(h.endswith(".mail.protection.outlook.com") for h in mx) or (
        "spf.protection.outlook.com" in includes
    ):
        return EXCHANGE
    if any(h.endswith(("google.com", "googlemail.com")) for h in mx) or (
        "_spf.google.com" in includes
    ):
        return GOOGLE
    if mx:
        return AppRef("mx", mx[0])
    return AppRef("name", "email")


def _dkim(answer: Any) -> dict[str, bool]:
    out: dict[str, bool] = {}
    if not isinstance(answer, Mapping):
        return out
    for selector, records in answer.items():
        keys = [r for r in txt_strings(records) if re.search(r"(^|;)\s*p=[A-Za-z0-9+/]", r)]
        out[str(selector)] = bool(keys)
    return dict(sorted(out.items()))


def saved_spf_lookups(answers: Mapping[str, Any]) -> spf_module.SavedLookups:
    """The lookups the SPF walk needs, over a domain's saved answers."""
    def mapping(key: str) -> Mapping[str, Any] | None:
        value = answers.get(key)
        return value if isinstance(value, Mapping) else None

    return spf_module.SavedLookups(
        txt_answers=mapping("spf_includes") or {}, address_answers=mapping("spf_addresses"),
        mx_answers=mapping("spf_mx"), txt_strings=txt_strings)


def _within(host: str, domains: Iterable[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains if d)


def _address(value: str) -> str:
    v = value.strip().lower()
    return v[7:] if v.startswith("mailto:") else v


def mail_domain(
    domain: str,
    answers: Mapping[str, Any],
    *,
    connector: str = "email",
    org_domains: Iterable[str] = (),
    dmarc_report_addresses: Iterable[str] | None = None,
) -> MailDomain:
    """One domain's posture from its DNS answers.

    ``answers`` that are not an object (a damaged saved answer) give a domain with no
    records and an ``answers`` error, so the coverage says the lookups failed.
    """
    if not isinstance(answers, Mapping):
        answers = {"errors": {"answers": "saved DNS answers malformed"}}
    mx = mx_hosts(answers.get("mx"))
    spf = sorted(spf_module.spf_records(txt_strings(answers.get("txt"))))
    dmarc_txt = [t for t in txt_strings(answers.get("dmarc")) if is_dmarc_record(t.strip())]
    dmarc = sorted(dmarc_txt)
    sts_txt = _starting(txt_strings(answers.get("mta_sts")), "v=STSv1")
    tls = _starting(txt_strings(answers.get("tls_rpt")), "v=TLSRPTv1")
    policy = answers.get("mta_sts_policy")
    attributes: dict[str, Any] = {"mx_preferences": [[p, h] for p, h in mx]}
    if len(spf) > 1:
        attributes["spf_records"] = len(spf)  # more than one is an SPF permerror
        attributes["spf_record_list"] = spf
    if len(dmarc) > 1 or any(not is_dmarc_record(t) for t in dmarc):
        attributes["dmarc_records"] = len(dmarc)
        attributes["dmarc_record_list"] = dmarc  # several, or one that starts with a space
    if sts_txt:
        attributes["mta_sts_txt"] = sts_txt[0]
        if answers.get("mta_sts_policy_error"):
            attributes["mta_sts_policy_error"] = str(answers["mta_sts_policy_error"])
    name = domain.lower().rstrip(".")
    own = {name, *(d.lower().rstrip(".") for d in org_domains)}
    self_hosted = [h for _, h in mx if _within(h, own)]
    if self_hosted:
        attributes["mx_self_hosted"] = self_hosted
    errors: dict[str, str] = {}
    raw_errors = answers.get("errors")
    if isinstance(raw_errors, Mapping):
        errors.update({str(k): str(v) for k, v in raw_errors.items()
                       if str(v) not in ANSWERS})
        if raw_errors.get("mx") == raw_errors.get("txt") == "NXDOMAIN":
            attributes["nxdomain"] = True  # an older saved answer's way of saying so
        if errors.get("other lookups") == "skipped" and not errors.keys() - {"other lookups"}:
            errors.pop("other lookups")  # skipped because the domain does not exist
    if answers.get("nxdomain") is True:
        attributes["nxdomain"] = True
    saved = answers.get("spf_includes")
    if spf and (isinstance(saved, Mapping) or len(spf) > 1):
        lookups = saved_spf_lookups(answers) if isinstance(saved, Mapping) else None
        result = spf_module.evaluate(name, spf, lookups)
        attributes.update(result.attributes())
        errors.update(result.temp_errors)
    if dmarc_report_addresses is not None:
        expected = {_address(a) for a in dmarc_report_addresses if a.strip()}
        published = set(check_dmarc(dmarc).rua)
        attributes["dmarc_rua_unexpected"] = sorted(published - expected)
        attributes["dmarc_rua_missing"] = sorted(expected - published)
    if errors:
        attributes["errors"] = dict(sorted(errors.items()))
    return MailDomain(
        domain=domain.lower().rstrip("."),
        mx=tuple(h for _, h in mx),
        spf=spf[0] if spf else None,
        dmarc=dmarc[0] if dmarc else None,  # with several, the verdict is in attributes
        dkim=_dkim(answers.get("dkim")),
        # A policy file only counts when the _mta-sts TXT record announces it (RFC 8461).
        mta_sts=policy if sts_txt and isinstance(policy, str) and policy.strip() else None,
        tls_rpt=tls[0] if tls else None,
        attributes=attributes,
        source=SourceRef(connector, "dns.email", domain),
    )


def email_senders(record: MailDomain, *, connector: str = "email") -> list[Integration]:
    """The SPF includes of a domain as ``email_sender`` integrations (nested ones too, when
    the tree was walked; see the module notes)."""
    includes = spf_module.senders_of(spf_module.published_records(record.spf,
                                                                  record.attributes))
    host = mailbox_platform(list(record.mx), includes)
    own = _OWN_INCLUDES.get(host, frozenset())
    nested: list[Integration] = []
    seen = set(includes)
    for node in record.attributes.get("spf_tree") or []:
        name, parent = str(node.get("host", "")), str(node.get("parent") or "")
        if (int(node.get("depth", 0)) < 2 or node.get("error") or name in seen
                or name in own or registrable_domain(name) == registrable_domain(parent)):
            continue
        seen.add(name)
        nested.append(Integration(
            id=f"dns:{record.domain}:spf:{name}",
            name=name,
            app=AppRef("spf", name),
            host=host,
            kind="email_sender",
            consent_type="admin",
            attributes={"domain": record.domain, "via": parent, "depth": node.get("depth")},
            source=SourceRef(connector, "dns.email", f"SPF of {record.domain} via {parent}"),
        ))
    return [
        Integration(
            id=f"dns:{record.domain}:spf:{include}",
            name=include,
            app=AppRef("spf", include),
            host=host,
            kind="email_sender",
            consent_type="admin",
            attributes={"domain": record.domain},
            source=SourceRef(connector, "dns.email", f"SPF of {record.domain}"),
        )
        for include in includes
        if include not in own
    ] + nested


#: Lookup outcomes that are answers ("no such name", "no such record"), not failures.
ANSWERS = frozenset({"NXDOMAIN", "NODATA"})


def transform_dns(
    answers: Mapping[str, Mapping[str, Any]],
    *,
    connector: str = "email",
    org_domains: Iterable[str] = (),
    dmarc_report_addresses: Iterable[str] | None = None,
) -> InventoryBuilder:
    """MailDomains and SPF senders for every domain; coverage ``dns.email``."""
    out = InventoryBuilder()
    failed: list[str] = []
    unanswered = 0
    missing: list[str] = []
    org = tuple(org_domains) or tuple(answers)
    expected = tuple(dmarc_report_addresses) if dmarc_report_addresses is not None else None
    for domain in sorted(answers):
        record = mail_domain(domain, answers[domain], connector=connector, org_domains=org,
                             dmarc_report_addresses=expected)
        out.mail_domains.append(record)
        out.integrations.extend(email_senders(record, connector=connector))
        errors = record.attributes.get("errors")
        if errors:
            what = ", ".join(f"{k}: {v}" for k, v in errors.items())
            failed.append(f"{record.domain} ({what})")
            if {"mx", "txt"} <= set(errors) or "answers" in errors:
                unanswered += 1
        if record.attributes.get("nxdomain"):
            missing.append(record.domain)
    detail = f"{len(out.mail_domains)} domains: " + ", ".join(d.domain for d in out.mail_domains)
    if missing:
        detail += "; no such domain (NXDOMAIN): " + ", ".join(missing)
    if failed:
        detail += ("; lookups got no answer (the records may exist; their rules are not "
                   "assessed) for " + "; ".join(failed))
    status = "collected"
    if failed:
        status = "error" if unanswered == len(out.mail_domains) else "partial"
    if status == "error":
        # The resolver never answered (down, unreachable, refusing): the source collected
        # nothing, which is an error, not partial evidence about these domains.
        detail = "no DNS answer for any domain: " + "; ".join(failed)
    out.coverage.append(coverage(connector, "dns.email", status, detail,
                                 0 if status == "error" else len(out.mail_domains)))
    return out
