"""A fake Moodle 4.5 for LTI Dynamic Registration, over real HTTP on 127.0.0.1.

No package provides a platform's registration endpoint (PyPI lti1p3platform has none), so
this stands in for Moodle's mod/lti/openid-configuration.php, openid-registration.php and
certs.php, following what those scripts do:

* the configuration document has Moodle's shape (issuer = wwwroot, the platform
  configuration claim with product_family_code "moodle" and messages_supported);
* a registration token is an RS256 JWT signed with the site key: `sub` is the new client
  id, `scope` "reg", valid for an hour (startltiadvregistration.php);
* the registration endpoint wants `Authorization: Bearer <token>` (else 401
  `missing_registration_token`); a token whose client id is registered already gets 401
  `token_already_used`; a token that does not verify makes Moodle's uncaught-exception page
  (HTTP 404, HTML); a payload lacking what registration_to_config() needs gets 400 with
  Moodle's message; success stores the tool as *pending* and answers
  config_to_registration(): client_id and the tool configuration with `deployment_id`
  (the new tool type id, a new one per registration);
* contentitem_return.php takes a deep-linking response only with the form field JWT,
  signed by a key in the tool type's registered JWKS (fetched from it), issued by the
  type's client id for this site, for the type's deployment id.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from capacity_lti.lti.keys import public_jwk

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SERVICE_SCOPES = [
    AGS + "lineitem",
    AGS + "lineitem.readonly",
    AGS + "result.readonly",
    AGS + "score",
    NRPS,
    "https://purl.imsglobal.org/spec/lti-ts/scope/toolsetting",
]
RELEASE = "4.5.1 (Build: 20241209)"
ERROR_PAGE = b"<!DOCTYPE html><html><head><title>Error</title></head><body><div class='errorbox'>Exception - Signature verification failed</div></body></html>"


class Refused(Exception):
    def __init__(self, status: int, message: str, html: bool = False) -> None:
        self.status, self.message, self.html = status, message, html


@dataclass
class ToolType:
    """A registered tool as Moodle keeps it (mod/lti lti_types row + config)."""

    id: int
    client_id: str
    state: str
    payload: dict[str, Any]


@dataclass
class FakeMoodle:
    """The platform: its key, its tool types, and an HTTP server on 127.0.0.1."""

    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    types: list[ToolType] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    configuration_overrides: dict[str, Any] = field(default_factory=dict)
    added: list[dict[str, Any]] = field(default_factory=list)
    product: str = "moodle"  # another value makes a platform that sends no deployment id

    def __post_init__(self) -> None:
        self.jwk = public_jwk(self.key.public_key())
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.wwwroot = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def configuration_url(self) -> str:
        return self.wwwroot + "/mod/lti/openid-configuration.php"

    def url(self, script: str) -> str:
        return f"{self.wwwroot}/mod/lti/{script}"

    def registration_token(self, *, expired: bool = False, client_id: str | None = None) -> str:
        """What 'Add LTI Advantage' puts in the tool URL (startltiadvregistration.php)."""
        now = int(time.time()) - (7200 if expired else 0)
        claims = {
            "sub": client_id or secrets.token_urlsafe(12)[:15],
            "scope": "reg",
            "iat": now,
            "exp": now + 3600,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.jwk["kid"]})

    def configuration(self) -> dict[str, Any]:
        """openid-configuration.php's document."""
        document: dict[str, Any] = {
            "issuer": self.wwwroot,
            "token_endpoint": self.url("token.php"),
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "jwks_uri": self.url("certs.php"),
            "authorization_endpoint": self.url("auth.php"),
            "registration_endpoint": self.url("openid-registration.php"),
            "scopes_supported": [*SERVICE_SCOPES, "openid"],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": self.product,
                "version": RELEASE,
                "messages_supported": ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"],
                "placements": ["AddContentMenu"],
                "variables": ["basic-lti-launch-request", "Context.id", "ResourceLink.id"],
            },
        }
        document.update(self.configuration_overrides)
        return {k: v for k, v in document.items() if v is not None}

    def registration_dialog(self, tool_url: str) -> str:
        """The admin page framing the tool's registration URL, as 'Add LTI Advantage' does."""
        query = urlencode(
            {
                "openid_configuration": self.configuration_url,
                "registration_token": self.registration_token(),
            }
        )
        return (
            "<!doctype html><title>Manage tools</title><script>window.closeMessages = [];"
            "window.addEventListener('message', function (e) {"
            " if (e.data && e.data.subject === 'org.imsglobal.lti.close') {"
            " window.closeMessages.push(e.data); document.getElementById('dialog').remove(); }"
            "});</script>"
            f'<iframe id="dialog" name="dialog" src="{html.escape(tool_url)}?{html.escape(query)}"'
            ' width="800" height="600"></iframe>'
        )

    # --- contentitem_return.php ------------------------------------------------------

    def content_items(
        self, query: dict[str, list[str]], form: dict[str, list[str]]
    ) -> list[dict[str, Any]]:
        """Check a deep-linking response as Moodle does for tool type `id`, keep its items."""
        tool = next((t for t in self.types if str(t.id) == query.get("id", [""])[0]), None)
        if tool is None or list(form) != ["JWT"]:
            raise Refused(400, "invalidrequest")
        token = form["JWT"][0]
        with urllib.request.urlopen(tool.payload["jwks_uri"], timeout=10) as response:
            keys = jwt.PyJWKSet.from_json(response.read().decode())
        try:
            key = keys[jwt.get_unverified_header(token)["kid"]]
            claims = jwt.decode(
                token, key, algorithms=["RS256"], audience=self.wwwroot, issuer=tool.client_id
            )
        except (KeyError, jwt.PyJWTError) as error:
            raise Refused(400, f"Invalid JWT: {error}") from None
        lti = "https://purl.imsglobal.org/spec/lti/claim/"
        if claims.get(lti + "deployment_id") != str(tool.id):
            raise Refused(400, "wrongdeployment")
        if claims.get(lti + "message_type") != "LtiDeepLinkingResponse":
            raise Refused(400, "invalidrequest")
        items: list[dict[str, Any]] = claims[
            "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
        ]
        self.added.extend(items)
        return items

    # --- openid-registration.php -----------------------------------------------------

    def register(self, authorization: str, body: bytes) -> dict[str, Any]:
        if not authorization.startswith("Bearer "):
            raise Refused(401, "missing_registration_token")
        try:
            token = jwt.decode(
                authorization[7:].strip(), self.key.public_key(), algorithms=["RS256"]
            )
        except jwt.PyJWTError:
            raise Refused(404, "", html=True) from None
        if token.get("scope") != "reg":
            raise Refused(403, "Incorrect scope")
        client_id = str(token["sub"])
        if any(t.client_id == client_id for t in self.types):
            raise Refused(401, "token_already_used")
        payload = json.loads(body)
        config = _registration_to_config(payload)
        tool = ToolType(len(self.types) + 1, client_id, "pending", payload)
        self.types.append(tool)
        answer = _config_to_registration(tool, config)
        if self.product != "moodle":
            del answer[TOOL_CONFIGURATION]["deployment_id"]
        return answer


def _required(payload: dict[str, Any], key: str) -> Any:
    if not payload.get(key):
        raise Refused(400, f"missing required attribute {key}")
    return payload[key]


def _domain(url: str) -> str:
    host = urlsplit(url if "//" in url else "//" + url).netloc
    return host[4:] if host.startswith("www.") else host


def _registration_to_config(payload: dict[str, Any]) -> dict[str, Any]:
    """The checks of Moodle's registration_helper::registration_to_config()."""
    for key in ("response_types", "initiate_login_uri", "redirect_uris", "client_name"):
        _required(payload, key)
    _required(payload, "jwks_uri")
    method = _required(payload, "token_endpoint_auth_method")
    tool = _required(payload, TOOL_CONFIGURATION)
    domain = tool.get("domain")
    if not domain:
        raise Refused(400, "missing_domain")
    target = tool.get("target_link_uri") or f"https://{domain}"
    if _domain(domain) != _domain(target):
        raise Refused(400, "domain_targetlinkuri_mismatch")
    if "id_token" not in payload["response_types"]:
        raise Refused(400, "invalid_response_types")
    if not isinstance(payload["redirect_uris"], list):
        raise Refused(400, "invalid_redirect_uris")
    if method != "private_key_jwt":
        raise Refused(400, "invalid_token_endpoint_auth_method")
    if payload.get("application_type") not in (None, "", "web"):
        raise Refused(400, "invalid_application_type")
    deep_linking = [m for m in tool.get("messages", []) if m.get("type") == "LtiDeepLinkingRequest"]
    return {
        "toolurl": target,
        "tooldomain": _domain(domain),
        "contentitem": bool(deep_linking),
        "contentitem_url": deep_linking[0].get("target_link_uri", "") if deep_linking else "",
        "scopes": str(payload.get("scope", "")).split(),
        "claims": tool.get("claims", []),
    }


def _config_to_registration(tool: ToolType, config: dict[str, Any]) -> dict[str, Any]:
    """Moodle's registration_helper::config_to_registration() for an LTI 1.3 tool."""
    payload = tool.payload
    scopes = [s for s in SERVICE_SCOPES if s in config["scopes"]]
    configuration: dict[str, Any] = {
        "version": "1.3.0",
        "deployment_id": str(tool.id),
        "target_link_uri": config["toolurl"],
        "domain": config["tooldomain"],
        "description": payload[TOOL_CONFIGURATION].get("description", ""),
        "claims": ["sub", "iss", "name", "family_name", "given_name", "email"],
    }
    if config["contentitem"]:
        configuration["messages"] = [
            {"type": "LtiDeepLinkingRequest", "target_link_uri": config["contentitem_url"]}
        ]
    return {
        "client_id": tool.client_id,
        "response_types": ["id_token"],
        "jwks_uri": payload["jwks_uri"],
        "initiate_login_uri": payload["initiate_login_uri"],
        "grant_types": ["client_credentials", "implicit"],
        "redirect_uris": payload["redirect_uris"],
        "application_type": "web",
        "token_endpoint_auth_method": "private_key_jwt",
        "client_name": payload["client_name"],
        "logo_uri": payload.get("logo_uri", ""),
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION: configuration,
    }


def _handler(moodle: FakeMoodle) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, document: object) -> None:
            self._send(200, json.dumps(document).encode(), "application/json; charset=utf-8")

        def do_GET(self) -> None:
            moodle.requests.append(("GET", self.path, dict(self.headers), b""))
            path, _, query = self.path.partition("?")
            if path == "/mod/lti/openid-configuration.php":
                self._json(moodle.configuration())
            elif path == "/mod/lti/certs.php":
                self._json({"keys": [moodle.jwk]})
            elif path == "/admin/tool/lti/registration.php":
                tool = parse_qs(query)["tool"][0]
                self._send(200, moodle.registration_dialog(tool).encode(), "text/html")
            else:
                self._send(404, ERROR_PAGE, "text/html; charset=utf-8")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            moodle.requests.append(("POST", self.path, dict(self.headers), body))
            path, _, query = self.path.partition("?")
            if path == "/mod/lti/contentitem_return.php":
                try:
                    items = moodle.content_items(parse_qs(query), parse_qs(body.decode()))
                except Refused as refused:
                    self._send(refused.status, refused.message.encode(), "text/plain")
                    return
                page = f"<!doctype html><p id='added'>{len(items)} added</p>"
                self._send(200, page.encode(), "text/html")
                return
            if self.path != "/mod/lti/openid-registration.php":
                self._send(404, ERROR_PAGE, "text/html; charset=utf-8")
                return
            try:
                answer = moodle.register(self.headers.get("Authorization", ""), body)
            except Refused as refused:
                if refused.html:
                    self._send(refused.status, ERROR_PAGE, "text/html; charset=utf-8")
                else:
                    self._send(refused.status, refused.message.encode(), "text/plain")
                return
            self._json(answer)

        def log_message(self, *args: object) -> None:
            pass

    return Handler
