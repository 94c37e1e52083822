"""The shared fake server itself: routes, faults, TLS, rate limiting."""

from __future__ import annotations

import requests
from fakes.server import FakeServer, Fault, Response, tls_pair


def make() -> FakeServer:
    fake = FakeServer()

    @fake.route("GET", r"/items")
    def items(_req):
        return Response(200, {"value": [1, 2, 3]})

    return fake


def test_route_log_and_404() -> None:
    with make() as fake:
        assert requests.get(f"{fake.url}/items", timeout=5).json() == {"value": [1, 2, 3]}
        assert requests.get(f"{fake.url}/nope", timeout=5).status_code == 404
        assert [r.path for r in fake.log] == ["/items", "/nope"]


def test_faults_are_consumed_in_order() -> None:
    with make() as fake:
        fake.add_fault("/items", Fault(status=429, headers={"Retry-After": "2"}))
        fake.add_fault("/items", Fault(kind="truncate", keep=5))
        first = requests.get(f"{fake.url}/items", timeout=5)
        assert first.status_code == 429 and first.headers["Retry-After"] == "2"
        try:
            text = requests.get(f"{fake.url}/items", timeout=5).text
        except requests.exceptions.RequestException:
            text = "<incomplete read>"
        assert text != '{"value": [1, 2, 3]}'
        assert requests.get(f"{fake.url}/items", timeout=5).status_code == 200


def test_tls_with_explicit_ca_even_when_env_points_elsewhere(monkeypatch) -> None:
    _ca, cert, ca_path = tls_pair()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    fake = make()
    fake._tls = cert
    with fake.start():
        # requests lets REQUESTS_CA_BUNDLE beat Session.verify; per-request verify wins.
        assert requests.get(f"{fake.url}/items", timeout=5, verify=ca_path).status_code == 200


def test_rate_limit_answers_429_with_retry_after() -> None:
    fake = make()
    fake.rate = 2.0
    fake._bucket = 2.0
    with fake.start():
        codes = [requests.get(f"{fake.url}/items", timeout=5).status_code for _ in range(5)]
    assert codes.count(429) >= 2 and fake.throttled >= 2
