"""Platforms for launch tests, over real HTTP on 127.0.0.1.

`MoodleLike` signs the way Moodle 4.5 does (issuer = wwwroot, deployment id = tool type id,
locale `pt_br`, AGS line-item URLs with `?type_id=1`, byte-identical redirect_uri check,
auto-submitted form_post); it also serves a course page that frames the tool, as Moodle
does, with an optional Canvas-style `post_message_forwarding` frame for LTI Platform Storage.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from capacity_lti.lti.idtoken import LTI
from capacity_lti.lti.keys import public_jwk

AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
INSTRUCTOR = LIS + "membership#Instructor"
LEARNER = LIS + "membership#Learner"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)

STORAGE_FRAME = """<!doctype html><script>
var store = {};
window.addEventListener("message", function (event) {
  var m = event.data || {};
  var reply = {subject: m.subject + ".response", message_id: m.message_id, key: m.key};
  if (m.subject === "lti.put_data") { store[event.origin + " " + m.key] = m.value; reply.value = m.value; }
  else if (m.subject === "lti.get_data") {
    var v = store[event.origin + " " + m.key];
    if (v === undefined) { reply.error = {code: "bad_request", message: "no such key"}; } else { reply.value = v; }
  } else { return; }
  window.top.storageLog.push(m.subject);
  event.source.postMessage(reply, event.origin);
});
</script>"""


def form_page(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items()
    )
    return (
        f'<!doctype html><form id="f" method="post" action="{html.escape(action)}">{inputs}</form>'
        '<script>document.getElementById("f").submit()</script>'
    )


def read_form(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of an auto-submitting form page."""
    action = html.unescape(re.search(r'<form[^>]*action="([^"]*)"', page).group(1))  # type: ignore[union-attr]
    fields = {
        html.unescape(n): html.unescape(v)
        for n, v in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page)
    }
    return action, fields


class MoodleLike:
    """A Moodle 4.5 site as far as a tool sees it: JWKS, OIDC auth endpoint, course page."""

    def __init__(self) -> None:
        self.client_id = "QzTGB2Lx8rV3Kc1"
        self.deployment_id = "1"  # Moodle: the tool type id
        self.key = KEY
        self.kid = public_jwk(KEY.public_key())["kid"]
        self.published = [public_jwk(KEY.public_key())]
        self.tool_login = ""
        self.redirect_uri = ""  # the registered one; Moodle insists on byte-identity
        self.user: dict[str, Any] = {
            "sub": "2",
            "given_name": "Ana",
            "family_name": "Souza",
            "name": "Ana Souza",
            "email": "ana@example.org",
        }
        self.roles: list[str] = [LEARNER]
        self.message_type = "LtiResourceLinkRequest"
        self.custom: dict[str, str] = {}
        self.target = ""
        self.locale = "pt_br"
        self.tamper: Callable[[dict[str, Any]], None] = lambda claims: None
        self.sign: Callable[[dict[str, Any]], str] | None = None
        self.storage_target: str | None = None
        self.issued: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.keyset_url = self.issuer + "/mod/lti/certs.php"
        self.auth_url = self.issuer + "/mod/lti/auth.php"
        self.token_url = self.issuer + "/mod/lti/token.php"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what a launch looks like -------------------------------------------------

    def initiation(self) -> dict[str, str]:
        """The login initiation Moodle's launch.php posts to the tool."""
        fields = {
            "iss": self.issuer,
            "target_link_uri": self.target,
            "login_hint": self.user["sub"],
            "lti_message_hint": json.dumps({"cmid": 3, "launchid": "ltilaunch1_12345"}),
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }
        if self.storage_target:
            fields["lti_storage_target"] = self.storage_target
        return fields

    def claims(self, nonce: str) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "nonce": nonce,
            "iat": now,
            "exp": now + 60,
            "iss": self.issuer,
            "aud": self.client_id,
            LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": self.target,
            **self.user,
            LTI + "lis": {"person_sourcedid": "", "course_section_sourcedid": ""},
            LTI + "roles": list(self.roles),
            LTI + "context": {
                "id": "2",
                "label": "CLIMATE",
                "title": "Climate action for councils",
                "type": ["CourseSection"],
            },
            LTI + "message_type": self.message_type,
            LTI + "launch_presentation": {
                "locale": self.locale,
                "document_target": "iframe",
                "return_url": self.issuer + "/mod/lti/return.php?course=2&launch_container=3",
            },
            LTI + "ext": {"user_username": "ana", "lms": "moodle-2"},
            LTI + "tool_platform": {
                "product_family_code": "moodle",
                "version": "2024100700",
                "guid": "127.0.0.1",
                "name": "Moodle",
            },
            LTI + "version": "1.3.0",
            LTI + "custom": dict(self.custom),
            NRPS: {
                "context_memberships_url": self.issuer
                + "/mod/lti/services.php/CourseSection/2/bindings/1/memberships",
                "service_versions": ["1.0", "2.0"],
            },
        }
        if self.message_type == "LtiResourceLinkRequest":
            claims[LTI + "resource_link"] = {
                "title": "Climate programme",
                "description": "",
                "id": "3",
            }
            claims[AGS] = {
                "scope": [
                    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                ],
                "lineitems": self.issuer + "/mod/lti/services.php/2/lineitems?type_id=1",
                "lineitem": self.issuer + "/mod/lti/services.php/2/lineitems/4/lineitem?type_id=1",
            }
        else:
            claims[DL] = {
                "deep_link_return_url": self.issuer
                + "/mod/lti/contentitem_return.php?course=2&id=1&sesskey=abc",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["frame", "iframe", "window"],
                "accept_multiple": True,
                "auto_create": False,
                "title": "",
                "text": "",
                "data": "eyJ0eXBlIjoiY29udGVudCJ9",
            }
        self.tamper(claims)
        return claims

    def id_token(self, claims: dict[str, Any]) -> str:
        if self.sign is not None:
            return self.sign(claims)
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})

    # --- HTTP ------------------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if parts.path == "/mod/lti/certs.php":
            self.reply(request, 200, json.dumps({"keys": self.published}), "application/json")
        elif parts.path == "/mod/lti/auth.php":
            self.authenticate(request, query)
        elif parts.path == "/course/view.php":
            storage = (
                '<iframe name="post_message_forwarding" src="/storage.html" hidden></iframe>'
                if self.storage_target
                else ""
            )
            page = (
                "<!doctype html><title>Course</title><script>window.storageLog = [];</script>"
                f'{storage}<h1>Climate action for councils</h1><iframe id="tool" name="tool" '
                'src="/mod/lti/launch.php?id=3" width="900" height="700"></iframe>'
            )
            self.reply(request, 200, page)
        elif parts.path == "/storage.html":
            self.reply(request, 200, STORAGE_FRAME)
        elif parts.path == "/mod/lti/launch.php":
            self.reply(request, 200, form_page(self.tool_login, self.initiation()))
        else:
            self.reply(request, 404, "not found")

    def authenticate(self, request: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        expected = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": self.client_id,
            "login_hint": self.user["sub"],
        }
        wrong = [k for k, v in expected.items() if query.get(k) != v]
        if query.get("redirect_uri") != self.redirect_uri:
            wrong.append("redirect_uri")  # Moodle: "Invalid redirect_uri"
        if wrong or not query.get("nonce") or not query.get("state"):
            self.reply(request, 400, f"invalid request: {wrong}")
            return
        claims = self.claims(query["nonce"])
        self.issued.append(claims)
        fields = {"id_token": self.id_token(claims), "state": query["state"]}
        if self.storage_target:
            fields["lti_storage_target"] = self.storage_target
        self.reply(request, 200, form_page(query["redirect_uri"], fields))

    @staticmethod
    def reply(
        request: BaseHTTPRequestHandler, status: int, body: str, kind: str = "text/html"
    ) -> None:
        data = body.encode()
        request.send_response(status)
        request.send_header("Content-Type", f"{kind}; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


__all__ = ["MoodleLike", "form_page", "query_of", "read_form", "urlencode"]
