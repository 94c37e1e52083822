"""Google Workspace connector: the Directory, Reports, Chat and Gmail APIs.

get → transform → load, as every connector: :mod:`.fetch` reads the feeds through
:mod:`.client` (google-api-python-client with static discovery, batches, retries, quota
pacing) signed in by :mod:`.auth` (service account with domain-wide delegation, or an
administrator's installed-app sign-in); :mod:`.transform` maps the raw API shapes to
records; :mod:`.outcome` turns each topic's feed outcomes into one Coverage entry;
:mod:`.scopes` is the one table of feed → least-privilege scope; :mod:`.connector` wires
them (``GoogleConnector``, config section ``connectors.google``). Set-up: docs/google.md.
"""
