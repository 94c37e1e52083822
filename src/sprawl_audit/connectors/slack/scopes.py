"""What each evidence topic needs from a Slack token: scopes, methods, plan.

One table drives three things, so they cannot drift apart: ``connectors check slack``
(granted vs needed, from the ``X-OAuth-Scopes`` header of ``auth.test``), the coverage
detail of a topic Slack refused (``missing_scope`` names the scope, this names the
topic), and docs/slack.md.

Every scope here is read-only. ``admin`` is the one workspace-admin scope the Web API has
for the access and integration logs; it can only be granted to a *user* token of a
workspace Owner or Admin. ``admin.*`` scopes exist on Enterprise Grid only and need an
org-level user token of an Org Owner or Admin.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Need:
    """One scope a topic needs, the methods that use it, and when it applies."""

    topic: str
    scope: str
    methods: tuple[str, ...]
    purpose: str
    plans: str = "all plans"
    enterprise_only: bool = False
    not_on_grid: bool = False


NEEDS: tuple[Need, ...] = (
    Need("directory.users", "team:read", ("team.info",),
         "workspace name, domain and Enterprise org"),
    Need("directory.users", "users:read", ("users.list",),
         "members, bots, deactivated accounts, 2FA"),
    Need("directory.users", "users:read.email", ("users.list",),
         "email addresses, to match people across sources"),
    Need("directory.users", "team.billing:read", ("team.billing.info",), "the plan name",
         not_on_grid=True),
    Need("directory.users", "admin.teams:read", ("admin.teams.list",),
         "every workspace of the org", "Enterprise Grid", enterprise_only=True),
    Need("accounts.mfa", "users:read", ("users.list",),
         "each member's two-factor state (has_2fa; shown only to an admin's token) and "
         "role"),
    Need("directory.guests", "users:read", ("users.list",),
         "multi- and single-channel guests"),
    Need("activity.usage", "admin", ("team.accessLogs",),
         "last login per person", "paid plans"),
    Need("access.logs", "admin", ("team.accessLogs",),
         "login countries and networks (ISPs)", "paid plans"),
    Need("collab.external_channels", "channels:read", ("conversations.list",),
         "public Slack Connect channels"),
    Need("collab.external_channels", "groups:read", ("conversations.list",),
         "private Slack Connect channels the token's user is in"),
    Need("collab.external_channels", "team:read", ("team.info",),
         "names and domains of the outside organisations"),
    Need("oauth.grants", "admin", ("team.integrationLogs",),
         "installed apps, their scopes and who added them", "paid plans"),
    Need("oauth.grants", "admin.apps:read", ("admin.apps.approved.list",
                                             "admin.apps.restricted.list"),
         "approved and restricted apps", "Enterprise Grid", enterprise_only=True),
    Need("licences.subscriptions", "admin", ("team.billableInfo",),
         "billable members (Slack's Fair Billing view), the workspace's seats"),
    Need("collab.guest_reach", "channels:read", ("users.conversations",),
         "the public channels each guest is in"),
    Need("collab.guest_reach", "groups:read", ("users.conversations",),
         "the private channels each guest is in (those the token's user is in too)"),
    Need("collab.retention", "team.preferences:read", ("team.preferences.list",),
         "message and file retention settings"),
)

#: Scopes per method, for coverage details ("users.list needs users:read").
METHOD_SCOPES: dict[str, tuple[str, ...]] = {}
for _need in NEEDS:
    for _method in _need.methods:
        scopes = METHOD_SCOPES.setdefault(_method, ())
        if _need.scope not in scopes:
            METHOD_SCOPES[_method] = (*scopes, _need.scope)

#: Evidence topics the connector reports, in the order it reports them.
TOPICS: tuple[str, ...] = tuple(dict.fromkeys(n.topic for n in NEEDS))


def needs_for(*, enterprise: bool) -> list[Need]:
    """What a workspace (``enterprise`` False) or a Grid org token needs."""
    return [n for n in NEEDS
            if (n.enterprise_only <= enterprise) and not (enterprise and n.not_on_grid)]


def needed_scopes(*, enterprise: bool) -> list[str]:
    """The least-privilege scope list, for set-up instructions."""
    return sorted({n.scope for n in needs_for(enterprise=enterprise)})


def parse_scopes(header: str | None) -> frozenset[str] | None:
    """``X-OAuth-Scopes: users:read,team:read`` → a set; None when the header is absent."""
    if header is None:
        return None
    return frozenset(s.strip() for s in header.split(",") if s.strip())
