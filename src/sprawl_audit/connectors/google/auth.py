"""Signing in to Google: service account with domain-wide delegation, or installed app.

Two credential sources behind one question — "a token for this scope (as this user)":

* :class:`ServiceAccountAuth` — a service-account key with domain-wide delegation,
  impersonating ``admin_subject`` (and, for the Gmail feed only, each mailbox owner). The
  key's own ``token_uri`` is used, so a test or a private endpoint is just another key
  file. One token per scope: Google refuses a delegated token for a scope set that holds
  any scope the admin did not delegate, so asking per scope confines a missing scope to
  the one feed that needs it (and lets ``connectors check`` say which are granted).
* :class:`InstalledAppAuth` — an OAuth client of type "Desktop app"; an administrator
  signs in once in a browser (loopback redirect with PKCE), and the refresh token is
  cached owner-only at ``$XDG_CACHE_HOME/sprawl-audit`` (or ``~/.cache/sprawl-audit``),
  written through ``os.open(..., 0o600)`` so it is never readable by others, not even for
  an instant. With no usable cache and stdin not a terminal (cron, CI), it fails with a
  :class:`UserError` instead of waiting for a browser nobody will open.

Token traffic goes through :class:`TokenHttp`, google-auth's transport interface over
the shared :class:`~sprawl_audit.connectors.common.transport.Transport` — the one the API
calls use: ``verify=`` on every request (``ca_bundle`` beats ``REQUESTS_CA_BUNDLE``),
429/5xx and connection failures retried with jitter, an overall deadline and a size cap
(a token answer is a few hundred bytes). It replaced a third hand-written retry loop.

Secrets — the key file, access and refresh tokens, the client secret — are never put in a
message, a Coverage detail or a log line: failures are reported by OAuth error code and
Google's description only, exceptions are raised ``from None`` so no chained traceback
carries a request body, and :func:`protect_logs` redacts every secret the process has
seen from the loggers of google-auth, googleapiclient, httplib2, urllib3 and this
package.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import logging
import os
import secrets
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from google.auth import exceptions as gexc
from google.auth import transport as gtransport
from google.auth.credentials import Credentials as GoogleCredentials

from sprawl_audit.connectors.common.retry import Clock
from sprawl_audit.connectors.common.secrets import register as register_secret
from sprawl_audit.connectors.common.settings import HttpSettings
from sprawl_audit.connectors.common.transport import (
    Transport,
    TransportError,
    TransportStats,
    TrustError,
)
from sprawl_audit.connectors.google.scopes import short
from sprawl_audit.connectors.interface import known_secret
from sprawl_audit.core.errors import UserError
from sprawl_audit.core.jsontext import JsonTextError, strict_document

log = logging.getLogger("sprawl_audit.connectors.google")

SIGN_IN_TIMEOUT = 300.0


# -- secrets hygiene ----------------------------------------------------------------------------
class _Secrets:
    """Every secret string this process has handled, for log redaction.

    Each value also goes into the one registry (:mod:`sprawl_audit.connectors.common.secrets`)
    that output scrubbing reads: an access token a service echoes into a finding or a
    coverage detail must be blanked there too, not only in Google's own log filter.
    """

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        register_secret(*values)
        with self._lock:
            for v in values:
                if isinstance(v, str) and len(v) >= 8:
                    self._values.add(v)
                    # A PEM key also leaks line by line; register its body lines too.
                    if "\n" in v:
                        self._values.update(line for line in v.splitlines() if len(line) >= 16)

    def redact(self, message: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for v in values:
            if v in message:
                message = message.replace(v, "[redacted]")
        return message


SECRETS = _Secrets()
_LOGGER_PREFIXES = ("google", "googleapiclient", "httplib2", "urllib3", "requests",
                    "sprawl_audit")


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep our hands off it
            return True
        cleaned = SECRETS.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        # google-auth attaches request/response dumps as "extra" fields.
        for key in ("httpRequest", "httpResponse"):
            record.__dict__.pop(key, None)
        return True


_FILTER = _RedactingFilter()


def protect_logs() -> None:
    """Attach the redacting filter to every logger that could see a secret (idempotent)."""
    names = [n for n in list(logging.root.manager.loggerDict)
             if n.split(".")[0] in _LOGGER_PREFIXES]
    for name in {*names, *_LOGGER_PREFIXES, "google.auth.transport.requests",
                 "google.oauth2._client", "googleapiclient.http", "googleapiclient.discovery"}:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def clean(text: Any, limit: int = 240) -> str:
    """``text`` on one printable line, every known secret blanked, at most ``limit`` long."""
    s = "".join(ch if ch.isprintable() else " " for ch in str(text))
    s = SECRETS.redact(" ".join(s.split()))
    return s if len(s) <= limit else s[: limit - 1] + "…"


# -- failures -----------------------------------------------------------------------------------
class AuthFailure(Exception):
    """Google would not issue a token; ``status`` is the Coverage status it maps to."""

    def __init__(self, status: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def refresh_failure(exc: BaseException, scopes: Iterable[str], kind: str) -> AuthFailure:
    """Turn a google-auth RefreshError into a Coverage-ready failure, secrets left out."""
    data = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], Mapping) else {}
    code = str(data.get("error") or "").strip()
    desc = clean(data.get("error_description") or "", 160)
    names = ", ".join(short(s) for s in scopes)
    if not code:
        first = str(exc.args[0]) if exc.args else ""
        code = first.split(":", 1)[0].strip() if ":" in first else "refused"
    if code in ("unauthorized_client", "access_denied"):
        if kind == "service_account":
            return AuthFailure("forbidden", (
                f"domain-wide delegation does not grant {names} to this service account "
                "(Admin console > Security > Access and data control > API controls > "
                "Manage domain-wide delegation)"))
        return AuthFailure("forbidden", f"the sign-in did not grant {names}")
    if code == "invalid_grant":
        if kind == "service_account":
            return AuthFailure("error", (
                f"token refused (invalid_grant{': ' + desc if desc else ''}); check that "
                "admin_subject is an active administrator's primary address and that the "
                "machine's clock is right"))
        return AuthFailure("error", (
            "the cached Google sign-in was revoked or has expired; run `sprawl-audit "
            "connectors check google` in a terminal to sign in again"))
    if code == "invalid_client":
        return AuthFailure("error", "the service-account key or OAuth client is not "
                                    "recognised by Google (deleted or disabled?)")
    return AuthFailure("error", f"sign-in failed: {clean(code, 60)}"
                                + (f" ({desc})" if desc else ""))


# -- transport for the token endpoint -----------------------------------------------------------
#: A token answer is a few hundred bytes; anything near this is not one.
TOKEN_MAX_BYTES = 1024 * 1024
#: Sign-in must not stall a run for long: a longer Retry-After is cut to this.
TOKEN_MAX_RETRY_AFTER = 60.0


class _TokenResponse(gtransport.Response):
    """A finished answer as google-auth reads it."""

    def __init__(self, response: requests.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return int(self._response.status_code)

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def data(self) -> bytes:
        return self._response.content


class TokenHttp(gtransport.Request):
    """google-auth's transport interface over the shared transport (see the module notes).

    google-auth hands a token request here (its ``timeout`` is ignored: the transport's
    timeout and deadline apply); a request that fails for good becomes google-auth's
    TransportError carrying the transport's message, which names no secret.
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @property
    def stats(self) -> TransportStats:
        return self.transport.stats

    def __call__(self, url: str, method: str = "GET", body: Any = None,
                 headers: Mapping[str, str] | None = None, timeout: Any = None,
                 **kwargs: Any) -> _TokenResponse:
        try:
            reply = self.transport.request(method, url, headers=headers, data=body)
        except TransportError as exc:  # the cause says whether trust was the problem
            raise gexc.TransportError(str(exc)) from exc
        return _TokenResponse(reply.response)

    def post(self, url: str, form: Mapping[str, str]) -> requests.Response:
        """A form POST (the installed app's code exchange); TransportError on failure."""
        return self.transport.request("POST", url, data=dict(form)).response


def token_transport(http: HttpSettings, clock: Clock | None = None) -> TokenHttp:
    """The token endpoint's transport, built from the connector's HTTP settings."""
    return TokenHttp(Transport(
        verify=http.verify, timeout=(min(10.0, http.timeout), http.timeout),
        policy=replace(http.retry_policy(), max_retry_after=TOKEN_MAX_RETRY_AFTER),
        clock=clock, deadline=http.request_deadline,
        max_bytes=min(http.max_bytes, TOKEN_MAX_BYTES)))


# -- credentials --------------------------------------------------------------------------------
class ManagedCredentials(GoogleCredentials):
    """A google-auth credential whose refresh always goes through our :class:`TokenHttp`.

    googleapiclient refreshes credentials itself in two places (before a batch, and once per
    credential when batch parts came back 401) with a plain ``httplib2.Http()`` that
    ignores the configured CA bundle; this wrapper ignores the transport it is handed and
    uses the trusted one. Refreshes are serialised per credential.
    """

    def __init__(self, inner: Any, session: TokenHttp, scopes: tuple[str, ...],
                 kind: str, subject: str | None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # google-auth leaves it unannotated
        self._inner = inner
        self._request = session
        self._lock = threading.Lock()
        self.scopes = scopes
        self.kind = kind
        self.subject = subject

    def __repr__(self) -> str:  # never show a token
        return f"<ManagedCredentials {', '.join(short(s) for s in self.scopes)}>"

    def _refresh_locked(self) -> None:
        try:
            self._inner.refresh(self._request)
        except gexc.RefreshError as exc:
            raise refresh_failure(exc, self.scopes, self.kind) from None
        except gexc.TransportError as exc:
            if isinstance(exc.__cause__, TrustError):
                raise AuthFailure("error", (
                    "the token endpoint's TLS certificate is not trusted: set ca_bundle to "
                    "your proxy's CA bundle")) from None
            # The shared transport's message: method, host and path, and what went wrong
            # (no query, no header, no body).
            raise AuthFailure("error", f"cannot reach the token endpoint: "
                                       f"{clean(exc, 200)}") from None
        self.token = self._inner.token
        self.expiry = self._inner.expiry
        SECRETS.add(self.token)

    def refresh(self, request: Any) -> None:  # the given transport is ignored on purpose
        with self._lock:
            self._refresh_locked()

    def ensure(self) -> str:
        """A valid access token (refreshing first if needed)."""
        with self._lock:
            if not self.valid:
                self._refresh_locked()
            return str(self.token)

    def refresh_if_stale(self, seen: str | None) -> None:
        """After a 401: refresh unless another thread already replaced ``seen``."""
        with self._lock:
            if self.token is None or self.token == seen:
                self._refresh_locked()


class ServiceAccountAuth:
    """Domain-wide delegation: one cached credential per (scopes, subject)."""

    kind = "service_account"
    per_user = True

    def __init__(self, key_file: Path, subject: str, session: TokenHttp, *,
                 settings: Any = None, key: str = "service_account_file") -> None:
        self.subject = subject
        self.session = session
        # Parsing the key validates it (tens of ms); it is done once, and every scoped or
        # impersonating credential below shares the same signer.
        self._base = load_service_account(key_file, settings, key)
        self._cache: dict[tuple[tuple[str, ...], str], ManagedCredentials] = {}
        self._lock = threading.Lock()

    def credentials(self, scopes: tuple[str, ...], subject: str | None = None
                    ) -> ManagedCredentials:
        who = subject or self.subject
        key = (scopes, who)
        with self._lock:
            creds = self._cache.get(key)
            if creds is None:
                inner = self._base.with_scopes(list(scopes)).with_subject(who)
                creds = ManagedCredentials(inner, self.session, scopes, self.kind, who)
                self._cache[key] = creds
            return creds

    def check(self, scope: str) -> tuple[bool | None, str]:
        """Is ``scope`` delegated? Asks the token endpoint for a token with just it."""
        try:
            self.credentials((scope,)).ensure()
        except AuthFailure as exc:
            if exc.status == "forbidden":
                return False, "not delegated to this service account's client id"
            return None, exc.detail
        return True, ""


def _json_file(path: Path, settings: Any, key: str, what: str, not_json: str) -> Any:
    """The JSON document in a file a setting names (a key or OAuth client file), read
    strictly (:func:`sprawl_audit.core.jsontext.strict_document`: UTF-8, no duplicate
    keys); a UserError naming the setting, the file and where it breaks otherwise. The
    raw text is dropped at once: it may hold a private key, and no message quotes it."""
    from sprawl_audit.connectors.common.settings import fail

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise fail(settings, key, f"cannot read {what} {str(path)!r} "
                                  f"({exc.strerror or type(exc).__name__})",
                   "connectors.google") from None
    try:
        return strict_document(raw)
    except JsonTextError as exc:
        where = f", line {exc.line}" if exc.line else ""
        raise fail(settings, key, f"{str(path)!r} {not_json} ({exc.reason}{where})",
                   "connectors.google") from None
    finally:
        del raw


def load_service_account(path: Path, settings: Any = None,
                         key: str = "service_account_file") -> Any:
    """The key file as an (unscoped) service-account credential; UserError when unusable."""
    from sprawl_audit.connectors.common.settings import fail

    prefix = "connectors.google"
    info = _json_file(path, settings, key, "the service-account key", "is not a JSON key file")
    needed = ("client_email", "private_key", "token_uri")
    if not isinstance(info, dict) or info.get("type") != "service_account" or \
            not all(isinstance(info.get(k), str) and info.get(k) for k in needed):
        raise fail(settings, key, f"{str(path)!r} is not a service-account key (expected "
                                  "type service_account with client_email, private_key "
                                  "and token_uri)", prefix)
    SECRETS.add(info.get("private_key"), info.get("private_key_id"))
    for value in (info.get("private_key"), info.get("private_key_id")):
        known_secret(value if isinstance(value, str) else None)
    try:
        from google.oauth2 import service_account

        return service_account.Credentials.from_service_account_info(info)
    except (ValueError, TypeError):
        raise fail(settings, key, f"the private key in {str(path)!r} cannot be read",
                   prefix) from None
    finally:
        del info


# -- installed app (Desktop OAuth client) -------------------------------------------------------
def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sprawl-audit"


def write_private(path: Path, data: Mapping[str, Any]) -> None:
    """Write JSON readable by the owner only: the file is created 0600 (os.open), never
    first world-readable then narrowed; the directory is 0700."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.chmod(path.parent, 0o700)
    except OSError:
        pass
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(dict(data), fh)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


@dataclass
class InstalledClient:
    client_id: str
    client_secret: str
    auth_uri: str
    token_uri: str


def load_installed_client(path: Path, settings: Any = None,
                          key: str = "oauth_client_file") -> InstalledClient:
    from sprawl_audit.connectors.common.settings import fail

    prefix = "connectors.google"
    info = _json_file(path, settings, key, "the OAuth client file", "is not JSON")
    inst = info.get("installed") if isinstance(info, dict) else None
    if not isinstance(inst, dict) or not all(isinstance(inst.get(k), str) and inst.get(k)
                                             for k in ("client_id", "auth_uri", "token_uri")):
        raise fail(settings, key, f"{str(path)!r} is not a Desktop-app OAuth client (expected "
                                  "an 'installed' section with client_id, auth_uri and "
                                  "token_uri)", prefix)
    raw_secret = inst.get("client_secret")
    secret = raw_secret if isinstance(raw_secret, str) else ""
    SECRETS.add(secret)
    known_secret(secret)
    return InstalledClient(inst["client_id"], secret, inst["auth_uri"], inst["token_uri"])


class _CodeCatcher(http.server.BaseHTTPRequestHandler):
    result: dict[str, str]

    def do_GET(self) -> None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        if "code" in query or "error" in query:
            self.server.result = query  # type: ignore[attr-defined]
        body = b"Signed in. You can close this tab and return to sprawl-audit.\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        return


class InstalledAppAuth:
    """One administrator's OAuth sign-in, reused for every scope it granted."""

    kind = "oauth"
    per_user = False

    def __init__(self, client_file: Path, session: TokenHttp, *, settings: Any = None,
                 login_hint: str | None = None, cache: Path | None = None,
                 is_tty: Callable[[], bool] | None = None,
                 open_browser: Callable[[str], Any] | None = None,
                 announce: Callable[[str], None] | None = None) -> None:
        self.client = load_installed_client(client_file, settings)
        self.session = session
        self.login_hint = login_hint
        digest = hashlib.sha256(self.client.client_id.encode()).hexdigest()[:16]
        self.cache_path = (cache or cache_dir()) / f"google-{digest}.json"
        self._is_tty = is_tty or (lambda: sys.stdin is not None and sys.stdin.isatty())
        self._open = open_browser or webbrowser.open
        self._announce = announce or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self._creds: ManagedCredentials | None = None
        self.granted: set[str] = set()
        self._lock = threading.Lock()

    # the cache ------------------------------------------------------------------------------------
    def _read_cache(self) -> dict[str, Any] | None:
        try:
            data = strict_document(self.cache_path.read_bytes())
        except (OSError, JsonTextError):  # unreadable or damaged: sign in again
            return None
        if not isinstance(data, dict) or data.get("client_id") != self.client.client_id or \
                not isinstance(data.get("refresh_token"), str):
            return None
        SECRETS.add(data["refresh_token"])
        known_secret(data["refresh_token"])  # read from a file: no variable name to go by
        return data

    def sign_in(self, wanted: Iterable[str]) -> None:
        """Use the cached sign-in when it asked for every wanted scope; otherwise sign in
        in the browser — only if stdin is a terminal."""
        wanted_set = set(wanted)
        with self._lock:
            cached = self._read_cache()
            if cached and wanted_set <= set(cached.get("requested") or ()):
                self._use(cached)
                return
            if not self._is_tty():
                if cached:  # asked for fewer scopes: use it; feeds it lacks are forbidden
                    self._use(cached)
                    return
                raise UserError(
                    "Google sign-in needed and stdin is not a terminal: run `sprawl-audit "
                    "connectors check google` once in a terminal to sign in (the token is "
                    f"cached in {self.cache_path.parent}), or use service_account_file",
                    key="connectors.google.oauth_client_file")
            data = self._browser_sign_in(sorted(wanted_set | set(cached.get("requested")
                                                                   or ()) if cached
                                                else wanted_set))
            write_private(self.cache_path, data)
            self._use(data)

    def _use(self, data: Mapping[str, Any]) -> None:
        from google.oauth2.credentials import Credentials

        self.granted = set(data.get("granted") or ())
        inner = Credentials(
            None, refresh_token=data["refresh_token"], token_uri=self.client.token_uri,
            client_id=self.client.client_id, client_secret=self.client.client_secret or None)
        self._creds = ManagedCredentials(inner, self.session, tuple(sorted(self.granted)),
                                         self.kind, None)

    def _browser_sign_in(self, scopes: list[str]) -> dict[str, Any]:
        verifier = secrets.token_urlsafe(64)
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(16)
        server = http.server.HTTPServer(("127.0.0.1", 0), _CodeCatcher)
        server.result = {}  # type: ignore[attr-defined]
        server.timeout = 1.0
        redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/"
        query = {
            "response_type": "code", "client_id": self.client.client_id,
            "redirect_uri": redirect_uri, "scope": " ".join(scopes), "state": state,
            "code_challenge": challenge, "code_challenge_method": "S256",
            "access_type": "offline", "prompt": "consent", "include_granted_scopes": "true",
        }
        if self.login_hint:
            query["login_hint"] = self.login_hint
        url = f"{self.client.auth_uri}?{urlencode(query)}"
        self._announce(f"Sign in to Google as a Workspace administrator in your browser:\n"
                       f"  {url}\n(waiting up to {int(SIGN_IN_TIMEOUT)} s)")
        try:
            threading.Thread(target=self._open, args=(url,), daemon=True).start()
            deadline = time.monotonic() + SIGN_IN_TIMEOUT
            while not server.result and time.monotonic() < deadline:  # type: ignore[attr-defined]
                server.handle_request()
            result: dict[str, str] = server.result  # type: ignore[attr-defined]
        finally:
            server.server_close()
        if not result:
            raise UserError("Google sign-in timed out", key="connectors.google.oauth_client_file")
        if result.get("state") != state:
            raise UserError("Google sign-in answered with the wrong state; try again",
                            key="connectors.google.oauth_client_file")
        if "error" in result:
            raise UserError(f"Google sign-in failed: {clean(result['error'], 60)}",
                            key="connectors.google.oauth_client_file")
        form = {
            "grant_type": "authorization_code", "code": result["code"],
            "redirect_uri": redirect_uri, "client_id": self.client.client_id,
            "code_verifier": verifier,
        }
        if self.client.client_secret:
            form["client_secret"] = self.client.client_secret
        try:
            response = self.session.post(self.client.token_uri, form)
        except TransportError as exc:
            raise UserError(f"cannot reach Google's token endpoint: {clean(exc, 200)}",
                            key="connectors.google.oauth_client_file") from None
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if response.status_code != 200 or not isinstance(payload.get("refresh_token"), str):
            code = clean(payload.get("error") or f"HTTP {response.status_code}", 60)
            raise UserError(f"Google sign-in failed at the token endpoint: {code}",
                            key="connectors.google.oauth_client_file")
        SECRETS.add(payload.get("refresh_token"), payload.get("access_token"))
        granted = str(payload.get("scope") or " ".join(scopes)).split()
        return {"client_id": self.client.client_id, "refresh_token": payload["refresh_token"],
                "requested": scopes, "granted": granted}

    # the credential source interface --------------------------------------------------------------
    def credentials(self, scopes: tuple[str, ...], subject: str | None = None
                    ) -> ManagedCredentials:
        if subject is not None:
            raise AuthFailure("unavailable", (
                "reading other users' mailboxes needs a service account with domain-wide "
                "delegation (an administrator's own sign-in cannot impersonate users)"))
        if self._creds is None:
            raise AuthFailure("error", "not signed in")
        missing = [s for s in scopes if s not in self.granted]
        if missing:
            raise AuthFailure("forbidden", (
                f"the sign-in did not grant {', '.join(short(s) for s in missing)}: sign in "
                "again (`sprawl-audit connectors check google` in a terminal) and allow it"))
        return self._creds

    def check(self, scope: str) -> tuple[bool | None, str]:
        if scope not in self.granted:
            return False, "not granted at sign-in"
        try:
            self.credentials((scope,)).ensure()
        except AuthFailure as exc:
            return None, exc.detail
        return True, ""
