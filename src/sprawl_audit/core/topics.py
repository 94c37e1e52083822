"""Evidence topics: the named kinds of evidence a connector collects and a rule requires.

A rule lists the topics it needs in ``requires``; when none of the connectors reported a
topic as collected (or partial) the rule is ``not_assessed`` with the coverage detail as
its reason — never a silent pass. ``rules validate`` rejects topics not listed here.
"""

from __future__ import annotations

TOPICS: dict[str, str] = {
    "directory.users": "people, departments, job titles, account state and licences",
    "directory.guests": "guest and external accounts in the directory",
    "licences.subscriptions": "licences bought and assigned: subscriptions (seats paid for and "
                              "in use), billable members, licence assignments",
    "activity.usage": "per-person activity on each platform (usage reports, logs)",
    "oauth.grants": "third-party apps with their scopes, consent type and users",
    "oauth.consent_policy": "whether ordinary users may consent to third-party apps",
    "identity.sso": "which apps sign in through the organisation's identity provider",
    "identity.cross_tenant": "cross-tenant access defaults and partner organisations",
    "devices.apps": "communication apps installed on managed devices",
    "devices.unmanaged": "devices outside device management (unenrolled personal phones, "
                         "sign-ins from unmanaged devices) and the apps on them",
    "mail.forwarding": "mailbox rules and settings that forward mail outside",
    "mail.remote_domains": "organisation-wide automatic forwarding policy",
    "mail.smtp_auth": "legacy SMTP AUTH client submission state",
    "mail.sharing": "calendar and contacts sharing with outside domains (sharing policies)",
    "mail.external_tagging": "whether mail from outside senders is marked as external",
    "audit.logging": "whether the platform's audit log records activity (Microsoft 365 "
                     "unified audit log, mailbox auditing)",
    "collab.federation": "federation and external access settings of chat platforms",
    "collab.external_channels": "shared channels, Slack Connect and external chat spaces",
    "collab.meeting_policies": "meeting policies (anonymous join, recording, lobby)",
    "collab.app_policies": "which apps users may add to chat platforms",
    "collab.messaging_policies": "chat messaging policies: whether users may delete or edit "
                                 "the messages they sent",
    "collab.guest_reach": "the channels, teams or spaces each guest account is in",
    "collab.retention": "message retention settings (retention policies, holds)",
    "collab.channel_email": "whether chat channels accept email, and from which senders",
    "phone.numbers": "telephone numbers with their owners, providers and systems",
    "dns.email": "MX, SPF, DMARC, DKIM, MTA-STS and TLS-RPT of mail domains",
    "network.logs": "web traffic sightings from proxy, firewall or DNS logs",
    "manual.inventory": "records from interviews and consultant inventories",
    "messaging.business": "business messaging accounts (WhatsApp Business Platform)",
    "access.logs": "sign-in and access logs (countries, networks)",
    "accounts.mfa": "each account's second factor (registered, enforced) and admin rights, "
                    "on the platform that reports it",
    "accounts.sign_in": "when each account last signed in, and which never did, on the "
                        "platform that reports it",
    "identity.policies": "identity-provider policies that require a second factor "
                         "(Conditional Access, security defaults)",
}


#: What a reader calls the area a topic is evidence for, where that differs from the
#: description: the summary lists the areas no rule could judge ("message retention could
#: not be assessed"), so these are short and plain.
AREAS: dict[str, str] = {
    "directory.users": "the directory",
    "directory.guests": "guest accounts",
    "licences.subscriptions": "licences",
    "activity.usage": "usage",
    "oauth.grants": "third-party apps",
    "oauth.consent_policy": "app consent policy",
    "identity.sso": "single sign-on",
    "identity.cross_tenant": "cross-tenant access",
    "devices.apps": "apps on devices",
    "devices.unmanaged": "unmanaged devices",
    "mail.forwarding": "mail forwarding",
    "mail.remote_domains": "automatic forwarding policy",
    "mail.smtp_auth": "legacy SMTP sign-in",
    "mail.sharing": "calendar and contacts sharing",
    "mail.external_tagging": "external sender warning",
    "audit.logging": "audit logging",
    "collab.federation": "chat federation and external access",
    "collab.external_channels": "shared channels and outside members",
    "collab.meeting_policies": "meeting policies",
    "collab.app_policies": "chat app policies",
    "collab.messaging_policies": "chat message deletion policy",
    "collab.retention": "message retention",
    "collab.channel_email": "email into chat channels",
    "phone.numbers": "phone numbers",
    "dns.email": "email authentication",
    "network.logs": "network sightings",
    "manual.inventory": "interviews",
    "messaging.business": "WhatsApp Business accounts",
    "access.logs": "sign-in logs",
    "accounts.mfa": "second factors and admin rights",
    "accounts.sign_in": "sign-in activity",
    "identity.policies": "MFA policies",
}


def area_of(topic: str) -> str:
    """The plain name of what ``topic`` is evidence for (the topic itself if unnamed)."""
    return AREAS.get(topic, topic)


def is_known(topic: str) -> bool:
    return topic in TOPICS
