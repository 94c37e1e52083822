"""Signing in with msal: client credentials (secret or certificate) or device code.

* **Client credentials** (unattended, the normal case): the app registration's secret,
  read from the environment variable the config names, or a certificate (PEM with key
  and certificate, or PFX) whose password comes from an environment variable too. The
  token carries the application permissions granted to the app in its ``roles`` claim.
* **Device code** (a person signs in on another device): for delegated access, e.g. a
  consultant without an app secret, or APIs that only allow delegated permissions. The
  token carries the consented scopes in ``scp``. Its refresh token is kept in an on-disk
  msal cache in the user's cache directory, created owner-read/write only (0600, set
  explicitly so the umask cannot widen it), so a scheduled re-run does not prompt again.

Secrets never leave this module except into msal: they are not logged, not part of any
repr, and error messages name the environment variable, never its value.

A 401 in the middle of a run (token revoked or expired early) is handled by
:meth:`TokenProvider.refresh`: the rejected token is dropped from msal's cache and a new
one acquired, once per rejected token.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from sprawl_audit.connectors.common.transport import Transport, TransportError
from sprawl_audit.connectors.interface import known_secret
from sprawl_audit.connectors.m365.clouds import Cloud
from sprawl_audit.core.jsontext import strict_document

log = logging.getLogger("sprawl_audit.connectors.m365.auth")

#: Refresh a cached token this long before msal's expiry, so a long page run never
#: starts with a token about to lapse.
EXPIRY_MARGIN = 300.0
_PEM_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----", re.DOTALL
)


class MsalHttpClient:
    """The http_client msal is given: sign-in goes through the same transport as every
    Graph call (msal's own requests session would let ``REQUESTS_CA_BUNDLE`` beat the
    configured ``ca_bundle``).

    msal leaves retries to a custom client ("it will be your http_client's duty to decide
    whether to perform retry"), and the transport's explicit ``verify`` keeps the
    configured CA bundle in force for sign-in too.
    """

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None,
             **kwargs: Any) -> requests.Response:
        return self.transport.request("POST", url, params=params, data=data,
                                      headers=headers, json_body=kwargs.get("json")).response

    def get(self, url: str, params: Any = None, headers: Any = None,
            **kwargs: Any) -> requests.Response:
        return self.transport.request("GET", url, params=params, headers=headers).response

    def close(self) -> None:  # msal calls this; the transport outlives one msal app
        return None


class AuthError(Exception):
    """Sign-in failed; the message is safe to print (no secret, no token)."""


class CertificateError(ValueError):
    """The certificate file could not be read (the caller turns it into a UserError)."""


@dataclass(frozen=True)
class Credentials:
    """How the app proves who it is. Secret material is excluded from repr."""

    kind: str  # "secret" | "certificate" | "device_code"
    description: str  # for `connectors check`: where the credential came from
    secret: str | None = field(default=None, repr=False)
    private_key_pem: str | None = field(default=None, repr=False)
    certificate_pem: str | None = None
    thumbprint: str = ""  # SHA-1, as the Entra admin centre shows it


def load_certificate(path: Path, password: str | None) -> tuple[str, str, str]:
    """(unencrypted PKCS#8 key PEM, certificate PEM, SHA-1 thumbprint) from a PEM or PFX.

    A PEM file must hold the private key and the certificate (in either order); a PFX
    (PKCS#12) holds both by construction. The decrypted key stays in memory only.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CertificateError(f"cannot read {path}: {exc.strerror or exc}") from None
    known_secret(password)
    pwd = password.encode() if password else None
    try:
        if b"-----BEGIN" in raw:
            blocks = {m.group(1).decode(): m.group(0) for m in _PEM_BLOCK.finditer(raw)}
            key_block = next((b for name, b in blocks.items() if "PRIVATE KEY" in name), None)
            if key_block is not None:  # the key as the file holds it (encrypted or not)
                known_secret(key_block.decode("ascii", "replace"))
            cert_block = blocks.get("CERTIFICATE")
            if key_block is None or cert_block is None:
                raise CertificateError(
                    f"{path}: a PEM file must contain both the private key and the "
                    "certificate (concatenate them, or use a PFX)")
            key = serialization.load_pem_private_key(key_block, password=pwd)
            cert = x509.load_pem_x509_certificate(cert_block)
        else:
            pkey, pcert, _extra = pkcs12.load_key_and_certificates(raw, pwd)
            if pkey is None or pcert is None:
                raise CertificateError(f"{path}: the PFX holds no private key and certificate")
            key, cert = pkey, pcert
    except CertificateError:
        raise
    except (ValueError, TypeError):
        raise CertificateError(
            f"{path}: not a readable PEM/PFX certificate, or the password (from "
            "certificate_password_env) is wrong or missing") from None
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    known_secret(key_pem)
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    thumb = cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - Entra's thumbprint
    return key_pem, cert_pem, thumb


def decode_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT access token, unverified (Graph verifies it; we only read it)."""
    parts = token.split(".")
    if len(parts) < 2:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:  # the payload's bytes are a UTF-8 JSON object, read as strictly as any answer
        data = strict_document(base64.urlsafe_b64decode(payload.encode()))
    except (ValueError, TypeError):  # bad base64 (binascii.Error), JsonTextError
        return {}
    return data if isinstance(data, dict) else {}


def granted_permissions(claims: dict[str, Any]) -> frozenset[str]:
    """Application roles (``roles``) plus delegated scopes (``scp``, space separated)."""
    roles = claims.get("roles") or []
    scopes = str(claims.get("scp") or "").split()
    return frozenset([str(r) for r in roles if isinstance(r, str)] + scopes)


# -- the on-disk token cache (device code only) ------------------------------------------
def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/sprawl-audit`` or ``~/.cache/sprawl-audit``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sprawl-audit"


def token_cache_path(authority: str, client_id: str) -> Path:
    key = hashlib.sha256(f"{authority.lower()}|{client_id.lower()}".encode()).hexdigest()[:16]
    return cache_dir() / f"msal-token-cache-{key}.json"


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable and writable by the owner only.

    The temporary file is created with ``os.open(..., 0o600)`` and then ``fchmod``-ed to
    0600, so neither a permissive umask nor an existing file's mode can widen access.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".msal-", suffix=".tmp", dir=str(path.parent))
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        os.chmod(path, 0o600)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_private_file(path: Path) -> str | None:
    """The cache's text, tightening its mode to 0600 first if someone widened it."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    if st.st_mode & 0o077:
        log.warning("token cache %s was readable by others; restricting it to the owner",
                    path)
        os.chmod(path, 0o600)
    return path.read_text(encoding="utf-8")


# -- the token provider -------------------------------------------------------------------
def _stderr_prompt(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class TokenProvider:
    """Gets (and re-gets) access tokens for Graph through msal; thread-safe."""

    def __init__(
        self,
        cloud: Cloud,
        tenant: str,
        client_id: str,
        credentials: Credentials,
        transport: Transport,
        *,
        delegated_scopes: Sequence[str] = (),
        cache_path: Path | None = None,
        prompt: Callable[[str], None] = _stderr_prompt,
    ) -> None:
        self.cloud = cloud
        self.tenant = tenant
        self.client_id = client_id
        self.credentials = credentials
        self.transport = transport
        self.authority = cloud.authority(tenant)
        self.delegated_scopes = [cloud.delegated_scope(s) for s in delegated_scopes]
        self.cache_path = cache_path or token_cache_path(self.authority, client_id)
        self.prompt = prompt
        self.acquired = 0  # how many tokens were obtained from the token endpoint/cache
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self._app: Any = None
        self._cache: Any = None

    # -- msal application ------------------------------------------------------------
    def _build(self) -> Any:
        import msal

        http = MsalHttpClient(self.transport)
        common: dict[str, Any] = {
            "authority": self.authority,
            "http_client": http,
            # Never ask login.microsoftonline.com to vouch for the authority: national
            # clouds and overrides are configured explicitly, and tests must stay local.
            "instance_discovery": False,
        }
        creds = self.credentials
        if creds.kind == "device_code":
            self._cache = msal.SerializableTokenCache()
            text = read_private_file(self.cache_path)
            if text:
                try:
                    self._cache.deserialize(text)
                except ValueError:
                    log.warning("token cache %s is unreadable; starting afresh",
                                self.cache_path)
            return msal.PublicClientApplication(self.client_id, token_cache=self._cache,
                                                **common)
        if creds.kind == "certificate":
            credential: Any = {"private_key": creds.private_key_pem,
                               "public_certificate": creds.certificate_pem}
        else:
            credential = creds.secret
        return msal.ConfidentialClientApplication(self.client_id, client_credential=credential,
                                                  **common)

    def _app_or_build(self) -> Any:
        if self._app is None:
            try:
                self._app = self._build()
            except TransportError as exc:
                raise AuthError(f"cannot reach the sign-in authority: {exc}") from None
            except ValueError as exc:  # msal: OIDC discovery failed (unknown tenant...)
                raise AuthError(f"sign-in authority refused the tenant: {_brief(exc)}") from None
        return self._app

    def _save_cache(self) -> None:
        if self._cache is not None and self._cache.has_state_changed:
            write_private_file(self.cache_path, self._cache.serialize())
            self._cache.has_state_changed = False

    # -- acquiring -------------------------------------------------------------------
    def _acquire(self, force: bool = False) -> dict[str, Any]:
        app = self._app_or_build()
        try:
            if self.credentials.kind == "device_code":
                return self._acquire_delegated(app, force)
            return dict(app.acquire_token_for_client(scopes=[self.cloud.graph_scope]) or {})
        except TransportError as exc:
            raise AuthError(f"cannot reach the sign-in authority: {exc}") from None

    def _acquire_delegated(self, app: Any, force: bool) -> dict[str, Any]:
        scopes = self.delegated_scopes or [self.cloud.delegated_scope("User.Read")]
        result: dict[str, Any] | None = None
        accounts = app.get_accounts()
        if accounts:
            result = app.acquire_token_silent(scopes, account=accounts[0], force_refresh=force)
        if not result:
            from sprawl_audit.core.logsetup import require_tty

            # a cached token failed or is absent: only a person at a terminal can sign in
            require_tty("Microsoft 365 device-code sign-in",
                        "use client credentials (a secret or certificate) for scheduled runs")
            flow = app.initiate_device_flow(scopes=scopes)
            if "user_code" not in flow:
                raise AuthError("device-code sign-in could not start: "
                                f"{_describe(flow)}")
            self.prompt(str(flow.get("message") or
                            f"To sign in, open {flow.get('verification_uri')} and enter "
                            f"the code {flow.get('user_code')}"))
            result = app.acquire_token_by_device_flow(flow)
        self._save_cache()
        return dict(result or {})

    def _store(self, result: dict[str, Any]) -> str:
        token = result.get("access_token")
        if not token:
            raise AuthError(f"sign-in failed: {_describe(result)}")
        self.acquired += 1
        expires_in = float(result.get("expires_in") or 3600)
        self._token = str(token)
        self._expires_at = time.monotonic() + max(60.0, expires_in - EXPIRY_MARGIN)
        return self._token

    def token(self) -> str:
        """A valid access token (cached until shortly before it expires)."""
        with self._lock:
            if self._token and time.monotonic() < self._expires_at:
                return self._token
            return self._store(self._acquire())

    def refresh(self, rejected: str) -> str:
        """A new token after Graph answered 401 to ``rejected``.

        If another thread already replaced the rejected token, that one is returned;
        otherwise the rejected token is removed from msal's cache (client credentials
        cannot force a refresh any other way) and a fresh one acquired.
        """
        with self._lock:
            if self._token and self._token != rejected:
                return self._token
            self._token = None
            app = self._app_or_build()
            if self.credentials.kind != "device_code":
                self._forget(app, rejected)
            return self._store(self._acquire(force=True))

    @staticmethod
    def _forget(app: Any, rejected: str) -> None:
        cache = app.token_cache
        kind = cache.CredentialType.ACCESS_TOKEN
        for item in list(cache.search(kind)):
            if item.get("secret") == rejected:
                cache.remove_at(item)

    def claims(self) -> dict[str, Any]:
        """The current token's claims (signing in first if needed)."""
        return decode_claims(self.token())


def _brief(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    # OIDC discovery errors quote the discovery URL and the response; keep the gist.
    return text[:240]


def _describe(result: dict[str, Any]) -> str:
    """``error: description`` of an msal error result, first line only, no secrets."""
    error = str(result.get("error") or "no access token returned")
    desc = str(result.get("error_description") or "").strip().splitlines()
    return f"{error}: {desc[0][:240]}" if desc else error
