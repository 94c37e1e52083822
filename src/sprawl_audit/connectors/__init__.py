"""Source connectors, installed as ``sprawl_audit.connectors``.

One sub-package per source. Each follows get → transform → load: a client that talks
to the source (HTTP, DNS, files), pure functions that map the source's raw shapes to
:mod:`sprawl_audit.core.model` records, and a :class:`~sprawl_audit.connectors.interface.Connector`
that wires them and reports Coverage per evidence topic. Transforms are pure so the demo
tenant — stored in the raw shapes the sources return — runs through the same mapping
code as a live audit.

Connector SDKs (msal, googleapiclient, slack_sdk, dns) are imported lazily inside the
sub-packages so ``sprawl-audit --help`` stays fast.
"""
