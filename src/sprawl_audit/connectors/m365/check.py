"""``sprawl-audit connectors check m365``: sign in, read the token, list what is granted.

Runs before any collection and reads no tenant data: it acquires a token exactly as an
audit would (same credentials, cloud, CA bundle), decodes the ``roles`` (application) or
``scp`` (delegated) claim, and reports, for every evidence topic, each least-privilege
permission it needs and whether the token carries it (or a broader one that covers it).
PowerShell-export topics are listed with the file they need. Write permissions found in
the token are flagged: the audit needs none.

:meth:`CheckReport.results` is what ``Connector.check`` returns (one
:class:`~sprawl_audit.connectors.interface.PermissionCheck` per line of the CLI table);
:meth:`CheckReport.lines` is a self-contained text rendering of the same facts.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from sprawl_audit.connectors.common.retry import Clock
from sprawl_audit.connectors.interface import PermissionCheck
from sprawl_audit.connectors.m365 import permissions as perms
from sprawl_audit.connectors.m365.auth import AuthError, granted_permissions
from sprawl_audit.connectors.m365.client import open_session
from sprawl_audit.connectors.m365.settings import M365Settings


@dataclass(frozen=True)
class PermissionRow:
    topic: str
    permission: str
    endpoint: str
    granted_by: str | None
    optional: bool = False
    note: str = ""


@dataclass
class CheckReport:
    """The outcome of a permission check; ``lines()`` is what the CLI prints."""

    connector: str
    tenant: str
    client_id: str
    credential: str
    cloud: str
    graph: str
    tenant_id: str = ""
    delegated: bool = False
    granted: list[str] = field(default_factory=list)
    rows: list[PermissionRow] = field(default_factory=list)
    exports: list[tuple[str, str, str]] = field(default_factory=list)  # topic, file, state
    error: str | None = None

    @property
    def missing(self) -> list[PermissionRow]:
        return [r for r in self.rows if r.granted_by is None and not r.optional]

    @property
    def ok(self) -> bool:
        return self.error is None and not self.missing

    @property
    def write_permissions(self) -> list[str]:
        return sorted(p for p in self.granted if "Write" in p or p.endswith(".Send"))

    def results(self) -> list[PermissionCheck]:
        """One PermissionCheck per line: sign-in, each topic's permissions, the exports."""
        claim = "delegated scopes (scp)" if self.delegated else "application permissions (roles)"
        where = f"tenant {self.tenant_id or self.tenant}, {self.cloud} cloud"
        if self.error is not None:
            out = [PermissionCheck("sign-in", self.credential, False,
                                   f"{where}: sign-in failed: {self.error}")]
        else:
            out = [PermissionCheck("sign-in", self.credential, True,
                                   f"{where}; {len(self.granted)} {claim} in the token")]
            for r in self.rows:
                if r.granted_by is None:
                    detail = (f"optional: {r.note}" if r.optional else
                              f"{r.endpoint}; grant it and give admin consent")
                elif r.granted_by != r.permission:
                    detail = f"via {r.granted_by}"
                else:
                    detail = ""
                out.append(PermissionCheck(r.topic, r.permission, r.granted_by is not None,
                                           detail))
        for topic, file, state in self.exports:
            granted = True if state == "found" else None if state.startswith("not") else False
            out.append(PermissionCheck(topic, f"PowerShell export {file}", granted, state))
        if self.write_permissions:
            out.append(PermissionCheck(
                "read-only", "no write permission", None,
                f"the token also carries {', '.join(self.write_permissions)}; the audit "
                "needs none of them"))
        return out

    def lines(self) -> list[str]:
        head = (f"{self.connector}: tenant {self.tenant}"
                + (f" ({self.tenant_id})" if self.tenant_id and self.tenant_id != self.tenant
                   else "")
                + f", app {self.client_id}, {self.credential}")
        out = [head, f"  cloud {self.cloud}, Graph {self.graph}"]
        if self.error is not None:
            out.append(f"  sign-in FAILED: {self.error}")
            return out
        claim = "scp (delegated scopes)" if self.delegated else "roles (application permissions)"
        out.append(f"  signed in; token {claim}: {len(self.granted)}")
        width_t = max([len(r.topic) for r in self.rows] + [len(t) for t, _, _ in self.exports]
                      + [5])
        width_p = max([len(r.permission) + 11 for r in self.rows] + [28])
        out.append(f"  {'TOPIC':<{width_t}}  {'PERMISSION (least privilege)':<{width_p}}  STATUS")
        for r in self.rows:
            name = r.permission + (" (optional)" if r.optional else "")
            if r.granted_by is None:
                status = "MISSING" + (f" - {r.note}" if r.note and r.optional else "")
            elif r.granted_by == r.permission:
                status = "granted"
            else:
                status = f"granted (via {r.granted_by})"
            out.append(f"  {r.topic:<{width_t}}  {name:<{width_p}}  {status}")
        for topic, file, state in self.exports:
            out.append(f"  {topic:<{width_t}}  {'export ' + file:<{width_p}}  {state}")
        missing = self.missing
        if missing:
            names = sorted({r.permission for r in missing})
            topics = sorted({r.topic for r in missing})
            out.append(f"{len(names)} required permission(s) missing: {', '.join(names)} "
                       f"(topics: {', '.join(topics)}).")
            out.append("Grant them in the Entra admin centre: App registrations > the app > "
                       "API permissions > Add a permission > Microsoft Graph > "
                       + ("Delegated" if self.delegated else "Application")
                       + " permissions, then 'Grant admin consent'. Those topics will be "
                       "reported as forbidden until then.")
        else:
            out.append("All required permissions are granted.")
        if self.write_permissions:
            out.append("Warning: the token also carries write permission(s) "
                       f"{', '.join(self.write_permissions)}; the audit is read-only and "
                       "needs none of them — consider removing them.")
        return out


def check_permissions(cfg: M365Settings, *, connector: str = "m365",
                      clock: Clock | None = None, rng: random.Random | None = None,
                      prompt: Callable[[str], None] | None = None) -> CheckReport:
    """Sign in with ``cfg`` and compare the token's permissions with the topics'.

    The session is :func:`~.client.open_session`'s, as ``collect`` opens it: the same
    transport (CA bundle, timeouts, retries), the same credentials and cloud.
    """
    report = CheckReport(
        connector=connector, tenant=cfg.tenant,
        client_id=cfg.client_id, credential=cfg.credentials.description,
        cloud=cfg.cloud.name,
        graph=f"{cfg.cloud.graph_endpoint} (token scope {cfg.cloud.graph_scope})",
        delegated=cfg.credentials.kind == "device_code",
    )
    for topic, (file, _cmdlet, _role) in perms.EXPORT_TOPICS.items():
        if cfg.exports is None:
            state = "not configured: run export-teams-exchange.ps1, set powershell_exports"
        else:
            state = "found" if (cfg.exports / file).is_file() else f"missing in {cfg.exports}"
        report.exports.append((topic, file, state))
    session = open_session(cfg, clock=clock, rng=rng, prompt=prompt)
    try:
        claims = session.tokens.claims()
    except AuthError as exc:
        report.error = str(exc)
        return report
    finally:
        session.close()
    granted = granted_permissions(claims)
    report.tenant_id = str(claims.get("tid") or "")
    report.granted = sorted(granted)
    for topic, requirements in perms.TOPIC_REQUIREMENTS.items():
        for req in requirements:
            report.rows.append(PermissionRow(topic, req.permission, req.endpoint,
                                             req.satisfied_by(granted), req.optional,
                                             req.note))
    return report
