"""Google Workspace connector: the Directory, Reports, Chat and Gmail APIs.

get → transform → load, as every connector: :mod:`.settings` parses
``connectors.google`` once into ``GoogleSettings``; :mod:`.collect` reads the feeds
through :mod:`.client` (google-api-python-client with static discovery and batches) on
:mod:`.http` (the shared transport: retries, deadline, size cap, quota pacing), signed
in by :mod:`.auth` (service account with domain-wide delegation, or an administrator's
installed-app sign-in, over the same transport); :mod:`.errors` says what a refusal
means; :mod:`.transform` maps the raw API shapes to records; :mod:`.outcome` turns each
topic's feed outcomes into one Coverage entry; :mod:`.scopes` is the one table of feed →
least-privilege scope; :mod:`.connector` wires them (``GoogleConnector``). Set-up:
docs/google.md.
"""
