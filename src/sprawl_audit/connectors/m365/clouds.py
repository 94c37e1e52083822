"""Microsoft national clouds: each has its own sign-in authority and Graph host.

An app registered in one cloud cannot sign in to another, and a token for one Graph host
is refused by the others, so the two always move together. The config's
``authority_host`` and ``graph_endpoint`` override where sign-in and Graph requests go (a
private endpoint, an API gateway, a test fake); otherwise ``cloud`` picks both.

Where requests go and what the token is for are different things. The token's audience
is a resource Entra ID knows — the cloud's Graph (``https://graph.microsoft.com`` for
global) — whatever URL the requests travel through; asking Entra for a token "for"
``https://gateway.example`` fails with AADSTS500011 (resource not found in the tenant).
So ``graph_endpoint`` never changes the scope: ``graph_scope`` does, for the rare gateway
that is itself registered as a resource and wants tokens of its own.

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
    #: The resource tokens are requested for (``<resource>/.default``); by default the
    #: cloud's own Graph host, whatever ``graph_endpoint`` says.
    graph_resource: str = ""

    def __post_init__(self) -> None:
        if not self.graph_resource:
            object.__setattr__(self, "graph_resource", self.graph_endpoint)

    def authority(self, tenant: str) -> str:
        """The tenant's authority URL, e.g. ``https://login.microsoftonline.com/contoso.com``."""
        return f"{self.authority_host}/{tenant}"

    @property
    def graph_scope(self) -> str:
        """The client-credentials scope: every application permission consented for Graph."""
        return f"{self.graph_resource}/.default"

    def delegated_scope(self, permission: str) -> str:
        """A delegated permission as a fully qualified scope on the token's resource."""
        return f"{self.graph_resource}/{permission}"


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


#: Graph API versions: a base URL ending in one would double it (``/v1.0/v1.0/users``).
_VERSIONS = ("v1.0", "beta")


def normalise_base_url(value: str, *, allow_path: bool = False) -> str | None:
    """``https://host[:port]`` (plus a path prefix when allowed), or None when not one.

    Only https is accepted: a token sent over plain HTTP could be read by anyone on the
    path. The authority takes no path (the tenant is appended to it). A Graph gateway may
    publish Graph under a prefix (``https://gateway.example/graph``), so ``allow_path``
    keeps one — except a trailing API version, because ``https://graph.microsoft.com/v1.0``
    is a common mistake that would double the version.
    """
    parts = urlsplit(value.strip())
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        return None
    path = parts.path.rstrip("/")
    if not path:
        return f"https://{parts.netloc}"
    if not allow_path or path.rsplit("/", 1)[-1].lower() in _VERSIONS or "//" in path:
        return None
    return f"https://{parts.netloc}{path}"


def normalise_scope(value: str) -> str | None:
    """The resource of a ``<resource>/.default`` scope, or None when it is not one.

    Entra ID names a resource by its App ID URI (``https://…`` or ``api://…``); the
    client-credentials flow only accepts the ``/.default`` scope of one.
    """
    text = value.strip()
    if not text.endswith("/.default"):
        return None
    resource = text[: -len("/.default")]
    parts = urlsplit(resource)
    if parts.scheme not in ("https", "api") or not (parts.netloc or parts.path) \
            or parts.query or parts.fragment or " " in resource:
        return None
    return resource


def resolve_cloud(name: str, authority_host: str | None = None,
                  graph_endpoint: str | None = None,
                  graph_resource: str | None = None) -> Cloud:
    """The cloud by name with the overrides applied (callers validate the name first).

    ``graph_endpoint`` moves the requests only; the token stays for the cloud's Graph
    unless ``graph_resource`` (from ``graph_scope``) says otherwise.
    """
    base = CLOUDS[name]
    return Cloud(
        name=base.name,
        authority_host=authority_host or base.authority_host,
        graph_endpoint=graph_endpoint or base.graph_endpoint,
        graph_resource=graph_resource or base.graph_endpoint,
    )
