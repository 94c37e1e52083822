"""The OASIS SARIF 2.1.0 JSON schema the SARIF tests validate against.

Shipped in the repository (``tests/data/sarif/``, with its OASIS notice in ``NOTICE.md``)
so ``make test`` passes on any fresh clone, offline, with nothing beside the checkout.
The size and digest are pinned: a truncated or edited copy would quietly weaken every
SARIF validation.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft4Validator

DATA = Path(__file__).resolve().parent / "data" / "sarif"
SARIF_SCHEMA = DATA / "sarif-schema-2.1.0.json"
NOTICE = DATA / "NOTICE.md"
SOURCE_URL = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
              "sarif-schema-2.1.0.json")
SIZE = 112_768
SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


def schema_bytes() -> bytes:
    """The schema file, checked to be the published one."""
    raw = SARIF_SCHEMA.read_bytes()
    assert len(raw) == SIZE and hashlib.sha256(raw).hexdigest() == SHA256, (
        f"{SARIF_SCHEMA} is not the OASIS schema published at {SOURCE_URL}")
    return raw


@lru_cache(maxsize=1)
def validator() -> Draft4Validator:
    """A draft-04 validator (the schema's own dialect) with format checks."""
    schema = json.loads(schema_bytes())
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
