"""The organisation's identity providers: configured ones, and the directories it runs.

An audit must not call Teams "outside the identity provider" just because nobody wrote
``organisation.identity_provider`` in the config: Teams cannot be signed in to except
through the Entra ID tenant it belongs to. So the identity providers an audit judges
against are

* the configured ones (``organisation.identity_provider``: a catalogue slug or a list of
  them; a suite name such as ``google-workspace`` means that suite's identity provider),
* plus every directory a connector actually read (:data:`DIRECTORY_CONNECTORS`: the
  ``m365`` connector reads Entra ID, ``google`` reads Google Workspace). A directory the
  audit connected to is the identity provider of its own first-party services (catalogue
  ``native_identity``), whatever else is configured.

An organisation may run several directories (a council on Entra ID whose schools are on
Google Workspace); each is an identity provider of the organisation.
"""

from __future__ import annotations

from collections.abc import Iterable

from sprawl_audit.catalog import Catalog
from sprawl_audit.core.model import ASSESSABLE_STATUSES, Inventory, Organisation

#: Connector name -> the catalogue slug of the directory it reads.
DIRECTORY_CONNECTORS: dict[str, str] = {
    "m365": "entra-id",
    "google": "google-workspace-identity",
}
IDP_TAG = "identity_provider"


def configured_providers(org: Organisation) -> tuple[str, ...]:
    """The identity providers the organisation record names, in order, without blanks."""
    names = (org.identity_provider, *org.identity_providers)
    return tuple(dict.fromkeys(n.strip() for n in names if n and n.strip()))


def canonical_provider(name: str, catalog: Catalog) -> str | None:
    """The catalogue slug of the identity provider ``name`` means, or None if unknown.

    A slug of an entry tagged ``identity_provider`` is itself; a suite name
    (``microsoft-365``, ``google-workspace``) or the slug of any product of that suite
    means the suite's identity provider.
    """
    entry = catalog.get(name)
    if entry is not None and IDP_TAG in entry.tags:
        return entry.slug
    suite = entry.suite if entry is not None else name
    for candidate in catalog.with_tag(IDP_TAG):
        if suite and candidate.suite == suite:
            return candidate.slug
    return None


def known_provider_names(catalog: Catalog) -> list[str]:
    """Every name :func:`canonical_provider` accepts (for "nearest names" in errors)."""
    names = [e.slug for e in catalog.with_tag(IDP_TAG)]
    names.extend(sorted({e.suite for e in catalog.with_tag(IDP_TAG) if e.suite}))
    return names


def connected_directories(inventory: Inventory) -> tuple[str, ...]:
    """Directories a connector read this run (a collected or partial coverage entry)."""
    found = {
        DIRECTORY_CONNECTORS[c.connector]
        for c in inventory.coverage
        if c.connector in DIRECTORY_CONNECTORS and c.status in ASSESSABLE_STATUSES
    }
    return tuple(sorted(found))


def effective_providers(
    inventory: Inventory, catalog: Catalog
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(every identity provider of the organisation, those inferred from connected
    directories and not configured). Configured names are made catalogue slugs where the
    catalogue knows them (an unknown one is kept as written: the config check refuses
    unknown names, an old snapshot may still carry one)."""
    configured = [canonical_provider(n, catalog) or n
                  for n in configured_providers(inventory.organisation)]
    inferred = [d for d in connected_directories(inventory) if d not in configured]
    return tuple(dict.fromkeys((*configured, *inferred))), tuple(inferred)


def first_party_of(providers: Iterable[str], catalog: Catalog) -> frozenset[str]:
    """Catalogue slugs of the products that sign in natively with one of ``providers``."""
    wanted = set(providers)
    return frozenset(e.slug for e in catalog if e.native_identity in wanted)
