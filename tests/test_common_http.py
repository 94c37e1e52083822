"""The shared HTTP layer (connectors/common) against real HTTP on loopback.

What each test proves is a defect that used to exist: Graph followed a repeating
``@odata.nextLink`` for ever; a server trickling one byte a second held a run
indefinitely (the timeout was per socket read); a 199 KiB gzip body inflated to 200 MiB
in memory; a 100,000-deep JSON page was a RecursionError traceback.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from fakes.graph import FakeClock
from fakes.server import FakeServer, Fault, Request, Response, gzip_bomb, tls_pair

from sprawl_audit.connectors.common.http import loads, resolve_verify
from sprawl_audit.connectors.common.paging import LinkGuard, PagingError
from sprawl_audit.connectors.common.ranking import worst_failure
from sprawl_audit.connectors.common.transport import (
    RetryPolicy,
    Throttle,
    Transport,
    TransportError,
)
from sprawl_audit.connectors.m365.client import GraphClient, GraphError


class _Tokens:
    def token(self) -> str:
        return "fake-access-token"

    def refresh(self, seen: str) -> str:
        return seen


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


def _graph(server: FakeServer, **transport: Any) -> GraphClient:
    t = Transport(clock=FakeClock(), policy=RetryPolicy(attempts=3), **transport)
    return GraphClient(t, _Tokens(), server.url, batch=False)  # type: ignore[arg-type]


# -- the repeated-link guard (Graph) ------------------------------------------------------
def test_graph_page_whose_next_link_is_itself_stops_with_an_error(server: FakeServer) -> None:
    @server.route("GET", r"/v1.0/users")
    def _users(req: Request) -> Response:
        return Response(200, {"value": [{"id": "u1"}],
                              "@odata.nextLink": f"{server.url}/v1.0/users?$skiptoken=A"})

    graph = _graph(server)
    with pytest.raises(GraphError, match="already given"):
        graph.list_all("/users")
    assert len(server.requests_to("/v1.0/users")) == 2  # the first page, then A once


def test_graph_a_b_a_cycle_stops_with_an_error(server: FakeServer) -> None:
    @server.route("GET", r"/v1.0/groups")
    def _groups(req: Request) -> Response:
        nxt = "B" if req.query.get("$skiptoken") == ["A"] else "A"
        return Response(200, {"value": [], "@odata.nextLink":
                              f"{server.url}/v1.0/groups?$skiptoken={nxt}"})

    with pytest.raises(GraphError, match="already given"):
        _graph(server).list_all("/groups")
    assert len(server.requests_to("/v1.0/groups")) == 3  # first, A, B; then A again: stop


def test_graph_page_cap_is_an_error_not_an_endless_read(server: FakeServer) -> None:
    count = iter(range(10**6))

    @server.route("GET", r"/v1.0/devices")
    def _devices(req: Request) -> Response:
        return Response(200, {"value": [], "@odata.nextLink":
                              f"{server.url}/v1.0/devices?$skiptoken={next(count)}"})

    graph = _graph(server)
    graph.max_pages = 5
    with pytest.raises(GraphError, match="more than 5 pages"):
        graph.list_all("/devices")
    assert len(server.requests_to("/v1.0/devices")) == 5


#: The next link each page gives: the same one for ever, or A -> B -> A.
_REPEATS = {"same": {None: "same", "same": "same"}, "cycle": {None: "A", "A": "B", "B": "A"}}


@pytest.mark.parametrize(("pattern", "requests"), [("same", 2), ("cycle", 3)])
def test_graph_delta_round_with_a_repeating_link_stops(server: FakeServer, pattern: str,
                                                       requests: int) -> None:
    @server.route("GET", r"/v1.0/users/delta")
    def _delta(req: Request) -> Response:
        token = (req.query.get("$skiptoken") or [None])[0]
        nxt = _REPEATS[pattern][token]
        return Response(200, {"value": [{"id": "u1"}], "@odata.nextLink":
                              f"{server.url}/v1.0/users/delta?$skiptoken={nxt}"})

    graph = _graph(server)
    with pytest.raises(GraphError, match="already given"):
        graph._delta_round(f"{server.url}/v1.0/users/delta?$deltatoken=old", {})
    assert len(server.requests_to("/v1.0/users/delta")) == requests


@pytest.mark.parametrize("pattern", ["same", "cycle"])
@pytest.mark.parametrize("batch", [False, True])
def test_graph_per_item_requeue_with_a_repeating_link_is_that_items_error(
        server: FakeServer, batch: bool, pattern: str) -> None:
    def page(path: str) -> dict[str, Any]:
        if path.startswith("/users/loop/"):
            token = path.partition("$skiptoken=")[2] or None
            nxt = _REPEATS[pattern][token]
            return {"value": [{"id": "r"}], "@odata.nextLink":
                    f"{server.url}/v1.0/users/loop/rules?$skiptoken={nxt}"}
        return {"value": [{"id": "r"}]}

    @server.route("GET", r"/v1.0/users/[a-z]+/rules")
    def _rules(req: Request) -> Response:
        return Response(200, page(req.path[len("/v1.0"):]))

    @server.route("POST", r"/v1.0/\$batch")
    def _batch(req: Request) -> Response:
        parts = req.json()["requests"]
        return Response(200, {"responses": [
            {"id": p["id"], "status": 200, "body": page(p["url"])} for p in parts]})

    graph = _graph(server)
    graph.batch = batch
    results = graph.get_many([("ok", "/users/ok/rules"), ("loop", "/users/loop/rules")])
    assert results["ok"].error is None and len(results["ok"].items) == 1
    assert results["loop"].error is not None
    assert "already given" in str(results["loop"].error)
    assert len(server.log) <= (4 if pattern == "same" else 5)


def test_link_guard_counts_the_first_link() -> None:
    guard = LinkGuard("GET /x", max_pages=3)
    guard.follow("A")
    guard.follow("B")
    with pytest.raises(PagingError, match="already given"):
        guard.follow("A")


# -- deadline, size cap, depth ------------------------------------------------------------
def test_a_trickling_server_is_cut_at_the_deadline(server: FakeServer) -> None:
    @server.route("GET", r"/v1.0/slow")
    def _slow(req: Request) -> Response:
        return Response(200, {"value": ["x" * 200]})

    server.add_fault(r"/v1.0/slow", Fault("trickle", seconds=0.05), times=5)
    transport = Transport(clock=FakeClock(), deadline=0.5, timeout=(5.0, 5.0))
    started = time.monotonic()
    with pytest.raises(TransportError, match="deadline"):
        transport.request("GET", f"{server.url}/v1.0/slow", parse_json=True)
    assert time.monotonic() - started < 3.0
    assert len(server.requests_to("/v1.0/slow")) == 1  # not retried: it would trickle again


def test_a_body_over_the_cap_is_refused(server: FakeServer) -> None:
    @server.route("GET", r"/v1.0/big")
    def _big(req: Request) -> Response:
        return Response(200, b"[" + b'"x",' * 10_000 + b'"x"]')

    transport = Transport(clock=FakeClock(), max_bytes=8_000)
    with pytest.raises(TransportError, match="larger than 8000 bytes"):
        transport.request("GET", f"{server.url}/v1.0/big", parse_json=True)
    assert len(server.requests_to("/v1.0/big")) == 1


def test_a_gzip_bomb_is_refused_at_the_cap_not_inflated(server: FakeServer) -> None:
    bomb = gzip_bomb(200 * 1024 * 1024)
    assert len(bomb) < 200 * 1024  # 199 KiB on the wire, 200 MiB inflated

    @server.route("GET", r"/v1.0/bomb")
    def _bomb(req: Request) -> Response:
        return Response(200, bomb, {"Content-Encoding": "gzip",
                                    "Content-Type": "application/json"})

    @server.route("GET", r"/v1.0/small")
    def _small(req: Request) -> Response:
        return Response(200, zlib.compress(b'{"value": [1, 2]}', wbits=31),
                        {"Content-Encoding": "gzip", "Content-Type": "application/json"})

    transport = Transport(clock=FakeClock(), max_bytes=4 * 1024 * 1024)
    with pytest.raises(TransportError, match="larger than"):
        transport.request("GET", f"{server.url}/v1.0/bomb", parse_json=True)
    reply = transport.request("GET", f"{server.url}/v1.0/small", parse_json=True)
    assert reply.data == {"value": [1, 2]}  # ordinary gzip still reads


def test_a_very_deep_json_page_is_a_graph_error_not_a_recursion_error(
        server: FakeServer) -> None:
    @server.route("GET", r"/v1.0/deep")
    def _deep(req: Request) -> Response:
        return Response(200, b"[" * 100_000 + b"]" * 100_000,
                        {"Content-Type": "application/json"})

    with pytest.raises(GraphError, match="nested too deeply"):
        _graph(server).get("/deep")
    with pytest.raises(ValueError, match="nested too deeply"):
        loads("[" * 100_000 + "]" * 100_000)


def test_ca_bundle_beats_requests_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    _ca, cert, ca_path = tls_pair()
    _other, _cert2, other_path = tls_pair()  # a CA that did not sign the server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", other_path)
    with FakeServer(tls=cert) as fake:
        @fake.route("GET", r"/v1.0/ok")
        def _ok(req: Request) -> Response:
            return Response(200, {"ok": True})

        assert resolve_verify(ca_path) == ca_path
        good = Transport(clock=FakeClock(), verify=resolve_verify(ca_path))
        assert good.request("GET", f"{fake.url}/v1.0/ok", parse_json=True).data == {"ok": True}
        env_only = Transport(clock=FakeClock(), verify=resolve_verify(None))
        with pytest.raises(TransportError, match="TLS verification failed"):
            env_only.request("GET", f"{fake.url}/v1.0/ok")


def test_one_failure_ranking() -> None:
    assert worst_failure({"forbidden", "error"}) == "error"
    assert worst_failure({"unavailable", "forbidden"}) == "forbidden"
    assert worst_failure(set(), "unavailable") == "unavailable"


# -- the hooks a connector may add (Google's) ---------------------------------------------
def test_throttle_hint_retries_a_403_that_means_slow_down(server: FakeServer) -> None:
    from sprawl_audit.connectors.common.pacing import TokenBucket

    @server.route("GET", r"/api/x")
    def _x(req: Request) -> Response:
        return Response(200, {"ok": True})

    slow = {"error": {"code": 403, "errors": [{"reason": "rateLimitExceeded"}]}}
    server.add_fault(r"/api/x", Fault(status=403, body=slow, headers={"Retry-After": "2"}))
    server.add_fault(r"/api/x", Fault(status=403, body={"error": {"code": 403}}))
    clock = FakeClock()
    pacer = TokenBucket(100.0, clock=clock)
    def slow_down(r: Any) -> Throttle | None:
        return Throttle(None) if b"rateLimitExceeded" in r.content else None

    transport = Transport(clock=clock, pacer=pacer, throttle_hint=slow_down)
    reply = transport.request("GET", f"{server.url}/api/x")
    # the first 403 was retried after its Retry-After and slowed the pacer; the second,
    # a plain refusal, is the answer
    assert reply.status == 403 and reply.attempts == 2
    assert pacer.stats.decreases == 1 and 2.0 in clock.sleeps
    assert Transport(clock=FakeClock()).request("GET", f"{server.url}/api/x").status == 200


def test_cut_short_hook_sends_a_visibly_incomplete_answer_again(server: FakeServer) -> None:
    answers = iter([b"--b\r\npart\r\n", b"--b\r\npart\r\n--b--\r\n"])

    @server.route("POST", r"/batch")
    def _batch(req: Request) -> Response:
        return Response(200, next(answers), {"Content-Type": "multipart/mixed; boundary=b"})

    transport = Transport(clock=FakeClock(), cut_short=lambda r: None if r.content.endswith(
        b"--b--\r\n") else "no closing boundary")
    reply = transport.request("POST", f"{server.url}/batch", data=b"x")
    assert reply.attempts == 2 and reply.response.content.endswith(b"--b--\r\n")
    assert transport.stats.retries == 1


def test_a_throttle_hint_retries_what_urllib3_cannot_see(server: FakeServer) -> None:
    """Meta's Graph says "slow down" with a code in a 400 and the wait in its own header:
    the connector's ``throttle_hint`` makes the transport treat it as a 429. With
    ``give_up_over_max`` a wait above ``max_retry_after`` is not slept at all."""
    @server.route("GET", r"/v1.0/meta")
    def _meta(req: Request) -> Response:
        return Response(200, {"ok": 1})

    def hint(response: Any) -> Throttle | None:
        wait = response.headers.get("X-Wait")
        return Throttle(float(wait)) if response.status_code == 400 and wait else None

    def throttled(wait: str) -> Fault:
        return Fault(status=400, body={"error": {"code": 80007}}, headers={"X-Wait": wait})

    clock = FakeClock()
    transport = Transport(clock=clock, throttle_hint=hint)
    server.add_fault(r"/v1.0/meta", throttled("2"))
    reply = transport.request("GET", f"{server.url}/v1.0/meta", parse_json=True)
    assert reply.data == {"ok": 1} and reply.attempts == 2
    assert clock.sleeps == [2.0] and transport.stats.throttled == 1
    server.add_fault(r"/v1.0/meta", throttled("900"))
    impatient = Transport(clock=FakeClock(), throttle_hint=hint,
                          policy=RetryPolicy(max_retry_after=300, give_up_over_max=True))
    refused = impatient.request("GET", f"{server.url}/v1.0/meta", parse_json=True)
    assert refused.status == 400 and refused.attempts == 1
    assert impatient.clock.sleeps == []  # type: ignore[attr-defined]
    # A 400 without the hint's header is an ordinary 400: returned, not retried.
    server.add_fault(r"/v1.0/meta", Fault(status=400, body={"error": {"code": 100}}))
    assert transport.request("GET", f"{server.url}/v1.0/meta").status == 400
