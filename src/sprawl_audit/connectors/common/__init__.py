"""What every connector that speaks HTTP itself shares, so a fix lands in one place.

* :mod:`.http` — trust (``ca_bundle`` beats ``REQUESTS_CA_BUNDLE``), an overall
  per-request deadline, a response size cap that also bounds decompressed bodies, and JSON
  decoding with a depth guard.
* :mod:`.paging` — a guard for "next page" links: a repeated link (A→A, A→B→A) or more
  pages than the cap ends the read with a coverage error instead of looping for ever.
* :mod:`.secrets` — the one secret registry; output and log scrubbing read it.
* :mod:`.ranking` — which failure a topic reports when several of its reads failed.
* :mod:`sprawl_audit.connectors.common.retry` — Retry-After and the injectable clock.
* :mod:`.csvmap` — reading a delimited export through a column mapping (the phone and
  network-log imports), with errors naming file, line and column.
"""
