"""Microsoft national clouds: each has its own sign-in authority and Graph host.

An app registered in one cloud cannot sign in to another, and a token for one Graph host
is refused by the others, so the two always move together. The config's
``authority_host`` and ``graph_endpoint`` override the cloud's values (a test fake, or a
future cloud); otherwise ``cloud`` picks both.

=========  =====================================  ======================================
cloud      authority host                         Graph endpoint
=========  =====================================  ======================================
global     https://login.microsoftonline.com      https://graph.microsoft.com
gcc        https://login.microsoftonline.com      https://graph.microsoft.com
gcc-high   https://login.microsoftonline.us       https://graph.microsoft.us
dod        https://login.microsoftonline.us       https://dod-graph.microsoft.us
china      https://login.chinacloudapi.cn         https://microsoftgraph.chinacloudapi.cn
=========  =====================================  ======================================

GCC (moderate) tenants live in the global cloud's endpoints, hence the alias.
Source: "Microsoft Graph national cloud deployments" (learn.microsoft.com/graph/deployments).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Cloud:
    """Where to sign in and which Graph host to call."""

    name: str
    authority_host: str
    graph_endpoint: str

    def authority(self, tenant: str) -> str:
        """The tenant's authority URL, e.g. ``https://login.microsoftonline.com/contoso.com``."""
        return f"{self.authority_host}/{tenant}"

    @property
    def graph_scope(self) -> str:
        """The client-credentials scope: every application permission consented for Graph."""
        return f"{self.graph_endpoint}/.default"

    def delegated_scope(self, permission: str) -> str:
        """A delegated permission as a fully qualified scope on this cloud's Graph host."""
        return f"{self.graph_endpoint}/{permission}"


CLOUDS: dict[str, Cloud] = {
    c.name: c
    for c in (
        Cloud("global", "https://login.microsoftonline.com", "https://graph.microsoft.com"),
        Cloud("gcc", "https://login.microsoftonline.com", "https://graph.microsoft.com"),
        Cloud("gcc-high", "https://login.microsoftonline.us", "https://graph.microsoft.us"),
        Cloud("dod", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
        Cloud("china", "https://login.chinacloudapi.cn",
              "https://microsoftgraph.chinacloudapi.cn"),
    )
}


def normalise_base_url(value: str) -> str | None:
    """``https://host[:port]`` from a configured URL, or None when it is not one.

    Only https is accepted: a token sent over plain HTTP could be read by anyone on the
    path. A trailing slash or path is refused rather than silently dropped, because
    ``https://graph.microsoft.com/v1.0`` is a common mistake that would double the version.
    """
    parts = urlsplit(value.strip())
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        return None
    if parts.path not in ("", "/"):
        return None
    return f"https://{parts.netloc}"


def resolve_cloud(name: str, authority_host: str | None = None,
                  graph_endpoint: str | None = None) -> Cloud:
    """The cloud by name with the overrides applied (callers validate the name first)."""
    base = CLOUDS[name]
    return Cloud(
        name=base.name,
        authority_host=authority_host or base.authority_host,
        graph_endpoint=graph_endpoint or base.graph_endpoint,
    )
