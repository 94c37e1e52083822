"""Mail domains: who receives and sends as the organisation, and how strictly."""

from __future__ import annotations

from sprawl_audit.graph import AuditGraph
from sprawl_audit.mailauth import parse_dmarc, parse_mta_sts_mode, parse_spf


def analyse(ag: AuditGraph) -> None:
    g = ag.graph
    by_domain = {m.domain.lower(): m for m in ag.inventory.mail_domains}
    for dnode in ag.nodes_of("mail_domain"):
        facts = g.nodes[dnode]
        m = by_domain[facts["domain"]]
        spf = parse_spf(m.spf)
        dmarc = parse_dmarc(m.dmarc)
        providers = sorted({g.nodes[t]["id"] for _s, t, d in g.out_edges(dnode, data="type")
                            if d == "RECEIVES_VIA"})
        senders = sorted({g.nodes[t]["id"] for _s, t, d in g.out_edges(dnode, data="type")
                          if d == "SENDS_VIA"})
        facts.update(
            mx=list(m.mx),
            mail_providers=providers,
            spf=m.spf,
            spf_all=spf.all_qualifier if spf else None,
            spf_includes=list(spf.includes) if spf else [],
            # the whole include tree when the email connector resolved it (RFC 7208's
            # limit applies to the tree), else the top record's own terms
            spf_lookups=m.attributes.get("spf_lookups_total", spf.lookups if spf else 0),
            spf_senders=senders,
            dmarc=m.dmarc,
            dmarc_policy=dmarc.policy if dmarc else None,
            dmarc_subdomain_policy=dmarc.subdomain_policy if dmarc else None,
            dmarc_pct=dmarc.pct if dmarc else None,
            dmarc_rua=list(dmarc.rua) if dmarc else [],
            dkim_ok=sorted(s for s, ok in m.dkim.items() if ok),
            dkim_missing=sorted(s for s, ok in m.dkim.items() if not ok),
            mta_sts_mode=parse_mta_sts_mode(m.mta_sts),
            tls_rpt=bool(m.tls_rpt and m.tls_rpt.lower().startswith("v=tlsrptv1")),
            attributes=dict(m.attributes),
        )
