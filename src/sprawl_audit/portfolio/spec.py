"""The portfolio file (``sprawl-audit portfolio run PORTFOLIO.yaml``).

::

    store: postgresql://audit@db.internal/sprawl     # default for every organisation
    output_dir: out                                  # one folder per organisation inside
    workers: 4
    organisations:
      - name: Riverside Homes Group
        config: riverside/config.yaml                # relative to this file
        secrets:                                     # what the config's *_env names get
          SPRAWL_M365_SECRET: {env: RIVERSIDE_M365_SECRET}
          SPRAWL_SLACK_TOKEN: {file: secrets/riverside-slack.token}
        tags: [nightly]
      - name: Elmfield Housing
        config:                                      # or the config inline
          organisation: {name: Elmfield Housing, domains: [elmfield.org.uk]}
          connectors: {email: {domains: [elmfield.org.uk]}}
      - name: Old survey
        snapshot: surveys/old.json                   # audit --from a saved inventory

Secrets are references, as in a config: each organisation's run gets only its own, under
the names its config expects, and no other organisation's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sprawl_audit.core import yamlio
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.inputs import user_path

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class SecretRef:
    """Where one secret comes from: the parent's environment variable, or a file."""

    env: str | None = None
    file: Path | None = None


@dataclass(frozen=True)
class OrgSpec:
    name: str
    slug: str
    config: Path | None = None
    inline: Mapping[str, Any] | None = None
    snapshot: Path | None = None
    secrets: Mapping[str, SecretRef] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Portfolio:
    path: Path
    organisations: tuple[OrgSpec, ...]
    store: str | None = None
    output_dir: Path | None = None
    workers: int | None = None


def slug_of(name: str) -> str:
    """A folder name for an organisation: lower-case words joined by ``-``."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:60] or "organisation"


def _fail(message: str, node: Any, key: Any, source: str) -> UserError:
    return UserError(message, path=source, line=yamlio.line_of(node, key), key=str(key))


def _keys(node: Mapping[str, Any], allowed: set[str], source: str, where: str) -> None:
    for key in node:
        if key not in allowed:
            raise _fail(f"unknown key in {where} (expected one of: "
                        f"{', '.join(sorted(allowed))})", node, key, source)


def _file(base: Path, node: Mapping[str, Any], key: str, source: str) -> Path:
    value = node.get(key)
    if not isinstance(value, str) or not value.strip() or "\x00" in value:
        raise _fail("must be a file path", node, key, source)
    p = user_path(value)
    p = p if p.is_absolute() else base / p
    if not p.is_file():
        raise _fail(f"{str(p)[:200]!r} does not exist or is not a file", node, key, source)
    return p


def _secrets(node: Mapping[str, Any], source: str, base: Path) -> dict[str, SecretRef]:
    raw = node.get("secrets") or {}
    if not isinstance(raw, Mapping):
        raise _fail("must map environment variable names to {env: NAME} or {file: PATH}",
                    node, "secrets", source)
    out: dict[str, SecretRef] = {}
    for var, ref in raw.items():
        if not isinstance(var, str) or not _ENV_NAME.fullmatch(var):
            raise _fail("not an environment variable name", raw, var, source)
        if not isinstance(ref, Mapping) or len(ref) != 1 or not set(ref) <= {"env", "file"}:
            raise _fail("give the secret as {env: VARIABLE} or {file: PATH}, never the "
                        "value itself", raw, var, source)
        if "env" in ref:
            name = ref["env"]
            if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
                raise _fail("not an environment variable name", ref, "env", source)
            out[var] = SecretRef(env=name)
        else:
            out[var] = SecretRef(file=_file(base, ref, "file", source))
    return out


def load_portfolio(path: str | Path) -> Portfolio:
    p = Path(path)
    source = str(p)
    data = yamlio.load_file(p)
    if not isinstance(data, Mapping):
        raise UserError("a portfolio file must be a mapping with 'organisations'", path=source,
                        line=1)
    _keys(data, {"organisations", "store", "output_dir", "workers"}, source, "the portfolio")
    base = p.resolve().parent
    orgs_raw = data.get("organisations")
    if not isinstance(orgs_raw, list) or not orgs_raw:
        raise _fail("must be a non-empty list of organisations", data, "organisations", source)
    orgs: list[OrgSpec] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(orgs_raw):
        if not isinstance(item, Mapping):
            raise UserError("each organisation must be a mapping (name, config, ...)",
                            path=source, line=yamlio.line_of(orgs_raw, index),
                            key=f"organisations[{index}]")
        _keys(item, {"name", "config", "snapshot", "secrets", "tags"}, source,
              "an organisation")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _fail("needs a name", item, "name", source)
        slug = slug_of(name)
        if slug in seen:
            raise _fail(f"two organisations would share the folder {slug!r} "
                        f"({seen[slug]!r} and {name!r}): names must differ", item, "name",
                        source)
        seen[slug] = name
        config = item.get("config")
        inline: Mapping[str, Any] | None = None
        config_path: Path | None = None
        if isinstance(config, Mapping):
            inline = config
        elif config is not None:
            config_path = _file(base, item, "config", source)
        snapshot = _file(base, item, "snapshot", source) if "snapshot" in item else None
        if config is None and snapshot is None:
            raise _fail("needs a config (a path or inline) or a snapshot", item, "name",
                        source)
        tags = item.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise _fail("must be a list of strings", item, "tags", source)
        orgs.append(OrgSpec(name.strip(), slug, config_path, inline, snapshot,
                            _secrets(item, source, base), tuple(tags)))
    store = data.get("store")
    if store is not None and (not isinstance(store, str) or not store.strip()):
        raise _fail("must be a store URL or path", data, "store", source)
    out = data.get("output_dir")
    if out is not None and (not isinstance(out, str) or not out.strip()):
        raise _fail("must be a folder", data, "output_dir", source)
    workers = data.get("workers")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or not 1 <= workers <= 256):
        raise _fail("must be a whole number from 1 to 256", data, "workers", source)
    return Portfolio(p, tuple(orgs), store,
                     (base / user_path(out)) if out and not user_path(out).is_absolute()
                     else (user_path(out) if out else None), workers)
