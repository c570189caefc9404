"""The HTTP plumbing AGS and NRPS share: a keep-alive session and bearer calls retried once on 401.

A service call asks :class:`~capacity_lti.lti.service_token.ServiceTokens` for a token,
makes one request, and after a 401 discards that token and tries once more with a fresh one.
A second 401 means the platform's registration refuses the scopes; each service says so in
its own words (:attr:`ServiceClient.refused_hint`, :attr:`ServiceClient.refused_retryable`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import requests

from capacity_lti.errors import ServiceError
from capacity_lti.lti.service_token import ServiceTokens, TokenEndpoint, failure, transport


class KeepAliveSession(requests.Session):
    """A ``requests.Session`` that reads proxy and CA settings from the environment once per
    host instead of on every request (requests scans ``os.environ`` each time otherwise)."""

    def __init__(self) -> None:
        super().__init__()
        self.headers["User-Agent"] = "capacity-lti"
        self._environment: dict[tuple[object, ...], Any] = {}

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        parts = urlsplit(url if isinstance(url, str) else str(url))
        key = (
            parts.scheme,
            parts.netloc,
            stream,
            verify,
            cert,
            tuple(sorted((proxies or {}).items())),
        )
        known = self._environment.get(key)
        if known is None:
            known = super().merge_environment_settings(url, proxies, stream, verify, cert)
            self._environment[key] = known
        return dict(known)


class ServiceClient:
    """Bearer-token calls to one platform service over one keep-alive session (one thread)."""

    refused_hint = ""  # appended to "a fresh token was refused too" after a second 401
    refused_retryable = True

    def __init__(
        self, tokens: ServiceTokens, *, timeout: float, http: requests.Session | None = None
    ) -> None:
        self._tokens = tokens
        self._timeout = timeout
        self.http = http or KeepAliveSession()

    def close(self) -> None:
        self.http.close()

    def _call(
        self,
        endpoint: TokenEndpoint,
        scopes: Sequence[str],
        method: str,
        url: str,
        what: str,
        *,
        headers: dict[str, str],
        data: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        """The 2xx answer to `method` `url`; ServiceError naming `what` otherwise."""
        for first in (True, False):
            token = self._tokens.token(self.http, endpoint, scopes)
            try:
                response = self.http.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers={**headers, "Authorization": f"Bearer {token}"},
                    timeout=self._timeout,
                )
            except requests.RequestException as exc:
                raise transport(what, url, exc, self._timeout) from None
            if response.ok:
                return response
            if response.status_code == 401:
                self._tokens.discard(endpoint, scopes, token)
                if first:
                    continue
                error = failure(what, response)
                raise ServiceError(
                    f"{error.message} (a fresh token was refused too{self.refused_hint})",
                    retryable=self.refused_retryable,
                    status=401,
                )
            raise failure(what, response)
        raise AssertionError("unreachable")  # pragma: no cover
