"""The platform catalogue: known communication products and how sources name them.

Data lives in ``data/*.yaml`` (one file per category); :func:`load_catalog` reads it once,
adds the user's config entries, and returns a :class:`Catalog` whose :meth:`Catalog.match`
turns any :class:`~sprawl_audit.core.model.AppRef` into at most one :class:`CatalogEntry`.
The matching rules are documented in :mod:`sprawl_audit.catalog.matcher`.
"""

from sprawl_audit.catalog.entry import (
    DOCUMENTED_TAGS,
    EXACT_KINDS,
    HOST_KINDS,
    IDENTIFIER_KINDS,
    NAME_KINDS,
    CatalogEntry,
    instance_display_name,
)
from sprawl_audit.catalog.loader import load_catalog
from sprawl_audit.catalog.matcher import Catalog
from sprawl_audit.catalog.normalise import host_key, name_key

__all__ = [
    "DOCUMENTED_TAGS",
    "EXACT_KINDS",
    "HOST_KINDS",
    "IDENTIFIER_KINDS",
    "NAME_KINDS",
    "Catalog",
    "CatalogEntry",
    "host_key",
    "instance_display_name",
    "load_catalog",
    "name_key",
]
