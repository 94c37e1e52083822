"""One telephone-number normaliser for every source, built on ``phonenumbers``.

A line is one graph node only when every source writes it the same way: Teams says
``+441134960123``, a Mitel export ``0113 496 0123``, an 8x8 export ``+44 (0)113 496 0123``
and a WhatsApp Business account ``441134960123``. Each source used to strip characters
its own way, so the ``(0)`` trunk prefix survived in some (``+4401134960123``) and not in
others, and the same line became two nodes. Every connector now calls :func:`normalise`,
which hands the text to Google's libphonenumber port (the library behind Android's
dialler), so national formats, trunk prefixes, ``00`` international prefixes and
extensions are read by one set of rules that knows every country's numbering plan.

* A number written without a country code is read in the **default region**
  (``organisation.default_region`` in the config, ``GB`` unless set), or in the region a
  source states for that number (Teams' ``isoCountryCode``).
* Digits without ``+`` or a trunk ``0`` that are not a number of the default region are
  tried as an international number (``15551234567`` → ``+15551234567``): sources that
  show international numbers without the ``+`` (WhatsApp's Cloud API) are read as such.
* The result is E.164 (``+441134960123``). An extension (``x201``, ``ext. 201``) is kept
  as ``;ext=201`` (RFC 3966): two extensions behind one DDI are two lines, not one.
* A number is accepted when its length is possible for its country (a length only
  dialable locally, such as a bare extension ``4021``, is not). Validity against
  the allocated ranges is deliberately not required: Ofcom's drama ranges (07700 900xxx)
  and newly opened ranges the installed metadata does not know yet are still lines
  someone uses, and matching them across sources is the point.
* Anything else — letters, Excel's ``4.41E+11``, too few or too many digits — is **kept
  as written** (trimmed) with ``valid`` false and the reason, so it is still listed and
  reported rather than guessed at or dropped. Connectors count such numbers in their
  coverage detail and mark them ``number_valid: false``; the graph's ``phone`` nodes
  carry the fact ``number_valid``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import phonenumbers

#: The region used when neither the config nor the source says otherwise.
DEFAULT_REGION = "GB"
#: Characters a written telephone number may contain besides an extension.
_WRITTEN = re.compile(r"[0-9+\-.()/ \u00a0\u2007\u202f]+")
# "x201", "ext. 201", "#201", and RFC 3966's ";ext=201" (so normalising is idempotent)
_EXTENSION = re.compile(r"\s*(?:;\s*ext\s*=|x|ext\.?|extn\.?|extension|#)\s*([0-9]{1,7})\s*$",
                        re.I)
_E164 = re.compile(r"\+[1-9][0-9]{1,14}(?:;ext=[0-9]{1,7})?")
#: How many numbers a coverage detail names before it only counts.
_NAMED = 5


@dataclass(frozen=True, slots=True)
class Normalised:
    """A number as the graph keys it, and whether it could be read."""

    number: str  # E.164 (";ext=N" for an extension), or the text as written when invalid
    valid: bool
    problem: str = ""  # why it could not be read; empty when valid
    country_code: int | None = None

    @property
    def attributes(self) -> dict[str, Any]:
        """What a PhoneNumber records about an unreadable number (nothing when valid)."""
        if self.valid:
            return {}
        return {"number_valid": False, "number_problem": self.problem}


def region_code(value: Any) -> str | None:
    """``value`` as an upper-case region code phonenumbers knows (``GB``), or None."""
    import phonenumbers  # imported when needed: ``--version`` and ``--help`` stay quick

    if not isinstance(value, str):
        return None
    code = value.strip().upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else None


def is_e164(number: str) -> bool:
    """Whether ``number`` is in the normalised form (so it can match other sources)."""
    return bool(_E164.fullmatch(number))


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    import phonenumbers

    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    # IS_POSSIBLE only: a "local-only" length (4021, an extension; 496 0123 without its
    # area code) is not a line anyone outside the building can dial.
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    return parsed if reason == phonenumbers.ValidationResult.IS_POSSIBLE else None


def normalise(raw: str, region: str | None = DEFAULT_REGION) -> Normalised:
    """E.164 form of a written telephone number, or the text kept with the reason."""
    text = " ".join(str(raw).split())
    if not text:
        return Normalised("", False, "empty")
    extension = ""
    match = _EXTENSION.search(text)
    if match:
        extension = match.group(1)
        text = text[: match.start()].strip()
    if not text or not _WRITTEN.fullmatch(text) or not any(ch.isdigit() for ch in text):
        return Normalised(" ".join(str(raw).split()), False,
                          "not a telephone number (letters or symbols)")
    region = region_code(region) or DEFAULT_REGION
    parsed = _parse(text, region)
    digits = re.sub(r"\D", "", text)
    if parsed is None and not text.startswith("+") and digits and digits[0] != "0":
        parsed = _parse("+" + digits, None)  # an international number without its '+'
    if parsed is None:
        return Normalised(" ".join(str(raw).split()), False,
                          f"not a possible telephone number in {region} or internationally")
    import phonenumbers

    number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if extension:
        number += f";ext={extension}"
    return Normalised(number, True, "", parsed.country_code)


def e164(raw: str, region: str | None = DEFAULT_REGION) -> str | None:
    """The E.164 form, or None when the text is not a telephone number."""
    result = normalise(raw, region)
    return result.number if result.valid else None


def country_code(digits: str) -> str:
    """The ITU-T E.164 country code that ``digits`` (a number's digits, no ``+``) begins
    with, from libphonenumber's table; the first three digits when no code is assigned
    there (three is the longest a code has). For numbers :func:`normalise` cannot read
    but that were written with ``+`` (redaction keeps the country of such a number)."""
    import phonenumbers

    for size in (1, 2, 3):
        head = digits[:size]
        if len(head) == size and head.isdigit() and not head.startswith("0") \
                and int(head) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return head
    return digits[:3]


def invalid_note(numbers: Iterable[Any]) -> str:
    """The coverage-detail phrase for numbers kept as written (empty when there are none).

    ``numbers`` are PhoneNumber records; those marked ``number_valid: false`` are counted
    and the first few named, so a reader sees which lines will not match other sources.
    """
    bad = [n.number for n in numbers if n.attributes.get("number_valid") is False]
    if not bad:
        return ""
    named = ", ".join(repr(b) for b in bad[:_NAMED]) + (", …" if len(bad) > _NAMED else "")
    return (f"; {len(bad)} number{'s' if len(bad) != 1 else ''} kept as written, not "
            f"readable as telephone numbers ({named})")


#: Words that name one of the organisation's own lines rather than a person's: the
#: number the public rings, the fax, the lift and door-entry lines. Matched as whole words
#: in the line's label (or the owner column when it holds a label, not an address).
SERVICE_WORDS: tuple[str, ...] = (
    "reception", "switchboard", "main line", "main number", "fax", "emergency",
    "out of hours", "helpline", "helpdesk", "help desk", "enquiries", "contact centre",
    "call centre", "queue", "hunt group", "auto attendant", "door entry", "lift",
    "warden", "alarm", "repairs", "payments", "payment line",
)
_SERVICE = re.compile(r"\b(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+")
                                        for w in SERVICE_WORDS) + r")\b", re.IGNORECASE)


def is_service_line(kind: str | None, label: str | None, *, owned: bool = False) -> bool:
    """Whether a number is one of the organisation's own service lines (not a person's).

    ``kind: service`` (set in the export, or implied by an owner column that holds a label)
    says so; so does a label naming a service (:data:`SERVICE_WORDS`), even on a number
    a person holds (the reception desk's phone is the organisation's line). ``--redact``
    keeps these numbers and labels: they are published, and a report that hides the
    switchboard number hides which line it is talking about.
    """
    if kind == "service" and not owned:
        return True
    return bool(label and _SERVICE.search(label))
