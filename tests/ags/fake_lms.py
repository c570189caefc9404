"""A Moodle-shaped LMS for AGS tests, served over real HTTP/1.1 (keep-alive) on 127.0.0.1.

No package runs an AGS platform server, but PyPI ``lti1p3platform`` provides the platform's
logic: its ``get_access_token`` verifies the tool's client assertion against the tool's JWKS
(fetched over HTTP) and signs the access token, its ``validate_token`` checks bearer tokens,
and its ``AssignmentsGradesService`` handlers serve line items and scores. This module is the
thin HTTP adapter around them (like its Django adapter) plus what Moodle does that the
library does not: ``aud``/``iss``/``sub``/``jti`` checks on the assertion, per-endpoint
scopes, Moodle's URLs (``.../lineitems/5/lineitem?type_id=1``), ``Link: rel="next"`` paging,
AGS timestamp rules and rescaling to the grade item's maximum. ``script`` makes score POSTs
fail on purpose: "500", "503", "429:<seconds>", "timeout", "drop", "hold".
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
from lti1p3platform.exceptions import LineItemNotFoundException, LtiServiceException
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService

SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
LINEITEM_READ = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SERVICES = re.compile(r"^/mod/lti/services\.php/(\d+)/lineitems(?:/(\d+)/lineitem(/scores)?)?$")


class _Conf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        registration = Registration()
        registration.set_iss(kwargs["issuer"]).set_client_id(kwargs["client_id"])
        registration.set_platform_private_key(kwargs["private_pem"])
        registration.set_platform_public_key(kwargs["public_pem"])
        registration.set_tool_key_set_url(kwargs["tool_jwks_url"])
        self._registration = registration

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        assert self._registration is not None
        return self._registration


class _Request(Request):
    def build_metadata(self, request: Any) -> TRequest:
        return request  # type: ignore[no-any-return]


@dataclass
class LineItem:
    id: int
    label: str
    score_maximum: float
    resource_link_id: str = ""
    tag: str = ""

    def document(self, base: str, course: int, type_id: int) -> dict[str, Any]:
        url = f"{base}/mod/lti/services.php/{course}/lineitems/{self.id}/lineitem?type_id={type_id}"
        return {
            "id": url,
            "label": self.label,
            "scoreMaximum": self.score_maximum,
            "resourceLinkId": self.resource_link_id,
            "tag": self.tag,
        }


class _Service(AssignmentsGradesService):
    def __init__(self, lms: FakeMoodle, request: Request, course: int) -> None:
        base = f"{lms.base}/mod/lti/services.php/{course}/lineitems"
        super().__init__(request, lms.conf, base)
        self.lms, self.course = lms, course

    def find_lineitems(  # type: ignore[override]
        self, page: int = 1, limit: int | None = None, resource_link_id: str | None = None, **_: Any
    ) -> dict[str, Any]:
        items = [
            i
            for i in self.lms.items.values()
            if resource_link_id is None or i.resource_link_id == resource_link_id
        ]
        size = int(limit or self.lms.page_size)
        start = (int(page) - 1) * size
        chunk = items[start : start + size]
        return {
            "content": [i.document(self.lms.base, self.course, self.lms.type_id) for i in chunk],
            "has_next": start + size < len(items),
        }

    def create_lineitem(self, creation_data: Any) -> Any:
        item = self.lms.add_lineitem(
            creation_data.get("label", ""),
            float(creation_data["scoreMaximum"]),
            creation_data.get("resourceLinkId", ""),
            creation_data.get("tag", ""),
        )
        self.lms.created.append(creation_data)
        return item.document(self.lms.base, self.course, self.lms.type_id)

    def update_score(self, line_item_id: str, score: Any) -> UpdateScoreStatus:
        return self.lms.apply_score(int(line_item_id), score)

    def find_lineitem(self, line_item_id: str) -> Any:  # pragma: no cover - unused
        raise NotImplementedError

    def update_lineitem(self, update_data: Any) -> Any:  # pragma: no cover - unused
        raise NotImplementedError

    def delete_lineitem(self, line_item_id: str) -> None:  # pragma: no cover - unused
        raise NotImplementedError

    def get_results(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - unused
        raise NotImplementedError


@dataclass
class FakeMoodle:
    """The platform's state, visible to tests."""

    private_pem: str
    public_pem: str
    tool_jwks_url: str
    client_id: str = "tool-client-1"
    granted: frozenset[str] = frozenset({SCORE, LINEITEM, LINEITEM_READ})
    type_id: int = 1
    page_size: int = 2
    base: str = ""
    items: dict[int, LineItem] = field(default_factory=dict)
    results: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    landed: list[tuple[int, str, str, float]] = field(default_factory=list)
    enrolled: set[str] = field(default_factory=set)
    created: list[dict[str, Any]] = field(default_factory=list)
    script: list[str] = field(default_factory=list)
    score_posts: int = 0
    token_requests: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    connections: set[tuple[str, int]] = field(default_factory=set)
    revoked: set[str] = field(default_factory=set)
    issued: dict[str, str] = field(default_factory=dict)
    seen_jti: set[str] = field(default_factory=set)
    assertions: list[str] = field(default_factory=list)  # every client assertion received
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)
    conf: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def issuer(self) -> str:
        return self.base

    @property
    def token_url(self) -> str:
        return f"{self.base}/mod/lti/token.php"

    def lineitems_url(self, course: int = 2) -> str:
        return f"{self.base}/mod/lti/services.php/{course}/lineitems?type_id={self.type_id}"

    def add_lineitem(
        self, label: str, score_maximum: float, resource_link_id: str = "", tag: str = ""
    ) -> LineItem:
        item = LineItem(len(self.items) + 1, label, score_maximum, resource_link_id, tag)
        self.items[item.id] = item
        return item

    def lineitem_url(self, item: LineItem, course: int = 2) -> str:
        return str(item.document(self.base, course, self.type_id)["id"])

    def apply_score(self, item_id: int, score: dict[str, Any]) -> UpdateScoreStatus:
        """AGS rules: older than the result on record is refused; same or newer replaces it."""
        item = self.items.get(item_id)
        if item is None:
            raise LineItemNotFoundException()
        user = str(score.get("userId", ""))
        if user not in self.enrolled:
            raise LtiServiceException(f"No user with id {user} in this course", 400)
        stamp = datetime.fromisoformat(score["timestamp"])
        given = float(score["scoreGiven"]) / float(score["scoreMaximum"]) * item.score_maximum
        previous = self.results.get((item_id, user))
        if previous is not None and previous["timestamp"] > stamp:
            return UpdateScoreStatus.OLD_TIMESTAMP
        self.results[(item_id, user)] = {"grade": given, "timestamp": stamp, "score": score}
        entry = (item_id, user, score["timestamp"], given)
        if entry not in self.landed:
            self.landed.append(entry)
        return UpdateScoreStatus.SUCCESS

    # -- endpoints -----------------------------------------------------------------------

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.token_requests += 1
        self.assertions.append(form.get("client_assertion", ""))
        requested = set(form.get("scope", "").split())
        allowed = requested & self.granted
        if not allowed:
            return 400, {"error": "invalid_scope", "error_description": "no scope granted"}
        try:
            self.conf.get_registration()
            answer = self.conf.get_access_token({**form, "scope": " ".join(sorted(allowed))})
        except Exception as exc:  # the library's refusals: wrong key, expired, missing claims
            return 400, {
                "error": "invalid_client",
                "error_description": str(exc) or type(exc).__name__,
            }
        claims = jwt.decode(form["client_assertion"], options={"verify_signature": False})
        problem = None
        if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            problem = "iss and sub must be the client id"
        elif claims.get("aud") not in (self.token_url, [self.token_url]):
            problem = f"aud must be {self.token_url}"
        elif "exp" not in claims or claims["exp"] - claims.get("iat", 0) > 3600:
            problem = "exp missing or too far"
        elif not claims.get("jti") or claims["jti"] in self.seen_jti:
            problem = "jti missing or already used"
        if problem:
            return 400, {"error": "invalid_client", "error_description": problem}
        self.seen_jti.add(claims["jti"])
        # Moodle hands out opaque tokens (kept in its lti_access_tokens table): one fresh value
        # per request, standing for the token the library signed.
        opaque = secrets.token_urlsafe(24)
        self.issued[opaque] = answer["access_token"]
        return 200, {**answer, "access_token": opaque}

    def bearer_scopes(self, header: str) -> set[str] | None:
        kind, _, opaque = header.partition(" ")
        token = self.issued.get(opaque)
        if kind.lower() != "bearer" or token is None or opaque in self.revoked:
            return None
        try:
            self.conf.validate_token(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except Exception:
            return None
        return set(str(claims.get("scopes", "")).split())


def _send(handler: BaseHTTPRequestHandler, code: int, body: Any, headers: dict[str, str]) -> None:
    data = b"" if body is None else json.dumps(body).encode()
    handler.send_response(code)
    for name, value in {"Content-Type": "application/json", **headers}.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def make_handler(lms: FakeMoodle) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _library_headers(self) -> dict[str, str]:
            """The request's headers with the opaque token swapped for the one it stands for."""
            opaque = self.headers.get("Authorization", "").partition(" ")[2]
            return {**dict(self.headers), "Authorization": f"Bearer {lms.issued.get(opaque, '')}"}

        def _bearer(self) -> set[str] | None:
            """The scopes of the request's bearer token; None (401 sent) for a token not issued."""
            with lms.lock:
                scopes = lms.bearer_scopes(self.headers.get("Authorization", ""))
            if scopes is None:
                _send(self, 401, {"message": "Invalid LTI 1.3 authentication token"}, {})
            return scopes

        def _scope_refused(self, scopes: set[str], need: set[str]) -> bool:
            """True (403 sent) when the token carries none of the scopes in `need`."""
            if scopes & need:
                return False
            _send(self, 403, {"message": "Access denied: scope"}, {})
            return True

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_POST(self) -> None:
            self._serve("POST")

        def do_GET(self) -> None:
            self._serve("GET")

        def _serve(self, method: str) -> None:
            body = self._body()
            lms.connections.add(self.client_address)
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            if parts.path == "/mod/lti/token.php" and method == "POST":
                with lms.lock:
                    code, answer = lms.token(dict(parse_qsl(body.decode())))
                return _send(self, code, answer, {})
            match = SERVICES.match(parts.path)
            if match is None:
                return _send(self, 404, {"message": f"no route {parts.path}"}, {})
            course, item, scores = int(match[1]), match[2], match[3]
            if query.get("type_id") != str(lms.type_id):
                return _send(self, 400, {"message": "Incorrect type_id"}, {})
            scopes = self._bearer()
            if scopes is None:
                return None
            if scores:
                return self._score(int(course), str(item), scopes, body)
            need = {LINEITEM} if method == "POST" else {LINEITEM, LINEITEM_READ}
            if self._scope_refused(scopes, set() if item else need):
                return None
            lms.requests[f"{method} lineitems"] += 1
            request = _Request(
                {
                    "method": method,
                    "get_data": {
                        k: int(v) if k in ("page", "limit") else v for k, v in query.items()
                    },
                    "form_data": {},
                    "headers": self._library_headers(),
                    "json": json.loads(body) if body else None,
                    "content_type": self.headers.get("Content-Type"),
                    "path": parts.path,
                }
            )
            service = _Service(lms, request, course)
            with lms.lock:
                handler = (
                    service.handle_create_lineitem
                    if method == "POST"
                    else service.handle_get_lineitems
                )
                response = service.handle_resp(handler)
            if method == "GET" and response.code == 200:
                page = response.result
                headers = {"Link": f'<{page["next"]}>; rel="next"'} if page.get("next") else {}
                return _send(
                    self, 200, page["content"], {**headers, "Content-Type": response.media_type}
                )
            return _send(
                self, response.code, response.result, {"Content-Type": response.media_type}
            )

        def _score(self, course: int, item: str, scopes: set[str], body: bytes) -> None:
            lms.score_posts += 1
            behaviour = lms.script.pop(0) if lms.script else "ok"
            if behaviour in ("500", "503"):
                return _send(
                    self,
                    int(behaviour),
                    {"message": "database busy"},
                    {"Retry-After": "3"} if behaviour == "503" else {},
                )
            if behaviour.startswith("429"):
                return _send(self, 429, {"message": "slow down"}, {"Retry-After": behaviour[4:]})
            if behaviour == "timeout":
                lms.stopping.wait(10)
                return None
            if behaviour == "drop":
                self.close_connection = True
                return None
            if self._scope_refused(scopes, {SCORE}):
                return None
            if self.headers.get("Content-Type") != "application/vnd.ims.lis.v1.score+json":
                return _send(self, 415, {"message": "Unsupported media type"}, {})
            request = _Request(
                {
                    "method": "POST",
                    "json": json.loads(body),
                    "headers": self._library_headers(),
                    "get_data": {},
                    "form_data": {},
                    "content_type": None,
                    "path": "",
                }
            )
            service = _Service(lms, request, course)
            with lms.lock:
                response = service.handle_resp(service.handle_update_score, line_item_id=item)
            if behaviour == "hold":  # applied, but the answer is held back: the tool must not know
                lms.held.set()
                lms.release.wait(10)
            if response.code >= 300:
                return _send(self, response.code, {"message": response.message}, {})
            return _send(self, response.code, None, {})

    return Handler


class Running:
    """A FakeMoodle served on 127.0.0.1:<free port> until `stop()`."""

    handler_for = staticmethod(make_handler)  # a subclass serves its own routes

    def __init__(self, lms: FakeMoodle) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler_for(lms))
        self.server.daemon_threads = True
        lms.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        lms.conf = _Conf(
            issuer=lms.base,
            client_id=lms.client_id,
            private_pem=lms.private_pem,
            public_pem=lms.public_pem,
            tool_jwks_url=lms.tool_jwks_url,
        )
        self.lms = lms
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}
        )
        self.thread.start()

    def stop(self) -> None:
        self.lms.release.set()
        self.lms.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
