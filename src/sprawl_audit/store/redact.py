"""``--redact``: replace personal identifiers with stable keyed pseudonyms in every output.

A consultant shares a report without personal data; a security officer compares
redacted reports run after run. So pseudonyms are *keyed* (HMAC-SHA256 with a secret the
operator holds, so nobody can confirm a guess such as "is person-… jane.doe@…?") and
*stable* (the same key maps the same person to the same pseudonym in every run). The key
comes from an environment variable, ``SPRAWL_AUDIT_REDACT_KEY`` unless
``--redact-key-env NAME`` names another; without it ``--redact`` refuses to run rather
than invent a per-run key that would make reports incomparable.

What is replaced, and by what:

- e-mail addresses anywhere (people's ids, phone owners, addresses quoted in findings)
  become ``person-<12 hex>@<domain>``: the domain is kept because it is not personal and
  says whether the person is staff, a guest or a personal-mail account;
- phone numbers (``+`` and 7–15 digits anywhere, UK national numbers such as
  ``0113 496 0155``, and every number in ``phone_numbers``) become
  ``+<country code>-phone-<12 hex>`` (a national number gets its ``+44`` form's);
- other person identifiers the Result lists (non-e-mail ids, phone owners given by name)
  become ``person-<12 hex>``; multi-word display names (snapshots) become ``name-<12 hex>``,
  and so does the label of a person's line (it is usually their name or role).

The organisation's own service lines (``service_line`` in the Result: ``kind: service``,
or a label such as "Reception", "Fax", "Lift emergency line" —
:func:`sprawl_audit.parsers.phones.is_service_line`) keep their numbers and labels
everywhere: they are published, they are not people, and a redacted report that hides the
switchboard cannot say which line it is talking about. A person who holds such a line is
still pseudonymised.

The Result is redacted by collecting those structured identifiers and then rewriting
every string field (keys included) in one regular-expression pass, so a message that
quotes an owner (``+4411… is still assigned to jo@…``) is covered as well as the field.
Findings about a person or a number get a new fingerprint computed the engine's way from
the pseudonymous subject (sha256 of rule id and subject id): the original fingerprint is
an unkeyed hash of a guessable phone number or address, so it would leak what redaction
hides. Lists sorted by a personal value (people, phone numbers, findings) are re-sorted
by the pseudonym so their order does not hint at the names either. The Result records
``redaction: {method, key_id}``; ``key_id`` identifies the key without revealing it, so
``diff`` can warn when two reports were redacted with different keys.

Free text the tenant wrote (interview notes) can hold a first name no pattern finds;
redaction covers identifiers, not prose.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sprawl_audit.core.atomic import Privacy

from sprawl_audit import config
from sprawl_audit.core.errors import UserError
from sprawl_audit.parsers.phones import country_code, is_service_line, normalise
from sprawl_audit.report.recount import finding_order

#: The environment variable read for the key (the name is the config's, see there).
KEY_ENV = config.KEY_ENV
MIN_KEY_LENGTH = 16
METHOD = "hmac-sha256"
PERSONAL_SUBJECT_KINDS = frozenset({"person", "phone"})
_HEX = 12

_EMAIL = re.compile(
    r"(?<![\w.%+'-])[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])"
)
_PHONE = re.compile(r"(?<![\w+])\+[1-9][0-9]{6,14}(?![0-9])")
# UK national format (0113 496 0155, 07700-900123): 0 and ten digits, spaces or hyphens
# between them; not inside identifiers (no letter, digit, '.', '-' or '+' before it).
_UK_NATIONAL = re.compile(r"(?<![\w+.-])0(?:[ -]?[0-9]){10}(?![0-9])")
_PSEUDONYM = re.compile(
    r"(?:person|name|phone)-[0-9a-f]{12}(?:@.*)?|\+[0-9]{1,3}-phone-[0-9a-f]{12}", re.I
)
#: A pseudonym inside text (a rendered Result): an address keeps its domain.
_PSEUDONYM_IN_TEXT = re.compile(
    r"(?:\+[0-9]{1,3}-)?(?:person|name|phone)-[0-9a-f]{12}"
    r"(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)?"
)
_KEY_HINT = ("set it to a long random secret kept with the schedule, e.g. "
             "`export {name}=$(openssl rand -hex 32)`; the same key gives the same "
             "pseudonyms in every run")


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex alternative for many literals, shaped as a trie so matching stays linear."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            return f"(?:{body})?"
        return body

    return build(trie)


class Redactor:
    """Keyed pseudonyms; one instance per key."""

    def __init__(self, key: str | bytes) -> None:
        raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        if len(raw) < MIN_KEY_LENGTH:
            raise ValueError(f"a redaction key needs at least {MIN_KEY_LENGTH} characters")
        self._key = raw
        self.key_id = self._mac("key-id")[:8]
        #: pseudonym -> what it replaced, for the client's key file (``--redaction-map``):
        #: the pseudonyms are one-way, so only whoever holds this file can turn them back
        self.issued: dict[str, str] = {}

    @classmethod
    def from_env(cls, name: str = KEY_ENV, environ: Mapping[str, str] | None = None
                 ) -> Redactor:
        """The key from environment variable ``name``; a clear UserError when unusable."""
        env = os.environ if environ is None else environ
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name or ""):
            raise UserError(f"{name!r} is not an environment variable name",
                            key="--redact-key-env")
        value = env.get(name, "")
        if not value:
            raise UserError(f"needs a key in the environment variable {name}; "
                            + _KEY_HINT.format(name=name), key="--redact")
        if len(value) < MIN_KEY_LENGTH:
            raise UserError(f"the redaction key in {name} is too short (at least "
                            f"{MIN_KEY_LENGTH} characters); " + _KEY_HINT.format(name=name),
                            key="--redact")
        from sprawl_audit.core.logsetup import register_secret

        register_secret(value)  # whatever the variable is called (--redact-key-env)
        return cls(value)

    # -- pseudonyms -------------------------------------------------------------------
    def _mac(self, text: str) -> str:
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def _token(self, kind: str, value: str) -> str:
        return self._mac(f"{kind}\x00{value}")[:_HEX]

    def _issue(self, pseudonym: str, original: str) -> str:
        self.issued.setdefault(pseudonym, original)
        return pseudonym

    def email(self, address: str) -> str:
        if _PSEUDONYM.fullmatch(address):
            return address
        domain = address.rsplit("@", 1)[1].lower()
        return self._issue(f"person-{self._token('email', address.lower())}@{domain}",
                           address.lower())

    def phone(self, number: str) -> str:
        if _PSEUDONYM.fullmatch(number):
            return number
        # Keyed on the normalised line (sprawl_audit.parsers.phones, the graph's own form), so
        # "0113 496 0155", "+44 (0)113 496 0155" and "+441134960155" share a pseudonym.
        read = normalise(number)
        if read.valid and read.country_code:
            return self._issue(
                f"+{read.country_code}-phone-{self._token('phone', read.number)}", read.number)
        digits = re.sub(r"[^0-9]", "", number)
        if number.strip().startswith("+") and digits:
            return self._issue(
                f"+{country_code(digits)}-phone-{self._token('phone', '+' + digits)}",
                "+" + digits)
        return self._issue(f"phone-{self._token('phone', digits or number.strip().lower())}",
                           number.strip())

    def person(self, value: str) -> str:
        """A person identifier of any shape (e-mail address, directory id, name)."""
        if _PSEUDONYM.fullmatch(value):
            return value
        if _EMAIL.fullmatch(value):
            return self.email(value)
        return self._issue(f"person-{self._token('person', value.strip().lower())}",
                           value.strip())

    def name(self, display_name: str) -> str:
        if _PSEUDONYM.fullmatch(display_name):
            return display_name
        return self._issue(
            f"name-{self._token('name', ' '.join(display_name.lower().split()))}",
            " ".join(display_name.split()))

    def write_map(self, path: str | Path, document: Any) -> int:
        """The client's key: each pseudonym that appears in ``document`` (a redacted
        Result) and what it replaced, written owner-only and atomically to ``path`` — a
        file apart from every report, which never embeds it. Returns how many entries."""
        from sprawl_audit.core.atomic import atomic_write_text
        from sprawl_audit.core.finite import dumps

        text = dumps(document, "the redacted Result", str(path), ensure_ascii=False)
        seen = set(_PSEUDONYM_IN_TEXT.findall(text))
        used = {p: o for p, o in sorted(self.issued.items()) if p in seen}
        doc = {"purpose": "sprawl-audit redaction map: pseudonym -> original. Personal data: "
                          "keep it apart from the reports it unlocks.",
               "key_id": self.key_id, "pseudonyms": used}
        atomic_write_text(Path(path), dumps(doc, "the redaction map", str(path),
                                            ensure_ascii=False), privacy="personal")
        return len(used)

    # -- documents --------------------------------------------------------------------
    def plan(self, result: Mapping[str, Any]) -> ResultRedaction:
        """Collect ``result``'s personal identifiers; the plan redacts it (and predicts
        the fingerprints findings will carry, for suppressions and ``--baseline``)."""
        return ResultRedaction(self, result)

    def redact_result(self, result: Mapping[str, Any]) -> dict[str, Any]:
        return self.plan(result).apply(result)

    def redact_snapshot(self, snapshot: Mapping[str, Any]) -> dict[str, Any]:
        """A redacted copy of a snapshot document (``snapshot.inventory_to_dict``)."""
        doc = copy.deepcopy(dict(snapshot))
        inv = doc.get("inventory", doc)
        known: dict[str, str] = {}

        def person_value(value: Any) -> Any:
            if isinstance(value, str) and value:
                known[value.lower()] = self.person(value)
                return self.person(value)
            return value

        for person in inv.get("people", ()):
            person["id"] = person_value(person.get("id"))
            person["email"] = person_value(person.get("email"))
            name = person.get("display_name")
            if isinstance(name, str) and name.strip():
                person["display_name"] = self.name(name)
                if len(name.split()) >= 2:  # one word ("Admin") is too common for prose
                    known[name.lower()] = self.name(name)
            person["attributes"] = {
                k: (f"id-{self._token('attr', v)}" if isinstance(v, str) and v else v)
                for k, v in (person.get("attributes") or {}).items()
            }
        for usage in inv.get("usages", ()):
            usage["person"] = person_value(usage.get("person"))
        for account in inv.get("accounts", ()):
            account["person"] = person_value(account.get("person"))
        for device in inv.get("devices", ()):
            device["owner"] = person_value(device.get("owner"))
        for integration in inv.get("integrations", ()):
            integration["users"] = [person_value(u) for u in integration.get("users", ())]
        for link in inv.get("external_links", ()):
            link["people"] = [person_value(p) for p in link.get("people", ())]
        for obs in inv.get("observations", ()):
            obs["person"] = person_value(obs.get("person"))
        keep: set[str] = set()
        for number in inv.get("phone_numbers", ()):
            raw = number.get("number")
            attributes = number.get("attributes") or {}
            label = attributes.get("label") or attributes.get("owner_label")
            if is_service_line(number.get("kind"), label if isinstance(label, str) else None,
                               owned=bool(number.get("owner"))):
                if isinstance(raw, str) and raw:
                    keep.add(normalise(raw).number)
            else:
                if isinstance(raw, str) and raw:
                    known[raw.lower()] = number["number"] = self.phone(raw)
                for key in ("label", "owner_label"):
                    if isinstance(attributes.get(key), str) and attributes[key]:
                        known[attributes[key].lower()] = self.name(attributes[key])
            number["owner"] = person_value(number.get("owner"))
        scrubbed: dict[str, Any] = Scrubber(self, known, keep=keep).deep(doc)
        return scrubbed

    def write_snapshot(self, inventory: Any, path: str | Path, *,
                       privacy: Privacy = "personal") -> None:
        """``--save-snapshot`` with ``--redact``: the inventory written redacted, atomically."""
        from sprawl_audit.core.atomic import atomic_write_text
        from sprawl_audit.core.finite import dumps
        from sprawl_audit.inventory.snapshot import inventory_to_dict

        doc = self.redact_snapshot(inventory_to_dict(inventory))
        atomic_write_text(Path(path), dumps(doc, "the snapshot", str(path), ensure_ascii=False),
                          privacy=privacy)


class Scrubber:
    """Rewrites every e-mail address, phone number and known identifier in strings."""

    def __init__(self, redactor: Redactor, known: Mapping[str, str], *,
                 keep: Iterable[str] = ()) -> None:
        self.redactor = redactor
        #: numbers (normalised) left as written: the organisation's own service lines
        self.keep = frozenset(keep)
        # Literals no generic pattern catches (non-e-mail ids, national-format numbers,
        # names); shapes the patterns catch are mapped by the patterns themselves.
        self.known = {k: v for k, v in known.items()
                      if 3 <= len(k) <= 200 and not _EMAIL.fullmatch(k)
                      and not _PHONE.fullmatch(k) and not _UK_NATIONAL.fullmatch(k)
                      and not _PSEUDONYM.fullmatch(k)}
        parts = [f"(?P<email>{_EMAIL.pattern})", f"(?P<phone>{_PHONE.pattern})",
                 f"(?P<national>{_UK_NATIONAL.pattern})"]
        if self.known:
            parts.insert(0, rf"(?P<known>(?<![\w@+]){_trie_pattern(self.known)}(?![\w@]))")
        self._pattern = re.compile("|".join(parts), re.IGNORECASE)

    def _replace(self, match: re.Match[str]) -> str:
        text = match.group(0)
        if _PSEUDONYM.fullmatch(text):
            return text
        if match.lastgroup == "known":
            return self.known.get(text.lower(), text)
        if match.lastgroup == "email":
            return self.redactor.email(text)
        if self.keep and normalise(text).number in self.keep:
            return text
        return self.redactor.phone(text)

    def text(self, value: str) -> str:
        return self._pattern.sub(self._replace, value)

    def deep(self, node: Any) -> Any:
        if isinstance(node, str):
            return self.text(node)
        if isinstance(node, Mapping):
            return {(self.text(k) if isinstance(k, str) else k): self.deep(v)
                    for k, v in node.items()}
        if isinstance(node, list):
            return [self.deep(v) for v in node]
        return node


class ResultRedaction:
    """The redaction of one Result: its personal identifiers, collected once."""

    def __init__(self, redactor: Redactor, result: Mapping[str, Any]) -> None:
        self.redactor = redactor
        known: dict[str, str] = {}
        keep: set[str] = set()
        #: a person's line's label -> its pseudonym (set on the field after the scrub)
        self.labels: dict[str, str] = {}
        for person in result.get("people") or ():
            pid = person.get("id")
            if isinstance(pid, str) and pid:
                known[pid.lower()] = redactor.person(pid)
        for number in result.get("phone_numbers") or ():
            raw, owner = number.get("number"), number.get("owner")
            label = number.get("label")
            if number.get("service_line") is True:
                if isinstance(raw, str) and raw:
                    keep.add(normalise(raw).number)
            else:
                if isinstance(raw, str) and raw:
                    known[raw.lower()] = redactor.phone(raw)
                if isinstance(label, str) and label:
                    self.labels[label] = redactor.name(label)
            if isinstance(owner, str) and owner:
                known[owner.lower()] = redactor.person(owner)
        for finding in result.get("findings") or ():
            subject = finding.get("subject") or {}
            kind = subject.get("kind")
            if kind not in PERSONAL_SUBJECT_KINDS:
                continue
            for value in (str(subject.get("id", "")).partition(":")[2], subject.get("name")):
                if not isinstance(value, str) or not value:
                    continue
                if kind == "phone" and normalise(value).number in keep:
                    continue
                known[value.lower()] = (redactor.phone(value) if kind == "phone"
                                        else redactor.person(value))
        self.scrubber = Scrubber(redactor, known, keep=keep)

    def subject_id(self, finding: Mapping[str, Any]) -> str:
        return self.scrubber.text(str((finding.get("subject") or {}).get("id", "")))

    def fingerprint(self, finding: Mapping[str, Any]) -> str:
        """The fingerprint ``finding`` will carry once redacted (unchanged unless its
        subject id holds personal data)."""
        from sprawl_audit.engine import fingerprint

        subject_id = str((finding.get("subject") or {}).get("id", ""))
        redacted = self.subject_id(finding)
        if redacted == subject_id:
            return str(finding.get("fingerprint", ""))
        return fingerprint(str(finding.get("rule_id", "")), redacted)

    def apply(self, result: Mapping[str, Any]) -> dict[str, Any]:
        fingerprints = [self.fingerprint(f) for f in result.get("findings") or ()]
        out: dict[str, Any] = self.scrubber.deep(result)
        for finding, fp in zip(out.get("findings") or (), fingerprints, strict=True):
            finding["fingerprint"] = fp
        if isinstance(out.get("people"), list):
            out["people"].sort(key=lambda p: str(p.get("id", "")))
        if isinstance(out.get("phone_numbers"), list):
            for number, original in zip(out["phone_numbers"], result.get("phone_numbers") or (),
                                        strict=False):
                label = original.get("label") if isinstance(original, Mapping) else None
                if isinstance(label, str) and label in self.labels:
                    number["label"] = self.labels[label]
            out["phone_numbers"].sort(key=lambda n: str(n.get("number", "")))
        if isinstance(out.get("findings"), list):
            out["findings"].sort(key=finding_order)
        out["redaction"] = {"method": METHOD, "key_id": self.redactor.key_id}
        return out
