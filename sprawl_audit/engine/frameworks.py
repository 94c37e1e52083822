"""Framework metadata (``rules/frameworks.yaml``): what a rule's ``references`` may cite.

Rules cite controls by framework id, control id and a short title only — control texts of
frameworks that are not freely licensed are never copied — so this file carries what a
reader needs to find the source: name, version, publisher, link and licence.
"""

from __future__ import annotations

from typing import Any

from sprawl_audit.engine.model import Framework
from sprawl_audit.engine.sources import Source, read_yaml, shipped_root
from sprawl_audit.errors import UserError
from sprawl_audit.yamlio import line_of

_KEYS: tuple[str, ...] = ("id", "name", "version", "publisher", "url", "licence", "note")


def load_frameworks(source: Source | None = None) -> dict[str, Framework]:
    """Read framework metadata; the shipped ``frameworks.yaml`` when ``source`` is None."""
    src = source if source is not None else shipped_root() / "frameworks.yaml"
    path = str(src)
    data: Any = read_yaml(src)
    if not isinstance(data, dict) or not isinstance(data.get("frameworks"), list):
        raise UserError("expected a mapping with a 'frameworks' list", path=path,
                        line=line_of(data))
    out: dict[str, Framework] = {}
    for index, item in enumerate(data["frameworks"]):
        where = line_of(data["frameworks"], index)
        if not isinstance(item, dict):
            raise UserError("each framework must be a mapping", path=path, line=where)
        for key in item:
            if key not in _KEYS:
                raise UserError(f"unknown key (expected {', '.join(_KEYS)})", path=path,
                                line=line_of(item, key), key=str(key))
        for key, value in item.items():
            if not isinstance(value, str):
                raise UserError("must be a string", path=path, line=line_of(item, key), key=key)
        fid = item.get("id")
        if not fid or not item.get("name"):
            raise UserError("a framework needs an id and a name", path=path, line=where)
        if fid in out:
            raise UserError(f"duplicate framework id {fid!r}", path=path,
                            line=line_of(item, "id"), key="id")
        out[fid] = Framework(**{k: item[k] for k in _KEYS if k in item})
    return out
