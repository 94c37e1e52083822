"""Framework metadata: what a rule's ``references`` may cite, and what the compliance view
reports on.

Each framework is defined once, in the ``pack.yaml`` of the pack written for it::

    frameworks:
      - id: ncsc-caf                  # a mapping defines a framework ...
        name: NCSC Cyber Assessment Framework
        version: "4.0"
        publisher: National Cyber Security Centre
        url: https://www.ncsc.gov.uk/collection/cyber-assessment-framework
        licence: Open Government Licence v3.0
        note: ...
        controls:
          - {id: B2.a, title: People and systems proven before access}
      - uk-gdpr                       # ... a plain id cites one defined elsewhere

``rules/frameworks.yaml`` is the index of the shipped ones (``{id, pack}``), so a rule in
any pack may cite any shipped framework whichever packs are enabled. An index entry may
instead carry the metadata itself (``id``, ``name``, … ``controls``), which is how a
custom framework file works too.

Rules cite controls by framework id, control id and a short title only — control texts
of frameworks that are not freely licensed are never copied — so this metadata carries
what a reader needs to find the source: name, version, publisher, link and licence.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sprawl_audit.core.errors import UserError
from sprawl_audit.core.yamlio import line_of
from sprawl_audit.engine.model import Control, Framework
from sprawl_audit.engine.sources import Source, read_yaml, shipped_root

#: Keys of a framework definition (in a pack.yaml or the index).
FRAMEWORK_KEYS: tuple[str, ...] = (
    "id", "name", "version", "publisher", "url", "licence", "note", "controls",
)
_TEXT_KEYS: tuple[str, ...] = ("id", "name", "version", "publisher", "url", "licence", "note")
INDEX_FILE = "frameworks.yaml"
PACK_FILE = "pack.yaml"


def parse_framework(item: Any, *, path: str, pack: str = "") -> Framework:
    """Validate one framework definition (a mapping as loaded by yamlio) into a Framework."""
    where = line_of(item)
    if not isinstance(item, Mapping):
        raise UserError("a framework definition is a mapping with id, name, ... controls",
                        path=path, line=where)
    for key in item:
        if key not in FRAMEWORK_KEYS:
            raise UserError(f"unknown key (expected {', '.join(FRAMEWORK_KEYS)})", path=path,
                            line=line_of(item, key), key=str(key))
    for key in _TEXT_KEYS:
        if key in item and not isinstance(item[key], str):
            raise UserError("must be a string", path=path, line=line_of(item, key), key=key)
    fid = item.get("id")
    if not fid or not item.get("name"):
        raise UserError("a framework needs an id and a name", path=path, line=where)
    controls = _controls(item.get("controls", []), item, path)
    return Framework(
        id=fid, name=item["name"], version=item.get("version", ""),
        publisher=item.get("publisher", ""), url=item.get("url", ""),
        licence=item.get("licence", ""), note=item.get("note", ""),
        controls=controls, pack=pack, path=path, line=where or 0,
    )


def _controls(raw: Any, owner: Any, path: str) -> tuple[Control, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise UserError("controls takes a list of {id, title}", path=path,
                        line=line_of(owner, "controls"), key="controls")
    out: list[Control] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        where = line_of(raw, index)
        if not isinstance(entry, Mapping):
            raise UserError("each control is a mapping {id, title}", path=path, line=where,
                            key="controls")
        for key in entry:
            if key not in ("id", "title"):
                raise UserError("unknown key (expected id, title)", path=path,
                                line=line_of(entry, key), key=f"controls.{key}")
        cid, title = entry.get("id"), entry.get("title", "")
        if not isinstance(cid, str) or not cid:
            raise UserError('control id must be a string; quote ids like "5.10"', path=path,
                            line=where, key="controls.id")
        if not isinstance(title, str):
            raise UserError("must be a string", path=path, line=where, key="controls.title")
        if cid in seen:
            raise UserError(f"duplicate control id {cid!r}", path=path, line=where,
                            key="controls.id")
        seen.add(cid)
        out.append(Control(id=cid, title=" ".join(title.split())))
    return tuple(out)


def pack_definitions(meta: Source) -> list[Framework]:
    """Frameworks a ``pack.yaml`` defines (the mappings in its ``frameworks`` list)."""
    data = read_yaml(meta)
    if not isinstance(data, Mapping):
        return []
    pack = data.get("name") if isinstance(data.get("name"), str) else ""
    entries = data.get("frameworks")
    if not isinstance(entries, list):
        return []
    return [parse_framework(e, path=str(meta), pack=str(pack))
            for e in entries if isinstance(e, Mapping)]


def load_frameworks(source: Source | None = None) -> dict[str, Framework]:
    """Every framework rules may cite: the shipped index when ``source`` is None.

    An index entry ``{id, pack}`` takes the definition from that pack's ``pack.yaml``
    (a folder beside the index); any other entry is a definition in itself.
    """
    if source is None:
        return dict(_shipped())
    return _load_index(source)


@lru_cache(maxsize=1)
def _shipped() -> tuple[tuple[str, Framework], ...]:
    return tuple(_load_index(shipped_root() / INDEX_FILE).items())


def _load_index(src: Source) -> dict[str, Framework]:
    path = str(src)
    data: Any = read_yaml(src)
    if not isinstance(data, Mapping) or not isinstance(data.get("frameworks"), list):
        raise UserError("expected a mapping with a 'frameworks' list", path=path,
                        line=line_of(data))
    out: dict[str, Framework] = {}
    for index, item in enumerate(data["frameworks"]):
        where = line_of(data["frameworks"], index)
        if isinstance(item, Mapping) and "pack" in item:
            framework = _from_pack(item, src, path, where)
        else:
            framework = parse_framework(item, path=path)
        if framework.id in out:
            raise UserError(f"duplicate framework id {framework.id!r}", path=path,
                            line=where, key="id")
        out[framework.id] = framework
    return out


def _from_pack(item: Mapping[str, Any], index: Source, path: str,
               where: int | None) -> Framework:
    extra = [k for k in item if k not in ("id", "pack")]
    if extra:
        raise UserError("an entry naming a pack takes only id and pack (the definition "
                        "lives in the pack's pack.yaml)", path=path,
                        line=line_of(item, extra[0]), key=str(extra[0]))
    fid, pack = item.get("id"), item.get("pack")
    if not isinstance(fid, str) or not isinstance(pack, str) or not fid or not pack:
        raise UserError("id and pack must be strings", path=path, line=where)
    meta = index_parent(index) / pack / PACK_FILE
    if not meta.is_file():
        raise UserError(f"pack {pack!r} has no {PACK_FILE}", path=path,
                        line=line_of(item, "pack"), key="pack")
    for framework in pack_definitions(meta):
        if framework.id == fid:
            return framework
    raise UserError(f"{meta} does not define framework {fid!r}", path=path,
                    line=line_of(item, "pack"), key="pack")


def index_parent(index: Source) -> Any:
    """The folder holding the index file (Path or Traversable)."""
    parent = getattr(index, "parent", None)
    if parent is not None:
        return parent
    return shipped_root()  # pragma: no cover - Traversables without .parent
