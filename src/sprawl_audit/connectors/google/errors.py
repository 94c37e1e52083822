"""What a Google error answer means: the Coverage status of a call that failed for good,
and which refusals only mean "slow down".

Google answers rate limits two ways: 429, and 403 with a reason such as
``rateLimitExceeded`` or ``userRateLimitExceeded`` (the Directory and Reports APIs'
limits page). The second kind is retried like the first (:func:`rate_limited`, handed
to the shared transport); every other 403 is a missing scope or privilege, reported as
``forbidden`` naming the scope.
"""

from __future__ import annotations

from collections.abc import Mapping

from sprawl_audit.connectors.google.auth import clean
from sprawl_audit.connectors.google.scopes import Feed, short
from sprawl_audit.core.jsontext import JsonTextError, strict_document

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: 403 reasons that mean "slow down", not "not allowed" (Directory/Reports API limits page).
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded",
                          "RATE_LIMIT_EXCEEDED", "backendError"})
#: API titles for messages, by the connector's API key.
TITLES = {"directory": "Admin SDK Directory API", "reports": "Admin SDK Reports API",
          "chat": "Google Chat API", "gmail": "Gmail API",
          "licensing": "Enterprise License Manager API",
          "policy": "Cloud Identity Policy API"}


# -- failures -----------------------------------------------------------------------------------
class ApiFailure(Exception):
    """A call that failed for good; ``status`` is the Coverage status it maps to."""

    def __init__(self, status: str, detail: str, http_status: int = 0, message: str = "") -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.http_status = http_status
        self.message = message


def error_info(content: bytes | str | None) -> tuple[str, str, set[str]]:
    """(message, status, reasons) from a Google error body (any of its two shapes)."""
    try:
        body = strict_document(content or b"{}")
    except JsonTextError:
        return "", "", set()
    err = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(err, str):  # OAuth-style {"error": "...", "error_description": "..."}
        return str(body.get("error_description") or err), "", {err}
    if not isinstance(err, Mapping):
        return "", "", set()
    reasons: set[str] = set()
    for e in err.get("errors") or ():
        if isinstance(e, Mapping) and isinstance(e.get("reason"), str):
            reasons.add(e["reason"])
    for d in err.get("details") or ():
        if isinstance(d, Mapping) and isinstance(d.get("reason"), str):
            reasons.add(d["reason"])
    return str(err.get("message") or ""), str(err.get("status") or ""), reasons


_UNAVAILABLE_WORDS = ("not available", "not enabled", "edition", "not supported",
                      "not licensed", "upgrade")


def classify(status: int, content: bytes | str | None, feed: Feed | None,
             attempts: int = 0) -> ApiFailure:
    """What a final HTTP error means for the topic (see the module notes)."""
    message, gstatus, reasons = error_info(content)
    msg = clean(message, 200)
    scope = short(feed.scope) if feed else "the scope"
    call = feed.call if feed else "the call"
    api = TITLES.get(feed.api, "the API") if feed else "the API"
    if status == 401:
        return ApiFailure("error", "Google refused the access token even after a fresh "
                                   "sign-in (HTTP 401)", status, msg)
    if status == 403:
        if reasons & {"SERVICE_DISABLED", "accessNotConfigured"}:
            return ApiFailure("unavailable", (
                f"the {api} is not enabled in the Google Cloud project of the credentials: "
                "enable it under APIs & Services"), status, msg)
        if reasons & {"ACCESS_TOKEN_SCOPE_INSUFFICIENT", "insufficientPermissions"}:
            return ApiFailure("forbidden", (
                f"the token lacks {scope}: delegate it (service account) or allow it at "
                "sign-in"), status, msg)
        if reasons & RATE_REASONS:
            return ApiFailure("error", f"rate limited after {attempts} attempts: {msg}",
                              status, msg)
        return ApiFailure("forbidden", (
            f"{call} was refused ({msg or 'HTTP 403'}): it needs {scope} and an admin "
            "account whose role has that privilege"), status, msg)
    if status == 404 and "chat app" in message.lower():
        return ApiFailure("unavailable", (
            "the Google Chat API needs a Chat app configured in the Cloud project (Google "
            "Chat API > Configuration) before an administrator can use it"), status, msg)
    if status in (400, 412) and (
            gstatus == "FAILED_PRECONDITION" or reasons & {"failedPrecondition",
                                                           "conditionNotMet"}
            or any(w in message.lower() for w in _UNAVAILABLE_WORDS)):
        return ApiFailure("unavailable", f"not available to this organisation: "
                                         f"{msg or 'HTTP ' + str(status)}", status, msg)
    if status in RETRY_STATUSES:
        return ApiFailure("error", f"HTTP {status} after {attempts} attempts"
                                   + (f": {msg}" if msg else ""), status, msg)
    return ApiFailure("error", f"HTTP {status}" + (f": {msg}" if msg else ""), status, msg)


def is_retryable(status: int, content: bytes | str | None) -> bool:
    """429/5xx, or a 403 whose reason is a rate limit (a batch part is judged by it)."""
    return status in RETRY_STATUSES or rate_limited(status, content)


def rate_limited(status: int, content: bytes | str | None) -> bool:
    """A 403 that only says "slow down" (Google's rate-limit reasons)."""
    return status == 403 and bool(error_info(content)[2] & RATE_REASONS)
