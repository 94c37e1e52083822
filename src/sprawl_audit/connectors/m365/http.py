"""msal's HTTP client: sign-in goes through the same transport as every Graph call.

msal leaves retries to a custom client, and its own requests session would let
``REQUESTS_CA_BUNDLE`` beat the configured ``ca_bundle``; handing it
:class:`~sprawl_audit.connectors.common.transport.Transport` fixes both.
"""

from __future__ import annotations

from typing import Any

import requests

from sprawl_audit.connectors.common.transport import Transport


class MsalHttpClient:
    """The http_client msal is given: every call goes through :class:`Transport`.

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
