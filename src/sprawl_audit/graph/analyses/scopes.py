"""What an app's granted scopes let it reach, across Microsoft, Google and Slack.

Scope names differ per vendor; rules want one vocabulary ("can it read mail?"). Each
class is a list of case-insensitive regular expressions over scope strings, matched in
full. Microsoft Graph delegated and application permission names, Google OAuth scope
URLs and Slack scopes are covered.
"""

from __future__ import annotations

import re
from functools import lru_cache

SCOPE_CLASSES: dict[str, tuple[str, ...]] = {
    "mail_access": (
        r"mail\..*", r"imap\.accessasuser\.all", r"pop\.accessasuser\.all", r"smtp\.send",
        r"ews\.accessasuser\.all", r"full_access_as_app", r"mailboxsettings\..*",
        r"https://mail\.google\.com/?", r"https://www\.googleapis\.com/auth/gmail\..*",
    ),
    "meeting_access": (
        r"calendars\..*", r"onlinemeetings?\..*", r"onlinemeetingtranscript\..*",
        r"onlinemeetingrecording\..*", r"onlinemeetingartifact\..*", r"callrecords?\..*",
        r"calls\..*", r"https://www\.googleapis\.com/auth/calendar(\..*)?",
        r"https://www\.googleapis\.com/auth/meetings\..*", r"calls:read", r"calls:write",
    ),
    "files_access": (
        r"files\..*", r"sites\..*", r"https://www\.googleapis\.com/auth/drive(\..*)?",
        r"files:read", r"files:write", r"remote_files:.*",
    ),
    "chat_access": (
        r"chat\..*", r"chatmessage\..*", r"channelmessage\..*", r"teamwork\..*",
        r"https://www\.googleapis\.com/auth/chat\..*", r"(channels|groups|im|mpim):history",
        r"chat:write.*",
    ),
    "directory_write": (
        r"directory\.readwrite\.all", r"directory\.accessasuser\.all", r"user\.readwrite\.all",
        r"group\.readwrite\.all", r"rolemanagement\.readwrite\..*",
        r"application\.readwrite\.all", r"approleassignment\.readwrite\.all",
        r"https://www\.googleapis\.com/auth/admin\.directory\..*(?<!readonly)", r"admin(\..*)?",
        r"users:write",
    ),
    "high_privilege": (
        r".*\.readwrite\.all", r"full_access_as_app", r"directory\..*", r"rolemanagement\..*",
        r"mail\.readwrite", r"mail\.send", r"sites\.fullcontrol\.all",
        r"https://mail\.google\.com/?", r"https://www\.googleapis\.com/auth/admin\..*",
        r"admin(\..*)?", r"https://www\.googleapis\.com/auth/drive",
    ),
}


@lru_cache(maxsize=1)
def _compiled() -> dict[str, re.Pattern[str]]:
    return {
        name: re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
        for name, patterns in SCOPE_CLASSES.items()
    }


@lru_cache(maxsize=65536)
def classify_scope(scope: str) -> frozenset[str]:
    """The access classes a single scope string grants."""
    s = scope.strip()
    return frozenset(name for name, rx in _compiled().items() if rx.fullmatch(s))


#: Delegated permissions that read everything of a kind the user can reach: the whole
#: mailbox (Mail.Read), every file and site shared with them (Files/Sites.Read.All),
#: all notebooks, contacts and chats. Each is modest in a session; with ``offline_access``
#: (a refresh token that outlives the session and a password reset) it is the set
#: consent-phishing apps ask for (Microsoft's illicit consent grant guidance), so together
#: they count as high privilege. The user's own files (Files.Read) or calendar are not
#: on the list: every note-taker and design tool asks for those.
BULK_READ: tuple[str, ...] = (
    r"mail\.read(\.shared)?", r"files\.read\.all", r"sites\.read\.all",
    r"notes\.read\.all", r"contacts\.read(\.shared)?", r"chat\.read(\.all)?",
    r"channelmessage\.read\.all",
)
_BULK = re.compile("|".join(f"(?:{p})" for p in BULK_READ), re.IGNORECASE)


def classify(scopes: list[str] | tuple[str, ...]) -> dict[str, bool]:
    """Each access class (``SCOPE_CLASSES``) the scopes grant, plus ``offline_bulk_read``:
    a bulk read permission held with ``offline_access``, which also makes the grant
    ``high_privilege``."""
    names = [s.strip() for s in scopes if isinstance(s, str)]
    hit: set[str] = set()
    for name in names:
        hit |= classify_scope(name)
    offline_bulk = any(n.lower() == "offline_access" for n in names) and \
        any(_BULK.fullmatch(n) for n in names)
    if offline_bulk:
        hit.add("high_privilege")
    return {**{name: name in hit for name in SCOPE_CLASSES}, "offline_bulk_read": offline_bulk}
