"""A DNS server on 127.0.0.1 (UDP and TCP on one port) answering from zone data a test writes.

Built with dnspython's own ``dns.message`` / ``dns.rrset``, so the real resolver
(``dns.resolver.Resolver`` with ``nameservers=["127.0.0.1"]`` and ``port=fake.port``)
runs end to end against it — nothing ever asks public DNS.

Zone data maps a name to its records by type::

    {"example.org": {"MX": [(10, "mx1.example.org")], "TXT": ["v=spf1 -all"]},
     "_dmarc.example.org": {"TXT": ["v=DMARC1; p=none"]},
     "selector1._domainkey.example.org": {"CNAME": "selector1-x._domainkey.t.example"},
     "mta-sts.example.org": {"A": ["127.0.0.1"]}}

TXT values are strings (split into 255-byte character-strings as real servers do) or lists
of character-strings. A name in no record and not the parent of one answers NXDOMAIN; a
name with other types answers NOERROR with no records (NODATA). CNAMEs are followed inside
the zone, as a recursive resolver would.

Faults, per name (and optionally type), consumed in order or persistent: ``servfail``,
``refused``, ``nxdomain``, ``timeout`` (no answer at all) and ``truncate`` (UDP answers
with the TC bit and nothing else, so the client must retry over TCP). Answers bigger than
the client's UDP size (512 bytes without EDNS) are truncated the same way, naturally.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.MX
import dns.rdtypes.ANY.TXT
import dns.rrset

FAULTS = ("servfail", "refused", "nxdomain", "timeout", "truncate")
Zone = dict[str, dict[str, Any]]


def _key(name: str) -> str:
    return name.strip().lower().rstrip(".")


def _chunks(value: str | bytes | Iterable[str | bytes]) -> list[bytes]:
    if isinstance(value, (str, bytes)):
        data = value.encode() if isinstance(value, str) else value
        return [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
    return [v.encode() if isinstance(v, str) else v for v in value]


def _rdatas(rtype: str, values: Any) -> list[dns.rdata.Rdata]:
    IN = dns.rdataclass.IN
    t = dns.rdatatype.from_text(rtype)
    if rtype == "CNAME":
        values = [values] if isinstance(values, str) else values
    out: list[dns.rdata.Rdata] = []
    for v in values:
        if rtype == "TXT":
            out.append(dns.rdtypes.ANY.TXT.TXT(IN, t, _chunks(v)))
        elif rtype == "MX":
            pref, host = v
            out.append(dns.rdtypes.ANY.MX.MX(IN, t, int(pref),
                                             dns.name.from_text(str(host))))
        else:
            text = str(v)
            if rtype in ("CNAME", "NS", "PTR") and not text.endswith("."):
                text += "."
            out.append(dns.rdata.from_text(IN, t, text))
    return out


@dataclass
class Query:
    """One question as the fake saw it."""

    proto: str  # udp | tcp
    name: str
    rtype: str


class FakeDNS:
    """Zone data, a query log, queued faults; ``with FakeDNS(zone) as dns: dns.port``."""

    def __init__(self, zone: Mapping[str, Mapping[str, Any]] | None = None,
                 *, ttl: int = 300) -> None:
        self.zone: Zone = {}
        self.ttl = ttl
        self.log: list[Query] = []
        self._faults: dict[tuple[str, str | None], deque[str]] = {}
        self._persistent: dict[tuple[str, str | None], str] = {}
        self._lock = threading.Lock()
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        for name, records in (zone or {}).items():
            for rtype, values in records.items():
                self.set(name, rtype, values)

    # -- zone and faults ------------------------------------------------------------
    def set(self, name: str, rtype: str, values: Any) -> None:
        """Replace ``name``'s records of ``rtype`` (None or [] removes them)."""
        key = _key(name)
        with self._lock:
            node = self.zone.setdefault(key, {})
            if values in (None, []):
                node.pop(rtype.upper(), None)
                if not node:
                    del self.zone[key]
            else:
                node[rtype.upper()] = values

    def fail(self, name: str, fault: str, rtype: str | None = None,
             times: int | None = 1) -> None:
        """Answer ``fault`` for ``name`` (and ``rtype``, else any type): ``times`` times,
        or for good when ``times`` is None."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        key = (_key(name), rtype.upper() if rtype else None)
        with self._lock:
            if times is None:
                self._persistent[key] = fault
            else:
                self._faults.setdefault(key, deque()).extend([fault] * times)

    def queries(self, name: str | None = None, rtype: str | None = None) -> list[Query]:
        return [q for q in self.log
                if (name is None or q.name == _key(name))
                and (rtype is None or q.rtype == rtype.upper())]

    def _take_fault(self, name: str, rtype: str) -> str | None:
        with self._lock:
            for key in ((name, rtype), (name, None)):
                queue = self._faults.get(key)
                if queue:
                    return queue.popleft()
            for key in ((name, rtype), (name, None)):
                if key in self._persistent:
                    return self._persistent[key]
        return None

    # -- answering ------------------------------------------------------------------
    def _exists(self, name: str) -> bool:
        return name in self.zone or any(n.endswith("." + name) for n in self.zone)

    def answer(self, query: dns.message.Message, proto: str) -> dns.message.Message | None:
        """The response to ``query`` (None: stay silent, the client times out)."""
        response = dns.message.make_response(query, recursion_available=True)
        if not query.question:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        qname = _key(question.name.to_text())
        rtype = dns.rdatatype.to_text(question.rdtype)
        with self._lock:
            self.log.append(Query(proto, qname, rtype))
        fault = self._take_fault(qname, rtype)
        if fault == "timeout":
            return None
        if fault in ("servfail", "refused", "nxdomain"):
            response.set_rcode({"servfail": dns.rcode.SERVFAIL, "refused": dns.rcode.REFUSED,
                                "nxdomain": dns.rcode.NXDOMAIN}[fault])
            return response
        if fault == "truncate" and proto == "udp":
            response.flags |= dns.flags.TC
            return response
        name, owner = qname, question.name
        with self._lock:
            for _hop in range(8):
                node = self.zone.get(name)
                if node is None:
                    if not self._exists(name):
                        response.set_rcode(dns.rcode.NXDOMAIN)
                    return response
                if "CNAME" in node and rtype != "CNAME":
                    target = str(node["CNAME"]).rstrip(".") + "."
                    response.answer.append(dns.rrset.from_rdata_list(
                        owner, self.ttl, _rdatas("CNAME", target)))
                    owner = dns.name.from_text(target)
                    name = _key(target)
                    continue
                values = node.get(rtype)
                if values:
                    response.answer.append(dns.rrset.from_rdata_list(
                        owner, self.ttl, _rdatas(rtype, values)))
                return response
        return response

    # -- transport --------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._udp is not None
        return int(self._udp.getsockname()[1])

    address = "127.0.0.1"

    def start(self) -> FakeDNS:
        for _attempt in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind(("127.0.0.1", 0))
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind(("127.0.0.1", udp.getsockname()[1]))
            except OSError:
                udp.close()
                tcp.close()
                continue
            tcp.listen(16)
            break
        else:  # pragma: no cover - 50 busy ports in a row
            raise RuntimeError("no free port for UDP and TCP together")
        udp.settimeout(0.2)
        tcp.settimeout(0.2)
        self._udp, self._tcp = udp, tcp
        for target in (self._serve_udp, self._serve_tcp):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=2)
        for sock in (self._udp, self._tcp):
            if sock is not None:
                sock.close()

    def __enter__(self) -> FakeDNS:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _serve_udp(self) -> None:
        assert self._udp is not None
        while not self._stopping.is_set():
            try:
                data, peer = self._udp.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                query = dns.message.from_wire(data)
            except dns.exception.DNSException:
                continue
            response = self.answer(query, "udp")
            if response is None:
                continue
            limit = max(query.payload, 512) if query.edns >= 0 else 512
            try:
                wire = response.to_wire(max_size=limit)
            except dns.exception.TooBig:
                short = dns.message.make_response(query, recursion_available=True)
                short.flags |= dns.flags.TC
                wire = short.to_wire()
            try:
                self._udp.sendto(wire, peer)
            except OSError:
                return

    def _serve_tcp(self) -> None:
        assert self._tcp is not None
        while not self._stopping.is_set():
            try:
                conn, _peer = self._tcp.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._tcp_client, args=(conn,), daemon=True).start()

    def _tcp_client(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        with conn:
            while not self._stopping.is_set():
                try:
                    head = _recv_exact(conn, 2)
                    if head is None:
                        return
                    (length,) = struct.unpack("!H", head)
                    data = _recv_exact(conn, length)
                    if data is None:
                        return
                    query = dns.message.from_wire(data)
                except (OSError, dns.exception.DNSException):
                    return
                response = self.answer(query, "tcp")
                if response is None:
                    return
                wire = response.to_wire(max_size=65535)
                try:
                    conn.sendall(struct.pack("!H", len(wire)) + wire)
                except OSError:
                    return


def _recv_exact(conn: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def zone_from_answers(answers: Mapping[str, Mapping[str, Any]]) -> Zone:
    """Zone data serving the DNS-answers shape of ``src/sprawl_audit/connectors/email/transform.py``
    (the demo's ``dns/answers.json``): MX, TXT, _dmarc, DKIM selectors, _mta-sts,
    _smtp._tls and SPF include targets (``spf_includes``)."""
    zone: Zone = {}

    def put(name: str, rtype: str, values: Any) -> None:
        if values:
            zone.setdefault(_key(name), {})[rtype] = values

    for domain, a in answers.items():
        put(domain, "MX", [(int(p), str(h)) for p, h in a.get("mx") or []])
        put(domain, "TXT", list(a.get("txt") or []))
        put(f"_dmarc.{domain}", "TXT", list(a.get("dmarc") or []))
        for selector, records in (a.get("dkim") or {}).items():
            put(f"{selector}._domainkey.{domain}", "TXT", list(records or []))
        put(f"_mta-sts.{domain}", "TXT", list(a.get("mta_sts") or []))
        put(f"_smtp._tls.{domain}", "TXT", list(a.get("tls_rpt") or []))
        for host, records in (a.get("spf_includes") or {}).items():
            if isinstance(records, list):
                put(host, "TXT", records)
    return zone
