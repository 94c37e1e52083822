"""The audit configuration file.

Precedence is flags > ``SPRAWL_AUDIT_*`` environment > this file; the CLI applies the
first two, this module only reads and validates the file. Secrets are never accepted
inline: a key that looks like a credential is refused with a pointer to the reference key
its connector really takes (:data:`SECRET_REFERENCES`: ``*_env`` names an environment
variable, ``*_file``/``*_path`` a file), so a config file can be shared, committed or
pasted into a ticket without leaking anything.
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
from sprawl_audit.core.model import OVERLAP_VIEWS, SEVERITIES
from sprawl_audit.parsers.phones import DEFAULT_REGION, region_code

_TOP_KEYS = {"organisation", "audit", "platforms", "catalog", "rules", "connectors", "plan",
             "report"}
_SECRET_KEY = re.compile(r"(secret|password|passphrase|token|api_key|apikey|private_key)$", re.I)
_SECRET_REF_SUFFIXES = ("_env", "_file", "_path")


#: The longest activity window: a century. The window is subtracted from the audit's date,
#: and a larger one (a YAML integer can be any size) overflows the date arithmetic.
MAX_ACTIVITY_DAYS = 36_500


#: The environment variable that holds the redaction key (``--redact-key-env`` names
#: another). Defined here, not in :mod:`sprawl_audit.store.redact`, because the config
#: sits below the store: it only names the variable, to say the key is never read here.
KEY_ENV = "SPRAWL_AUDIT_REDACT_KEY"


#: ``organisation.sector``: what kind of organisation is audited. It chooses the rule
#: packs (when ``rules.packs`` is not given) and the framework views the report shows (when
#: ``rules.frameworks`` is not given), and decides which frameworks bind the organisation
#: (the Cabinet Office guidance on non-corporate channels binds central government only;
#: anyone else reads it as good practice).
SECTORS: tuple[str, ...] = ("housing", "local-government", "nhs", "central-government",
                            "other")


@dataclass(frozen=True)
class SectorProfile:
    """The packs and framework views a sector gets by default, and why."""

    packs: tuple[str, ...]
    frameworks: tuple[str, ...]
    why: str


#: Default packs and views per sector. A housing association gets no NHS pack or view
#: unless it asks (``rules.packs``/``rules.frameworks``): one with NHS or care contracts
#: adds the ``nhs-dspt`` pack and the standards-based ``nhs-dspt-standards`` view.
_VIEWS = ("baseline", "uk-gdpr", "cyber-essentials", "ncsc-caf", "iso27001-2022")
_PUBLIC_PACKS = ("baseline", "uk-gdpr", "cyber-essentials", "ncsc-caf", "uk-gov-nccc")
#: The housing pack's views: Awaab's Law, the Ombudsman's Complaint Handling Code, the
#: Regulator's consumer standards and PCI DSS (card payments on recorded lines).
_HOUSING_VIEWS = ("awaabs-law", "hos-chc", "rsh-consumer", "pci-dss")

SECTOR_PROFILES: dict[str, SectorProfile] = {
    "housing": SectorProfile(
        ("baseline", "uk-gdpr", "cyber-essentials", "housing"),
        (*_VIEWS, "uk-gov-nccc", *_HOUSING_VIEWS),
        "a social landlord: UK GDPR, Cyber Essentials, Awaab's Law, the Complaint Handling "
        "Code, the consumer standards and PCI DSS apply; the CAF, ISO 27001 and the Cabinet "
        "Office guidance are good practice (a Scottish landlord adds the foi view for "
        "FOI(S)A)"),
    "local-government": SectorProfile(
        _PUBLIC_PACKS, (*_VIEWS, "uk-gov-nccc"),
        "a council: the CAF is the local-government assurance model; the Cabinet Office "
        "guidance is good practice"),
    "nhs": SectorProfile(
        ("baseline", "uk-gdpr", "cyber-essentials", "ncsc-caf", "nhs-dspt"),
        (*_VIEWS[:4], "nhs-dspt", "nhs-im", "iso27001-2022"),
        "a trust, ICB or NHS arm's-length body: the CAF-aligned DSPT and NHS England's "
        "messaging guidance"),
    "central-government": SectorProfile(
        _PUBLIC_PACKS, (*_VIEWS, "uk-gov-nccc"),
        "a department or arm's-length body: the Cabinet Office guidance binds it"),
    "other": SectorProfile(("baseline",), _VIEWS, "any other organisation"),
}


@dataclass(frozen=True)
class ReportSettings:
    """``report:``: how the board pack (``-f board``/``-f pdf``) is branded. Flags
    (``--prepared-for`` …) win over these. ``logo`` is the file's path, resolved against
    the config's folder and already checked (:func:`~sprawl_audit.core.images.logo_data_uri`)."""

    title: str = ""
    prepared_for: str = ""
    prepared_by: str = ""
    version: str = ""
    marking: str = ""
    logo: str | None = None


#: ``report:`` keys that hold one line of text, and the longest each may be.
REPORT_TEXT_KEYS: dict[str, int] = {"title": 120, "prepared_for": 120, "prepared_by": 120,
                                    "version": 40, "marking": 60}


@dataclass(frozen=True)
class Config:
    """Validated configuration. ``connectors`` keeps each section as written (located)."""

    path: str | None = None
    name: str = ""
    domains: tuple[str, ...] = ()
    #: ``organisation.identity_provider``: one catalogue slug or a list of them (an
    #: organisation may run several directories); see :mod:`sprawl_audit.graph.identity`.
    identity_providers: tuple[str, ...] = ()
    #: ``organisation.default_region``: where a telephone number written without a country
    #: code is (ISO 3166 alpha-2, e.g. ``GB``); see :mod:`sprawl_audit.parsers.phones`.
    default_region: str = DEFAULT_REGION
    activity_days: int = 90
    #: ``audit.overlap``: compare platforms on their primary capabilities (``primary``,
    #: the default) or on all of them (``all``); see graph/analyses/capabilities.py.
    overlap_view: str = "primary"
    fail_on: str | None = None
    sanctioned: tuple[str, ...] | None = None
    catalog_entries: tuple[Mapping[str, Any], ...] = ()
    rule_packs: tuple[str, ...] = ("baseline",)
    #: ``organisation.sector`` (one of :data:`SECTORS`), or None when not given (read as
    #: ``other``).
    sector: str | None = None
    #: ``rules.frameworks``: the framework views the report shows (the sector's when not
    #: given). Unlike ``--framework`` it does not limit which rules run.
    rule_frameworks: tuple[str, ...] = SECTOR_PROFILES["other"].frameworks
    rule_paths: tuple[str, ...] = ()
    rule_parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    rules_disabled: Mapping[str, str] = field(default_factory=dict)
    connectors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: ``audit.suppressions``: a suppressions file (resolved against the config's folder).
    suppressions: str | None = None
    #: ``audit.history``: the history database (resolved), or None for the default.
    history: str | None = None
    #: ``audit.history: false``: do not record audits.
    history_disabled: bool = False
    #: ``plan:`` as written (located): the consolidation plan's targets, keeps, price
    #: file, decisions file and timeline, validated by :mod:`sprawl_audit.plan.settings`
    #: (which sits above the config) before anything is collected.
    plan: Mapping[str, Any] = field(default_factory=dict)
    #: ``report:``: the board pack's branding.
    report: ReportSettings = field(default_factory=ReportSettings)

    @property
    def identity_provider(self) -> str:
        """The first configured identity provider, or "" (the Organisation field)."""
        return self.identity_providers[0] if self.identity_providers else ""

    @property
    def base_dir(self) -> Path:
        return Path(self.path).resolve().parent if self.path else Path.cwd()

    def relative(self, value: str) -> Path:
        """Resolve a path written in the config relative to the config file."""
        p = user_path(value)
        return p if p.is_absolute() else self.base_dir / p


def load_config(path: str | Path | None) -> Config:
    if path is None:
        return Config()
    data = yamlio.load_file(path)
    return parse_config(data, str(path))


def parse_config(data: Any, source: str = "<config>") -> Config:
    if data is None:
        return Config(path=source)
    _require_mapping(data, source, "config")
    _reject_unknown(data, _TOP_KEYS, source)
    _reject_inline_secrets(data, source, "")

    org = _section(data, "organisation", source)
    _reject_unknown(org, {"name", "domains", "identity_provider", "default_region", "sector"},
                    source, "organisation")
    audit = _section(data, "audit", source)
    _refuse_redact_settings(audit, source)
    _reject_unknown(audit, {"activity_days", "fail_on", "suppressions", "history", "overlap"},
                    source, "audit")
    plats = _section(data, "platforms", source)
    _reject_unknown(plats, {"sanctioned"}, source, "platforms")
    catalog = _section(data, "catalog", source)
    _reject_unknown(catalog, {"entries", "files"}, source, "catalog")
    rules = _section(data, "rules", source)
    _reject_unknown(rules, {"packs", "paths", "parameters", "disabled", "frameworks"}, source,
                    "rules")
    connectors = _section(data, "connectors", source)
    plan = _section(data, "plan", source)

    activity_days = audit.get("activity_days", 90)
    if isinstance(activity_days, bool) or not isinstance(activity_days, int) \
            or not 1 <= activity_days <= MAX_ACTIVITY_DAYS:
        raise _err(f"must be a whole number of days from 1 to {MAX_ACTIVITY_DAYS:,}", audit,
                   "activity_days", source)
    fail_on = audit.get("fail_on")
    if fail_on is not None and fail_on not in SEVERITIES:
        raise _err(f"must be one of {', '.join(SEVERITIES)}", audit, "fail_on", source)
    overlap_view = audit.get("overlap", "primary")
    if overlap_view not in OVERLAP_VIEWS:
        raise _err(f"must be one of {', '.join(OVERLAP_VIEWS)} (primary: compare products "
                   "on what they are for; all: on everything they can do)", audit, "overlap",
                   source)

    sanctioned = None
    if "sanctioned" in plats:
        sanctioned = tuple(_str_list(plats, "sanctioned", source, "platforms"))

    entries: list[Mapping[str, Any]] = []
    if "entries" in catalog:
        raw = catalog["entries"]
        if not isinstance(raw, list):
            raise _err("must be a list of catalogue entries", catalog, "entries", source)
        for index, entry in enumerate(raw):
            if not isinstance(entry, Mapping):  # located here: the loader no longer knows
                raise UserError("each catalogue entry must be a mapping (slug, name, ...)",
                                path=source, line=yamlio.line_of(raw, index),
                                key=f"catalog.entries[{index}]")
        entries.extend(raw)
    cfg_dir = Path(source).resolve().parent if source and not source.startswith("<") else Path.cwd()
    for f in _paths(catalog, "files", source, "catalog"):
        p = Path(f) if Path(f).is_absolute() else cfg_dir / f
        if not _is_file(p):  # say where the config names it, not only which file is missing
            raise _err(f"catalogue file {str(p)[:200]!r} does not exist or is not a file",
                       catalog, "files", source)
        loaded = yamlio.load_file(p)
        if not isinstance(loaded, list):
            raise UserError("a catalogue file must hold a list of entries", path=str(p), line=1)
        entries.extend(loaded)

    params = rules.get("parameters", {}) or {}
    _require_mapping(params, source, "rules.parameters", rules.get("parameters"))
    for rid, values in params.items():
        if not isinstance(values, Mapping):
            raise _err("must map parameter names to values", params, rid, source)
    disabled = rules.get("disabled", {}) or {}
    _require_mapping(disabled, source, "rules.disabled", disabled)
    for rid, why in disabled.items():
        if not isinstance(why, str) or not why.strip():
            raise _err("a disabled rule needs a reason (a non-empty string)", disabled, rid, source)

    for name, section in connectors.items():
        if section is not None and not isinstance(section, Mapping):
            raise _err("must be a mapping of settings", connectors, name, source)

    rule_paths = tuple(
        str(Path(p) if Path(p).is_absolute() else cfg_dir / p)
        for p in _paths(rules, "paths", source, "rules")
    )
    suppressions = _opt_str(audit, "suppressions", source) or None
    if suppressions:
        _paths({"suppressions": [suppressions]}, "suppressions", source, "audit", audit)
    sector = org.get("sector")
    if sector is not None and sector not in SECTORS:
        raise _err(f"must be one of {', '.join(SECTORS)}", org, "sector", source)
    profile = SECTOR_PROFILES[sector or "other"]
    history = audit.get("history")
    if isinstance(history, str):
        _paths({"history": [history]}, "history", source, "audit", audit)
    if history is not None and not isinstance(history, (str, bool)):
        raise _err("must be a path, or false to keep no history", audit, "history", source)
    if isinstance(history, str) and not history.strip():
        raise _err("must be a path, or false to keep no history", audit, "history", source)
    return Config(
        path=source,
        name=_opt_str(org, "name", source),
        domains=tuple(d.lower() for d in _str_list(org, "domains", source, "organisation")),
        identity_providers=_identity_providers(org, source),
        default_region=_default_region(org, source),
        activity_days=activity_days,
        overlap_view=overlap_view,
        fail_on=fail_on,
        sanctioned=sanctioned,
        catalog_entries=tuple(entries),
        rule_packs=tuple(_str_list(rules, "packs", source, "rules")) if "packs" in rules
        else profile.packs,
        sector=sector,
        rule_frameworks=tuple(_str_list(rules, "frameworks", source, "rules"))
        if "frameworks" in rules else profile.frameworks,
        rule_paths=rule_paths,
        rule_parameters={str(k): dict(v) for k, v in params.items()},
        rules_disabled={str(k): str(v) for k, v in disabled.items()},
        connectors={str(k): (v or {}) for k, v in connectors.items()},
        suppressions=_relative_to(cfg_dir, suppressions) if suppressions else None,
        history=_relative_to(cfg_dir, history) if isinstance(history, str) else None,
        history_disabled=history is False,
        plan=plan,
        report=_report_settings(_section(data, "report", source), source, cfg_dir),
    )


def _report_settings(section: Mapping[str, Any], source: str, cfg_dir: Path) -> ReportSettings:
    """``report:`` checked: one line of text per key (a marking is printed on every page
    of the board pack, so a line break or a novel there is a mistake), and a logo file
    that exists and is a PNG, JPEG or SVG no larger than the limit."""
    _reject_unknown(section, {*REPORT_TEXT_KEYS, "logo"}, source, "report")
    values: dict[str, str] = {}
    for key, limit in REPORT_TEXT_KEYS.items():
        value = _opt_str(section, key, source).strip()
        if "\n" in value or "\r" in value or len(value) > limit:
            raise _err(f"must be one line of at most {limit} characters", section, key, source)
        values[key] = value
    logo = _opt_str(section, "logo", source).strip() or None
    if logo is not None:
        from sprawl_audit.core.images import logo_data_uri

        _paths({"logo": [logo]}, "logo", source, "report", section)
        logo = _relative_to(cfg_dir, logo)
        try:
            logo_data_uri(logo)
        except UserError as exc:
            raise _err(f"{exc.message} ({logo[:200]!r})", section, "logo", source) from None
    return ReportSettings(logo=logo, **values)


def _default_region(org: Mapping[str, Any], source: str) -> str:
    """``default_region: GB``: the region of numbers written without a country code.

    Checked against the regions phonenumbers knows, so a typo (``UK`` for ``GB``) stops
    the run instead of quietly reading every national number in the wrong country.
    """
    value = org.get("default_region")
    if value is None:
        return DEFAULT_REGION
    code = region_code(value)
    if code is None:
        hint = " (the United Kingdom is GB)" if str(value).strip().upper() == "UK" else ""
        raise UserError(f"must be a two-letter region code such as GB, IE or US{hint}",
                        path=source, line=yamlio.line_of(org, "default_region"),
                        key="organisation.default_region")
    return code


def _identity_providers(org: Mapping[str, Any], source: str) -> tuple[str, ...]:
    """``identity_provider: entra-id`` or ``identity_provider: [entra-id, google-workspace]``."""
    value = org.get("identity_provider")
    if value is None:
        return ()
    if isinstance(value, str):
        values = [value]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        values = list(value)
    else:
        raise _err("must be a catalogue slug or a list of them", org, "identity_provider",
                   source)
    return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))


def _is_file(path: Path) -> bool:
    """``Path.is_file`` raises for a name too long for the file system (ENAMETOOLONG)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _relative_to(base: Path, value: str) -> str:
    p = user_path(value)
    return str(p if p.is_absolute() else base / p)


def _err(message: str, node: Any, key: Any, source: str) -> UserError:
    return UserError(message, path=source, line=yamlio.line_of(node, key), key=str(key))


def _require_mapping(value: Any, source: str, what: str, node: Any = None) -> None:
    if not isinstance(value, Mapping):
        raise UserError(f"{what} must be a mapping", path=source,
                        line=yamlio.line_of(node or value))


def _section(data: Mapping[str, Any], key: str, source: str) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _err("must be a mapping", data, key, source)
    return value


def _reject_unknown(
    section: Mapping[str, Any], allowed: set[str], source: str, prefix: str = ""
) -> None:
    for key in section:
        if key not in allowed:
            hint = ", ".join(sorted(allowed))
            raise _err(
                f"unknown key (expected one of: {hint})", section, key, source
            ) if not prefix else _err(
                f"unknown key in {prefix} (expected one of: {hint})", section, key, source
            )


def _str_list(section: Mapping[str, Any], key: str, source: str, prefix: str) -> list[str]:
    value = section.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _err(f"{prefix}.{key} must be a list of strings", section, key, source)
    return list(value)


def _paths(section: Mapping[str, Any], key: str, source: str, prefix: str,
           node: Any = None) -> list[str]:
    """A list of file paths: strings, non-empty, without NUL (which no file system takes:
    Python raises a bare ValueError on opening one, long after the config was read)."""
    values = _str_list(section, key, source, prefix)
    for value in values:
        if not value.strip() or "\x00" in value:
            raise _err("must be a file path (not empty, no NUL character)",
                       node if node is not None else section, key, source)
    return values


def _opt_str(section: Mapping[str, Any], key: str, source: str) -> str:
    value = section.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _err("must be a string", section, key, source)
    return value


#: Where each connector takes its credentials instead, so an inline secret is refused
#: with a pointer to a key that connector really accepts: ``{connector: {inline key:
#: reference keys}}``, ``"*"`` for any other secret-looking key. Every reference key must
#: be in the connector's ``KEYS`` (tests/test_config.py checks, so the two cannot drift).
SECRET_REFERENCES: dict[str, dict[str, tuple[str, ...]]] = {
    "m365": {
        "client_secret": ("client_secret_env",),
        "certificate_password": ("certificate_password_env",),
        "private_key": ("certificate_path", "certificate_password_env"),
        "*": ("client_secret_env", "certificate_path"),
    },
    "google": {
        "private_key": ("service_account_file",),
        "client_secret": ("oauth_client_file",),
        "*": ("service_account_file", "oauth_client_file"),
    },
    "slack": {"*": ("token_env",)},
    "whatsapp": {"*": ("token_env",)},
}
#: What a reference key holds, by its ending, for the refusal's wording.
_REFERENCE_KINDS = (("_env", "VAR_NAME", "an environment variable"),
                    ("_file", "path", "a file"), ("_path", "path", "a file"))
_REFERENCE_WORDS = {"service_account_file": "a service-account key file",
                    "oauth_client_file": "an OAuth client file",
                    "certificate_path": "a certificate file"}


def secret_suggestion(section_path: str, key: str) -> str:
    """The refusal of an inline secret at ``section_path`` + ``key``: which key to use
    instead, for the connector it sits in (never the value itself)."""
    parts = section_path.split(".")
    connector = parts[1] if len(parts) > 1 and parts[0] == "connectors" else None
    if connector is None:
        return "secrets are not accepted in the config file, and this setting takes none"
    refs = SECRET_REFERENCES.get(connector)
    if refs is None:
        return (f"secrets are not accepted in the config file, and connectors.{connector} "
                "takes no credentials")
    options = []
    for ref in refs.get(key, refs["*"]):
        placeholder, kind = next((p, k) for suffix, p, k in _REFERENCE_KINDS
                                 if ref.endswith(suffix))
        options.append(f"'{ref}: {placeholder}' ({_REFERENCE_WORDS.get(ref, kind)})")
    where = f" in connectors.{connector}" if len(parts) > 2 else ""
    return f"secrets are not accepted inline; use {' or '.join(options)}{where} instead"


def _refuse_redact_settings(audit: Mapping[str, Any], source: str) -> None:
    """The redaction key and ``--redact`` are run options, never config settings: point
    at the real mechanism rather than saying "unknown key"."""
    for key in audit:
        k = str(key)
        if k.startswith("redact_key"):
            raise _err(f"the redaction key is never read from the config file; export it "
                       f"as {KEY_ENV} (or name another variable with --redact-key-env)",
                       audit, key, source)
        if k == "redact":
            raise _err(f"redaction is asked for on the command line: --redact (or "
                       f"SPRAWL_AUDIT_REDACT=1), with the key in {KEY_ENV}",
                       audit, key, source)


def _reject_inline_secrets(node: Any, source: str, path: str) -> None:
    """Refuse credentials written into the file; point at the reference key instead."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            k = str(key)
            if (
                _SECRET_KEY.search(k)
                and not k.endswith(_SECRET_REF_SUFFIXES)
                and value not in (None, "")
            ):
                raise UserError(secret_suggestion(path.rstrip("."), k),
                                path=source, line=yamlio.line_of(node, key), key=f"{path}{k}")
            _reject_inline_secrets(value, source, f"{path}{k}.")
    elif isinstance(node, list):
        for item in node:
            _reject_inline_secrets(item, source, path)
