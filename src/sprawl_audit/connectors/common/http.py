"""Reading one HTTP answer safely: trust, an overall deadline, a size cap, bounded JSON.

* **Trust.** requests lets ``REQUESTS_CA_BUNDLE`` beat ``Session.verify`` (its
  ``merge_environment_settings`` keeps the session value only when the per-request
  ``verify`` is None or True), so a ``ca_bundle`` set in config would be silently ignored
  on machines that export the variable. :func:`resolve_verify` gives the value to pass as
  ``verify=`` on *every* request: the configured bundle, else the environment's, else
  True (certifi).
* **Deadline.** requests' timeout is per socket read: a server trickling one byte a
  second never trips it and holds a scheduled run for ever. :func:`read_body` reads the
  body as it arrives (at most one socket read per step) and stops at an overall deadline.
* **Size cap.** A 199 KiB gzip body can inflate to 200 MiB. The body is read compressed
  and inflated here in bounded steps, so the cap applies to the *decoded* size and the
  refusal happens before the memory is spent.
* **Bounded JSON.** A page nested 100,000 deep makes ``json.loads`` raise RecursionError
  (a traceback, not a coverage entry); :func:`loads` turns it into :class:`BodyError`.
"""

from __future__ import annotations

import os
import time
import zlib
from typing import Any

import requests
import urllib3

from sprawl_audit.core.jsontext import JsonTextError, strict_document

#: Overall seconds one request (connect, headers, body) may take by default.
DEFAULT_DEADLINE = 300.0
#: Largest decoded body accepted by default. Graph pages of 999 users are ~2 MiB.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
#: Only encodings we can inflate in bounded steps are offered to the server.
ACCEPT_ENCODING = "gzip, deflate"
CA_ENV_VARS: tuple[str, ...] = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")
_CHUNK = 64 * 1024


class BodyError(ValueError):
    """An answer refused: too slow, too large, or not decodable JSON. Safe to show."""


class DeadlineExceeded(BodyError):
    """The answer was still arriving at the request's overall deadline."""


class TooLarge(BodyError):
    """The decoded answer is larger than the cap."""


def resolve_verify(ca_bundle: str | None = None) -> str | bool:
    """What to pass as ``verify=``: the configured bundle, else the environment's, else True."""
    if ca_bundle:
        return ca_bundle
    for name in CA_ENV_VARS:
        value = os.environ.get(name)
        if value:
            return value
    return True


def _decoder(encoding: str) -> Any:
    enc = encoding.strip().lower()
    if enc in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if enc == "deflate":
        return zlib.decompressobj()
    if enc in ("", "identity"):
        return None
    raise BodyError(f"the answer uses a content encoding that is not supported ({enc[:40]})")


def read_body(response: requests.Response, *, deadline_at: float,
              max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a streamed response's body (``stream=True``), decoded, within the limits.

    ``deadline_at`` is a ``time.monotonic()`` value. The body is then cached on the
    response, so ``response.content`` and ``response.json()`` work as usual. Raises
    :class:`DeadlineExceeded` or :class:`TooLarge` (the connection is closed, not reused).
    """
    raw = response.raw
    encoding = response.headers.get("Content-Encoding", "")
    decoders = [_decoder(e) for e in reversed(encoding.split(","))] if encoding else []
    decoders = [d for d in decoders if d is not None]
    read = getattr(raw, "read1", None) or raw.read
    parts: list[bytes] = []
    size = 0
    try:
        while True:
            if time.monotonic() > deadline_at:
                raise DeadlineExceeded("the answer was still arriving at the request's "
                                       "deadline (a server sending very slowly)")
            chunk = read(_CHUNK, decode_content=False)
            if not chunk:
                break
            for decoder in decoders:
                chunk = _inflate(decoder, chunk, max_bytes - size)
            size += len(chunk)
            if size > max_bytes:
                raise TooLarge(f"the answer is larger than {max_bytes} bytes (decoded); "
                               "refused")
            parts.append(chunk)
        for decoder in decoders:  # a truncated stream leaves data in the decoder: fine
            tail = decoder.flush()
            size += len(tail)
            if size > max_bytes:
                raise TooLarge(f"the answer is larger than {max_bytes} bytes (decoded); "
                               "refused")
            parts.append(tail)
    except urllib3.exceptions.ProtocolError as exc:  # as requests' iter_content maps them
        response.close()
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    except urllib3.exceptions.ReadTimeoutError as exc:
        response.close()
        raise requests.exceptions.ConnectionError(exc) from None
    except urllib3.exceptions.SSLError as exc:
        response.close()
        raise requests.exceptions.SSLError(exc) from None
    except zlib.error as exc:
        response.close()
        raise requests.exceptions.ContentDecodingError(
            f"the answer's {encoding} body could not be decoded ({exc})") from None
    except BodyError:
        response.close()
        raise
    body = b"".join(parts)
    response._content = body  # requests caches .content here
    response._content_consumed = True  # type: ignore[attr-defined]
    # The body is decoded now; a later reader must not try to inflate it again.
    return body


def _inflate(decoder: Any, data: bytes, room: int) -> bytes:
    """Inflate ``data`` but never more than ``room + 1`` bytes at a time (a bomb stops
    at the cap, it is never expanded in full)."""
    out: bytes = decoder.decompress(data, max(1, room + 1))
    if len(out) > room:
        return out
    pieces = [out]
    got = len(out)
    while decoder.unconsumed_tail and got <= room:
        more = decoder.decompress(decoder.unconsumed_tail, max(1, room + 1 - got))
        if not more:
            break
        pieces.append(more)
        got += len(more)
    return b"".join(pieces)


def loads(body: bytes | str) -> Any:
    """An answer as strict JSON (:func:`sprawl_audit.core.jsontext.strict_document`).

    Nesting deeper than the interpreter can parse is a :class:`BodyError` (not retried:
    the server will send it again); anything else refused is a ValueError, which the
    transport treats as a malformed (truncated) answer.
    """
    try:
        return strict_document(body)
    except JsonTextError as exc:
        if exc.kind == "depth":
            raise BodyError("the answer's JSON is nested too deeply to read; refused") \
                from None
        raise


def remaining(deadline_at: float, timeout: float | tuple[float, float]
              ) -> float | tuple[float, float]:
    """The per-read timeout, shortened so no single socket wait outlasts the deadline."""
    left = max(0.001, deadline_at - time.monotonic())
    if isinstance(timeout, tuple):
        return (min(timeout[0], left), min(timeout[1], left))
    return min(timeout, left)
