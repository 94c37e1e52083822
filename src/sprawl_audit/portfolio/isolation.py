"""What keeps one organisation's run apart from the others.

Each organisation is audited by its own ``sprawl-audit audit`` process (forked from a
warm server or started fresh, see :mod:`.launch`), which gives it its own memory, its
own HTTP sessions and therefore its own rate-limit budget (the transport's pacing and
Retry-After holds are per process). On top of that:

* **credentials** — the child's environment is the parent's *minus* every variable any
  organisation's ``secrets`` reads from and every ``SPRAWL_*`` setting, *plus* this
  organisation's own secrets under the names its config expects. No organisation's
  secret is ever in another's environment, output or log;
* **folders** — ``<output_dir>/<slug>/``: its reports, its log, its redacted config copy
  (an inline config written there, 0600), and its delta state file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sprawl_audit.core.errors import UserError
from sprawl_audit.portfolio.spec import OrgSpec, Portfolio, SecretRef

#: Prefixes of settings a child must not inherit from the parent's environment: the
#: portfolio passes what each run needs explicitly.
_STRIPPED_PREFIXES = ("SPRAWL_",)


@dataclass(frozen=True)
class OrgPaths:
    folder: Path
    output: Path
    log: Path
    state: Path
    config: Path | None  # the config to pass: the file given, or the inline one written


def org_paths(root: Path, org: OrgSpec) -> OrgPaths:
    folder = root / org.slug
    return OrgPaths(folder, folder / "out", folder / "audit.log", folder / "state.json",
                    org.config if org.config else (folder / "config.yaml"
                                                   if org.inline is not None else None))


def _secret_value(var: str, ref: SecretRef, parent: Mapping[str, str], org: OrgSpec) -> str:
    if ref.env is not None:
        value = parent.get(ref.env)
        if not value:
            raise UserError(f"{org.name}: secret {var} reads the environment variable "
                            f"{ref.env}, which is not set")
        return value
    assert ref.file is not None
    try:
        return ref.file.read_text("utf-8").strip()
    except OSError as exc:
        raise UserError(f"{org.name}: secret {var} cannot be read from {ref.file}: "
                        f"{exc.strerror or exc}") from None


def base_env(portfolio: Portfolio, parent: Mapping[str, str] | None = None) -> dict[str, str]:
    """The parent's environment without any organisation's secret or ``SPRAWL_*``
    setting: what every child starts from (and all the fork server ever sees)."""
    parent = os.environ if parent is None else parent
    sources = {ref.env for o in portfolio.organisations for ref in o.secrets.values()
               if ref.env}
    targets = {var for o in portfolio.organisations for var in o.secrets}
    return {k: v for k, v in parent.items()
            if k not in sources and k not in targets and not k.startswith(_STRIPPED_PREFIXES)}


def child_env(portfolio: Portfolio, org: OrgSpec,
              parent: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of ``org``'s audit process (see the module docstring)."""
    parent = dict(os.environ if parent is None else parent)
    env = base_env(portfolio, parent)
    for var, ref in org.secrets.items():
        env[var] = _secret_value(var, ref, parent, org)
    return env


def secret_values(org: OrgSpec, env: Mapping[str, str]) -> list[str]:
    """This organisation's secret values (to blank them in anything shown)."""
    return [env[var] for var in org.secrets if env.get(var)]
