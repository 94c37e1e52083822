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
from dataclasses import replace
from functools import lru_cache
from typing import Any

from sprawl_audit.config import SECTORS
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.yamlio import line_of
from sprawl_audit.engine.model import Control, Framework
from sprawl_audit.engine.sources import Source, read_yaml, shipped_root

#: Keys of a framework definition (in a pack.yaml or the index).
FRAMEWORK_KEYS: tuple[str, ...] = (
    "id", "name", "version", "publisher", "url", "licence", "note", "applies_to",
    "binding_for", "derived_from", "controls",
)
_TEXT_KEYS: tuple[str, ...] = ("id", "name", "version", "publisher", "url", "licence", "note",
                               "applies_to", "derived_from")

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
    derived = " ".join(str(item.get("derived_from", "")).split())
    if not derived and any(c.sources for c in controls):
        raise UserError("a control's 'from' needs the framework's derived_from", path=path,
                        line=line_of(item, "controls"), key="controls")
    if derived:  # a control without `from` stands for the source's control of its own id
        raw = item.get("controls") or []
        explicit = {e.get("id") for e in raw if isinstance(e, Mapping) and "from" in e}
        controls = tuple(c if c.id in explicit else Control(c.id, c.title, (c.id,))
                         for c in controls)
    return Framework(
        id=fid, name=item["name"], version=item.get("version", ""),
        publisher=item.get("publisher", ""), url=item.get("url", ""),
        licence=item.get("licence", ""), note=" ".join(item.get("note", "").split()),
        controls=controls, pack=pack, path=path, line=where or 0,
        applies_to=" ".join(item.get("applies_to", "").split()),
        binding_for=_sectors(item, path), derived_from=derived,
    )


def _sectors(item: Mapping[str, Any], path: str) -> tuple[str, ...]:
    raw = item.get("binding_for")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise UserError("binding_for takes a list of sectors", path=path,
                        line=line_of(item, "binding_for"), key="binding_for")
    for sector in raw:
        if sector not in SECTORS:
            raise UserError(f"unknown sector {sector!r} (known: {', '.join(SECTORS)})",
                            path=path, line=line_of(item, "binding_for"), key="binding_for")
    return tuple(raw)


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
            if key not in ("id", "title", "from"):
                raise UserError("unknown key (expected id, title, from)", path=path,
                                line=line_of(entry, key), key=f"controls.{key}")
        cid, title = entry.get("id"), entry.get("title", "")
        sources = entry.get("from", [])
        if not isinstance(sources, list) or not all(isinstance(s, str) and s
                                                    for s in sources):
            raise UserError("from takes a list of control ids of the derived_from framework",
                            path=path, line=where, key="controls.from")
        if not isinstance(cid, str) or not cid:
            raise UserError('control id must be a string; quote ids like "5.10"', path=path,
                            line=where, key="controls.id")
        if not isinstance(title, str):
            raise UserError("must be a string", path=path, line=where, key="controls.title")
        if cid in seen:
            raise UserError(f"duplicate control id {cid!r}", path=path, line=where,
                            key="controls.id")
        seen.add(cid)
        out.append(Control(id=cid, title=" ".join(title.split()), sources=tuple(sources)))
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
    return resolve_derived(out)


def resolve_derived(frameworks: Mapping[str, Framework]) -> dict[str, Framework]:
    """Check every derived framework against its source, and give its controls the
    source's titles where they have none (the two views then read the same).

    A derived framework's source must be known and not itself derived, and each control's
    ``from`` ids must be controls of the source: a typo would silently cut the link.
    """
    out = dict(frameworks)
    for fid, framework in frameworks.items():
        if not framework.derived_from:
            continue
        source = frameworks.get(framework.derived_from)
        if source is None or source.derived_from:
            raise UserError(f"framework {fid!r} is derived from {framework.derived_from!r}, "
                            "which is not a (non-derived) framework", path=framework.path,
                            line=framework.line, key="derived_from")
        known = {c.id: c for c in source.controls}
        controls: list[Control] = []
        for control in framework.controls:
            missing = [s for s in control.sources if known and s not in known]
            if missing:
                raise UserError(f"control {control.id!r} of {fid} names {missing[0]!r}, "
                                f"which {source.id} does not define", path=framework.path,
                                line=framework.line, key="controls.from")
            title = control.title
            if not title and len(control.sources) == 1 and control.sources[0] in known:
                title = known[control.sources[0]].title
            controls.append(Control(control.id, title, control.sources))
        out[fid] = replace(framework, controls=tuple(controls))
    return out


def derived_references(framework_id: str, control_id: str,
                       frameworks: Mapping[str, Framework]) -> list[tuple[str, str]]:
    """(framework, control) pairs a citation of ``framework_id``/``control_id`` implies in
    the frameworks derived from it."""
    return [(f.id, c.id) for f in frameworks.values() if f.derived_from == framework_id
            for c in f.controls if control_id in c.sources]


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
