"""A fake of the Graph API's WhatsApp Business Management reads, on :class:`FakeServer`.

Routes (``{v}`` is the API version, e.g. ``v21.0``):

* ``GET /{v}/{waba-id}?fields=id,name`` → ``{"id", "name"}``;
* ``GET /{v}/{waba-id}/phone_numbers?fields=...&limit=N[&after=CURSOR]`` → Graph paging:
  ``{"data": [...], "paging": {"cursors": {"before", "after"}, "next": URL}}`` with
  ``next`` only while more pages follow. Like Meta's, the ``next`` link carries
  ``access_token`` — the client must not send it back (``token_in_url`` counts any that do).

Authentication is ``Authorization: Bearer <token>``; a wrong or revoked token answers 401
with Graph's error shape (code 190). Accounts in ``forbidden`` answer 403 with code 200.
Only the fields asked for are returned, so a client that forgets one notices. Faults
(429, 5xx, truncation, delays) come from the shared server's queue.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fakes.server import FakeServer, Request, Response

VERSION = "v21.0"


def graph_error(code: int, message: str, kind: str = "OAuthException",
                subcode: int | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"message": message, "type": kind, "code": code,
                           "fbtrace_id": "AbCdEfGh123"}
    if subcode is not None:
        err["error_subcode"] = subcode
    return {"error": err}


def phone_number(i: int, **overrides: Any) -> dict[str, Any]:
    """A Cloud API phone number item; ``i`` makes the number and id unique."""
    item = {
        "id": f"11000000{i:04d}",
        "display_phone_number": f"+44 7700 9{i:05d}",
        "verified_name": f"Riverside Homes {i}",
        "quality_rating": "GREEN",
        "name_status": "APPROVED",
        "platform_type": "CLOUD_API",
        "messaging_limit_tier": "TIER_1K",
        "throughput": {"level": "STANDARD"},
        "code_verification_status": "VERIFIED",
    }
    item.update(overrides)
    return item


@dataclass
class Account:
    id: str
    name: str
    numbers: list[dict[str, Any]] = field(default_factory=list)


class FakeWhatsApp:
    """Business accounts with numbers, a token, and the Graph behaviours above."""

    def __init__(self, token: str, accounts: Iterable[Account], *, tls: Any | None = None,
                 page_size: int = 2) -> None:
        self.token = token
        self.accounts = {a.id: a for a in accounts}
        self.forbidden: set[str] = set()
        self.page_size = page_size
        #: successful requests left before the token is revoked (None: never)
        self.revoke_after: int | None = None
        self.token_in_url = 0
        self.server = FakeServer(tls=tls)
        self.server.route("GET", rf"/{VERSION}/(\d+)")(self._account)
        self.server.route("GET", rf"/{VERSION}/(\d+)/phone_numbers")(self._numbers)

    # -- lifecycle ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self) -> FakeWhatsApp:
        self.server.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.stop()

    # -- behaviour ----------------------------------------------------------------------
    def _auth(self, req: Request) -> Response | None:
        if "access_token" in req.query:
            self.token_in_url += 1
        if req.headers.get("authorization") != f"Bearer {self.token}":
            return Response(401, graph_error(190, "Invalid OAuth access token - Cannot parse "
                                             "access token"))
        if self.revoke_after is not None:
            if self.revoke_after <= 0:
                return Response(401, graph_error(
                    190, "Error validating access token: The session has been invalidated "
                    "because the user changed their password.", subcode=460))
            self.revoke_after -= 1
        return None

    def _lookup(self, req: Request) -> tuple[Account | None, Response | None]:
        denied = self._auth(req)
        if denied is not None:
            return None, denied
        waba = req.path.strip("/").split("/")[1]
        if waba in self.forbidden:
            return None, Response(403, graph_error(
                200, "(#200) Requires whatsapp_business_management permission to manage the "
                "object", kind="OAuthException"))
        account = self.accounts.get(waba)
        if account is None:
            return None, Response(400, graph_error(
                100, f"Unsupported get request. Object with ID '{waba}' does not exist",
                kind="GraphMethodException", subcode=33))
        return account, None

    def _account(self, req: Request) -> Response:
        account, error = self._lookup(req)
        if error is not None or account is None:
            return error or Response(500)
        fields = _fields(req)
        return Response(200, {k: v for k, v in {"id": account.id, "name": account.name}.items()
                              if k in fields or not fields})

    def _numbers(self, req: Request) -> Response:
        account, error = self._lookup(req)
        if error is not None or account is None:
            return error or Response(500)
        fields = _fields(req)
        limit = int(req.query.get("limit", [str(self.page_size)])[0])
        limit = min(limit, self.page_size)
        start = 0
        after = req.query.get("after", [""])[0]
        if after:
            start = int(after.removeprefix("cursor-"))
        items = account.numbers[start:start + limit]
        data = [{k: v for k, v in item.items() if k in fields or k == "id"} for item in items]
        body: dict[str, Any] = {"data": data}
        if items:
            body["paging"] = {"cursors": {"before": f"cursor-{start}",
                                          "after": f"cursor-{start + len(items)}"}}
            if start + len(items) < len(account.numbers):
                query = {"access_token": self.token, "fields": ",".join(sorted(fields)),
                         "limit": str(limit), "after": f"cursor-{start + len(items)}"}
                body["paging"]["next"] = (f"{self.server.url}/{VERSION}/{account.id}/"
                                          f"phone_numbers?{urlencode(query)}")
        return Response(200, body)


def _fields(req: Request) -> set[str]:
    raw = req.query.get("fields", [""])[0]
    return {f.strip() for f in raw.split(",") if f.strip()}


def usage_header(minutes: int) -> dict[str, str]:
    """An ``X-Business-Use-Case-Usage`` header asking to wait ``minutes``."""
    return {"X-Business-Use-Case-Usage": json.dumps({"1029384756": [{
        "type": "whatsapp_business_management", "call_count": 100, "total_cputime": 30,
        "total_time": 40, "estimated_time_to_regain_access": minutes}]})}


def accounts_for_demo() -> list[Account]:
    """Two accounts: three numbers (one with a RED rating) and one."""
    return [
        Account("1029384756", "Riverside Homes Group", [
            phone_number(1),
            phone_number(2, quality_rating="YELLOW", messaging_limit_tier="TIER_250"),
            phone_number(3, quality_rating="RED", name_status="DECLINED",
                         new_name_status="PENDING_REVIEW"),
        ]),
        Account("5647382910", "Riverside Repairs", [phone_number(4)]),
    ]


def settings_for(fake: FakeWhatsApp, env: str = "SPRAWL_WHATSAPP_TOKEN",
                 ids: Iterable[str] | None = None, **extra: Any) -> Mapping[str, Any]:
    return {"token_env": env, "graph_endpoint": fake.url, "api_version": VERSION,
            "business_account_ids": list(ids if ids is not None else fake.accounts),
            **extra}
