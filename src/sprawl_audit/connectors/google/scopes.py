"""Which OAuth scope each Google feed needs: least privilege, and which are not read-only.

A *feed* is one family of API calls (``users.list``, ``tokens.list``, the token audit
log...). Each evidence topic is served by one or more feeds, and each feed asks for
exactly one scope, so a scope the administrator did not delegate costs that feed alone:
with domain-wide delegation Google refuses a token for a scope set containing any
undelegated scope ("unauthorized_client"), so the connector requests one token per scope
instead of one token for all of them.

One table drives ``connectors check google`` (is each scope granted?), the Coverage detail
of a topic Google refused (the scope to delegate), and the set-up steps in docs/google.md.
Scopes are the narrowest each method's discovery document accepts:

* ``tokens.list`` accepts only ``admin.directory.user.security``, which also allows
  *revoking* users' tokens and backup codes. It is not read-only;
  turn the feed off with ``user_tokens: false`` (the token audit log still lists the apps
  people authorised in the last 180 days, read-only).
* ``users.settings.getAutoForwarding`` accepts ``gmail.readonly`` (read-only, but it reads
  every impersonated mailbox) or ``gmail.settings.basic`` (narrower data, but it can
  *change* forwarding). The project rule is read-only, so the feed asks for
  ``gmail.readonly``; it is why ``gmail_forwarding`` is off unless enabled and capped.
* ``licenseAssignments.listForProduct`` accepts only ``apps.licensing``, which also allows
  assigning and removing licences (Google has no read-only licensing scope). The
  connector only lists; ``licence_products: []`` turns the feed off.
* ``policies.list`` (Cloud Identity Policy API) accepts
  ``cloud-identity.policies.readonly``, read-only; Google answers it for super
  administrators only. One call (paged) serves four topics, so it is four rows here
  sharing the scope: the chat history, external chat, Meet access and Gmail automatic
  forwarding settings (``admin_settings: false`` turns them off).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

BASE = "https://www.googleapis.com/auth/"
POLICY_SCOPE = BASE + "cloud-identity.policies.readonly"
POLICY_CALL = "Cloud Identity Policy API policies.list"
SUPER_ADMIN = "Google answers it for a super administrator only"


@dataclass(frozen=True)
class Feed:
    """One family of calls, the topic it serves and the one scope it needs."""

    name: str
    topic: str
    scope: str  # full scope URL, as the Admin console's domain-wide delegation wants it
    api: str  # directory | reports | chat | gmail | licensing | policy
    call: str  # the methods, as Google documents them
    read_only: bool = True
    optional: bool = False  # the topic is still collected without it, with less detail
    per_user: bool = False  # impersonates each user (domain-wide delegation only)
    note: str = ""

    @property
    def short_scope(self) -> str:
        return short(self.scope)


FEEDS: tuple[Feed, ...] = (
    Feed("users", "directory.users", BASE + "admin.directory.user.readonly", "directory",
         "Directory API users.list"),
    Feed("tokens", "oauth.grants", BASE + "admin.directory.user.security", "directory",
         "Directory API tokens.list (per user, batched)", read_only=False,
         note="not read-only: it can also revoke users' tokens; turn off with "
              "user_tokens: false"),
    Feed("token_log", "oauth.grants", BASE + "admin.reports.audit.readonly", "reports",
         "Reports API activities.list applicationName=token (180 days)"),
    Feed("devices", "devices.apps", BASE + "admin.directory.device.mobile.readonly",
         "directory", "Directory API mobiledevices.list projection=FULL"),
    Feed("mobile_log", "devices.apps", BASE + "admin.reports.audit.readonly", "reports",
         "Reports API activities.list applicationName=mobile (app installs)",
         optional=True),
    Feed("usage", "activity.usage", BASE + "admin.reports.usage.readonly", "reports",
         "Reports API userUsageReport.get (Gmail, Chat)"),
    Feed("meet_log", "activity.usage", BASE + "admin.reports.audit.readonly", "reports",
         "Reports API activities.list applicationName=meet (call_ended)", optional=True),
    Feed("spaces", "collab.external_channels", BASE + "chat.admin.spaces.readonly", "chat",
         "Chat API spaces.search useAdminAccess=true"),
    Feed("members", "collab.external_channels", BASE + "chat.admin.memberships.readonly",
         "chat", "Chat API spaces.members.list useAdminAccess=true", optional=True,
         note="names the outside domains of external spaces"),
    Feed("licences", "licences.subscriptions", BASE + "apps.licensing", "licensing",
         "Enterprise License Manager API licenseAssignments.listForProduct", read_only=False,
         note="read-only in use, but Google offers no narrower scope: it also allows "
              "assigning licences; turn off with licence_products: []"),
    Feed("forwarding", "mail.forwarding", BASE + "gmail.readonly", "gmail",
         "Gmail API users.settings.getAutoForwarding + forwardingAddresses.list",
         per_user=True, note="read-only, but it can read mail; opt-in "
                             "(gmail_forwarding.enabled)"),
    # One policies.list call; a row per topic it serves (the same scope, checked once).
    Feed("chat_history", "collab.retention", POLICY_SCOPE, "policy", POLICY_CALL
         + " (chat.chat_history)", note=SUPER_ADMIN),
    Feed("external_chat", "collab.federation", POLICY_SCOPE, "policy", POLICY_CALL
         + " (chat.external_chat_restriction)", note=SUPER_ADMIN),
    Feed("meet_access", "collab.meeting_policies", POLICY_SCOPE, "policy", POLICY_CALL
         + " (meet.meet_joining, meet.safety_access)", note=SUPER_ADMIN),
    Feed("auto_forwarding", "mail.remote_domains", POLICY_SCOPE, "policy", POLICY_CALL
         + " (gmail.auto_forwarding)", note=SUPER_ADMIN),
)
#: The feeds the one ``policies.list`` call serves (:data:`POLICY_TOPICS` order).
POLICY_FEEDS: tuple[str, ...] = ("chat_history", "external_chat", "meet_access",
                                 "auto_forwarding")
FEEDS_BY_NAME: dict[str, Feed] = {f.name: f for f in FEEDS}

#: Topics this connector reports, in the order Coverage lists them.
TOPICS: tuple[str, ...] = (
    "directory.users", "accounts.mfa", "directory.guests", "oauth.grants", "devices.apps",
    "activity.usage", "collab.external_channels", "licences.subscriptions", "mail.forwarding",
    "collab.retention", "collab.federation", "collab.meeting_policies", "mail.remote_domains",
)


def short(scope: str) -> str:
    """``admin.directory.user.readonly`` for the full URL (how the docs and details say it)."""
    return scope[len(BASE):] if scope.startswith(BASE) else scope


def feeds_for(topic: str, enabled: Iterable[str] | None = None) -> list[Feed]:
    names = set(enabled) if enabled is not None else None
    return [f for f in FEEDS if f.topic == topic and (names is None or f.name in names)]


def delegation_scopes(enabled: Iterable[str]) -> list[str]:
    """The distinct scopes to paste into the Admin console for these feeds, in table order."""
    names = set(enabled)
    return list(dict.fromkeys(f.scope for f in FEEDS if f.name in names))
