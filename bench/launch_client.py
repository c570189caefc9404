"""The platform and browser side of bench/launch.py: keyset server, id_tokens, launch flows.

The platform signs Moodle-shaped id_tokens (RS256, its kid) in the client process; its
keyset is served over HTTP by a process of its own. A client is one process driving launches
one after another on a keep-alive connection with a minimal cookie jar (fresh per launch).
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from capacity_lti.lti.keys import public_jwk

CLIENT_ID = "QzTGB2Lx8rV3Kc1"
DEPLOYMENT_ID = "1"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
AGS = "https://purl.imsglobal.org/spec/lti-ags/"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        data = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    else:
        data = key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    return data.decode()


@dataclass(frozen=True)
class Platform:
    """A Moodle-like issuer: its key signs id_tokens, its keyset is served at keyset_url."""

    issuer: str
    key: rsa.RSAPrivateKey = field(default=KEY, repr=False)

    @property
    def keyset_url(self) -> str:
        return self.issuer + "/mod/lti/certs.php"

    @property
    def auth_url(self) -> str:
        return self.issuer + "/mod/lti/auth.php"

    def initiation(self, subject: str, target: str) -> dict[str, str]:
        return {
            "iss": self.issuer,
            "target_link_uri": target,
            "login_hint": subject,
            "lti_message_hint": json.dumps({"cmid": 3, "launchid": "ltilaunch1_1"}),
            "client_id": CLIENT_ID,
            "lti_deployment_id": DEPLOYMENT_ID,
        }

    def id_token(self, nonce: str, subject: str, target: str, module: str | None = None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "nonce": nonce,
            "iat": now,
            "exp": now + 60,
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": subject,
            "given_name": "Ana",
            "family_name": "Souza",
            "name": "Ana Souza",
            "email": f"learner-{subject}@example.org",
            LTI + "deployment_id": DEPLOYMENT_ID,
            LTI + "target_link_uri": target,
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "version": "1.3.0",
            LTI + "roles": [LEARNER],
            LTI + "resource_link": {"id": "3", "title": "Climate programme", "description": ""},
            LTI + "context": {"id": "2", "label": "CLIMATE", "title": "Climate action"},
            LTI + "launch_presentation": {"locale": "en", "document_target": "iframe"},
            LTI + "custom": {"module": module} if module else {},
            AGS + "claim/endpoint": {
                "scope": [AGS + "scope/lineitem", AGS + "scope/score"],
                "lineitems": self.issuer + "/mod/lti/services.php/2/lineitems?type_id=1",
                "lineitem": self.issuer + "/mod/lti/services.php/2/lineitems/4/lineitem?type_id=1",
            },
            NRPS: {
                "context_memberships_url": self.issuer + "/mod/lti/services.php/2/memberships",
                "service_versions": ["2.0"],
            },
        }
        kid = public_jwk(self.key.public_key())["kid"]
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": kid})


def _serve_keyset(port: Any) -> None:
    jwk = {**public_jwk(KEY.public_key()), "alg": "RS256", "use": "sig"}
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port.value = server.server_address[1]
    server.serve_forever()


@contextmanager
def serve_keyset() -> Iterator[Platform]:
    """The platform, its keyset served by a process of its own while the block runs."""
    context = multiprocessing.get_context("fork")
    port = context.Value("i", 0)
    process = context.Process(target=_serve_keyset, args=(port,), daemon=True)
    process.start()
    while not port.value:
        time.sleep(0.01)
    try:
        yield Platform(f"http://127.0.0.1:{port.value}")
    finally:
        process.terminate()
        process.join()


class Transport(Protocol):
    def request(
        self, method: str, url: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]: ...


class Http:
    """A keep-alive connection to a tool (or one per request) with a minimal cookie jar."""

    def __init__(self, base: str, keepalive: bool = True) -> None:
        parts = urlsplit(base)
        self.keepalive = keepalive
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.connection: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, url: str, form: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(url)
        path = parts.path + ("?" + parts.query if parts.query else "")
        headers = {"Host": f"{self.host}:{self.port}"}
        if not self.keepalive:
            headers["Connection"] = "close"
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.connection.request(method, path, body, headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionError):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value, _, attributes = rest.partition(";")
            gone = "max-age=0" in attributes.lower() or "1970" in attributes
            if gone:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()
        if response.will_close and self.connection is not None:
            self.connection.close()
            self.connection = None
        return response.status, dict(response.headers.items()), data


def _expect(status: int, wanted: int, what: str, body: bytes) -> None:
    if status != wanted:
        raise RuntimeError(f"{what}: HTTP {status}: {body[:300]!r}")


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@dataclass(frozen=True)
class Flow:
    """One launch against a tool: login, then the launch, which answers with a page that
    holds `page_mark` (capacity-lti's: the learner page, with its address script)."""

    base: str
    platform: Platform
    login_path: str
    page_mark: bytes
    keepalive: bool = True
    module: str | None = None  # capacity-lti opens this module instead of the home page

    def launch(self, http: Transport, subject: str) -> float:
        """Do one launch; return the seconds spent waiting for the tool (signing excluded)."""
        target = self.base + "/launch"
        started = time.perf_counter()
        status, headers, body = http.request(
            "POST", self.base + self.login_path, self.platform.initiation(subject, target)
        )
        _expect(status, 302, "login", body)
        spent = time.perf_counter() - started
        query = _query(headers["Location"])
        token = self.platform.id_token(query["nonce"], subject, target, self.module)
        started = time.perf_counter()
        form = {"id_token": token, "state": query["state"]}
        status, headers, body = http.request("POST", query["redirect_uri"], form)
        _expect(status, 200, "launch", body)
        if self.page_mark not in body:
            raise RuntimeError(f"launch: not the page expected: {body[:300]!r}")
        return spent + time.perf_counter() - started


def capacity_flow(base: str, platform: Platform) -> Flow:
    return Flow(base, platform, "/lti/login", page_mark=b"/address.js")


def bare_flow(base: str, platform: Platform) -> Flow:
    return Flow(base, platform, "/login", page_mark=b"Hello")


def run_client(flow: Flow, name: str, launches: int, start: Any, results: Any) -> None:
    """Launch `launches` times as new learners; put (latencies, failures, first error)."""
    http = Http(flow.base, flow.keepalive)
    if start is not None:
        start.wait()
    latencies: list[float] = []
    failures, first = 0, ""
    for i in range(launches):
        http.cookies.clear()
        try:
            latencies.append(flow.launch(http, f"{name}-{i}-{time.time_ns()}"))
        except Exception as exc:
            failures += 1
            first = first or str(exc)
    if results is not None:
        results.put((latencies, failures, first))
    elif failures == launches:
        raise RuntimeError(f"warm-up: all {launches} launches failed: {first}")
