"""A small threaded HTTP(S) server on 127.0.0.1 that fakes can build routes on.

Why hand-rolled on ``http.server``: the fakes must behave like the real services at the
byte level (status codes, Retry-After, redirects, truncated bodies, slow answers) and
be driven from tests synchronously; a thread per request on loopback does that with no
dependency beyond trustme for certificates.

Faults are queued per route pattern and consumed in order, so a test says exactly
"the second page answers 429 once" and nothing else changes. Latency and a token-bucket
rate limit model a real service for benchmarks.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """One request as the fake saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    raw_path: str = ""  # the path as sent, before a gateway prefix was stripped

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Response:
    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        body = self.body
        if isinstance(body, (bytes, bytearray)):
            data = bytes(body)
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        return data, headers


@dataclass
class Fault:
    """What to do instead of answering normally, once.

    kind: ``status`` (answer ``status`` with ``body``/``headers``), ``truncate`` (send the
    real answer cut to ``keep`` bytes with the full Content-Length, then close),
    ``delay`` (sleep ``seconds`` then answer normally — a client timeout below that
    sees a timeout), ``reset`` (close the connection with no answer), ``trickle`` (send
    the real answer's headers, then its body one byte every ``seconds`` — each socket
    read succeeds, so only an overall deadline stops the client).
    """

    kind: str = "status"
    status: int = 500
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    keep: int = 20
    seconds: float = 0.0


Handler = Callable[[Request], Response]


class FakeServer:
    """Routes, a request log, queued faults, latency and a rate limit."""

    def __init__(self, *, tls: Any | None = None, latency: float = 0.0,
                 rate_per_second: float | None = None, retry_after: int = 1) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.faults: dict[str, deque[Fault]] = {}
        self.log: list[Request] = []
        self.latency = latency
        self.rate = rate_per_second
        self.retry_after = retry_after
        self.throttled = 0
        self._bucket = float(rate_per_second or 0)
        self._bucket_at = time.monotonic()
        self._lock = threading.Lock()
        self._tls = tls
        # A gateway publishing the API under a prefix: requests under it are routed as
        # if the prefix were not there (``/graph/v1.0/users`` -> ``/v1.0/users``).
        self.path_prefix = ""
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- configuration ------------------------------------------------------------
    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Register ``handler`` for ``method`` and a full-match regex over the path."""

        def deco(handler: Handler) -> Handler:
            self.routes.append((method.upper(), re.compile(pattern), handler))
            return handler

        return deco

    def add_fault(self, pattern: str, fault: Fault, times: int = 1) -> None:
        """Queue ``fault`` for the next ``times`` requests whose path matches ``pattern``."""
        with self._lock:
            self.faults.setdefault(pattern, deque()).extend([fault] * times)

    def requests_to(self, pattern: str) -> list[Request]:
        rx = re.compile(pattern)
        return [r for r in self.log if rx.search(r.path)]

    # -- lifecycle ----------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> FakeServer:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # answer at once: Nagle + delayed ACK would add ~40 ms to every response
            disable_nagle_algorithm = True

            def log_message(self, *_args: Any) -> None:  # keep test output clean
                return

            def _handle(self) -> None:
                fake._dispatch(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        if self._tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._tls.configure_cert(ctx)
            server.socket = ctx.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- request handling -----------------------------------------------------------
    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for pattern, queue in self.faults.items():
                if queue and re.search(pattern, path):
                    return queue.popleft()
        return None

    def _rate_limited(self) -> bool:
        if not self.rate:
            return False
        with self._lock:
            now = time.monotonic()
            self._bucket = min(self.rate, self._bucket + (now - self._bucket_at) * self.rate)
            self._bucket_at = now
            if self._bucket >= 1:
                self._bucket -= 1
                return False
            self.throttled += 1
            return True

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        path = split.path
        if self.path_prefix and path.startswith(self.path_prefix + "/"):
            path = path[len(self.path_prefix):]
        req = Request(h.command, path, parse_qs(split.query, keep_blank_values=True),
                      {k.lower(): v for k, v in h.headers.items()}, body, split.path)
        with self._lock:
            self.log.append(req)
        if self.latency:
            time.sleep(self.latency)
        if self._rate_limited():
            self._send(h, Response(429, {"error": {"code": "TooManyRequests"}},
                                   {"Retry-After": str(self.retry_after)}))
            return
        fault = self._take_fault(path)
        if fault is not None and fault.kind == "status":
            self._send(h, Response(fault.status, fault.body, dict(fault.headers)))
            return
        if fault is not None and fault.kind == "reset":
            h.close_connection = True
            try:
                h.connection.shutdown(2)
            except OSError:
                pass
            return
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)
        response = self._answer(req)
        if fault is not None and fault.kind == "trickle":
            self._trickle(h, response, fault.seconds)
            return
        if fault is not None and fault.kind == "truncate":
            data, headers = response.encoded()
            self._send_raw(h, response.status, data[: fault.keep], headers, length=len(data))
            h.close_connection = True
            return
        self._send(h, response)

    def _answer(self, req: Request) -> Response:
        for method, rx, handler in self.routes:
            if method == req.method and rx.fullmatch(req.path):
                try:
                    return handler(req)
                except Exception as exc:  # a fake bug must show, not hang the client
                    return Response(599, {"fake_error": repr(exc)})
        return Response(404, {"error": {"code": "NotFound", "message": req.path}})

    def _send(self, h: BaseHTTPRequestHandler, response: Response) -> None:
        data, headers = response.encoded()
        self._send_raw(h, response.status, data, headers, length=len(data))

    def _trickle(self, h: BaseHTTPRequestHandler, response: Response, seconds: float) -> None:
        data, headers = response.encoded()
        try:
            h.send_response(response.status)
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.flush()
            for i in range(len(data)):
                h.wfile.write(data[i:i + 1])
                h.wfile.flush()
                time.sleep(seconds)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        h.close_connection = True

    @staticmethod
    def _send_raw(h: BaseHTTPRequestHandler, status: int, data: bytes,
                  headers: Mapping[str, str], *, length: int) -> None:
        try:
            h.send_response(status)
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(length))
            h.end_headers()
            h.wfile.write(data)
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


def gzip_bomb(inflated: int) -> bytes:
    """A gzip body that inflates to ``inflated`` zero bytes (200 MiB is ~199 KiB on the
    wire): a client must refuse it at its size cap without inflating it in full."""
    import zlib

    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    out = [comp.compress(block) for _ in range(inflated // len(block))]
    return b"".join(out) + comp.flush()


def tls_pair() -> tuple[Any, Any, str]:
    """A trustme CA and a 127.0.0.1/localhost server cert; returns (ca, cert, ca_pem_path).

    The caller writes nothing: the CA PEM goes to a temp file that lives as long as the
    process, for clients that need a path (requests' ``verify``).
    """
    import tempfile

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    handle = tempfile.NamedTemporaryFile(prefix="fake-ca-", suffix=".pem", delete=False)
    ca.cert_pem.write_to_path(handle.name)
    handle.close()
    return ca, cert, handle.name
