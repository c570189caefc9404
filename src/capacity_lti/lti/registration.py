"""LTI Dynamic Registration 1.0 (1EdTech), the tool's side.

The LMS opens the tool's registration page with `openid_configuration` (the URL of its
OpenID configuration) and `registration_token` (a one-time bearer token). The tool
reads the configuration, checks it, POSTs its client registration to the platform's
`registration_endpoint` and reads back its client id (Moodle also returns the
deployment id). Every refusal is a :class:`ConfigError` telling the administrator
what to do; nothing here knows about Flask or the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from capacity_lti.errors import ConfigError

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
_AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPES = (
    _AGS + "lineitem",
    _AGS + "lineitem.readonly",
    _AGS + "result.readonly",
    _AGS + "score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")
_AGAIN = "Start the registration again from the LMS."
MAX_ID = 255  # the platform and deployment tables' limit for issuers and ids


class Transport(Protocol):
    """HTTP as registration needs it: (status, content type, body) of a GET or a JSON POST."""

    def get(self, url: str, bearer: str | None) -> tuple[int, str, bytes]: ...

    def post_json(
        self, url: str, body: Mapping[str, Any], bearer: str | None
    ) -> tuple[int, str, bytes]: ...


@dataclass(frozen=True)
class ToolDescription:
    """What the tool tells the platform about itself (absolute URLs)."""

    name: str
    description: str
    login_url: str
    launch_url: str
    jwks_url: str
    logo_url: str | None = None

    @property
    def domain(self) -> str:
        return urlsplit(self.launch_url).netloc


@dataclass(frozen=True)
class PlatformConfiguration:
    """The checked parts of a platform's OpenID configuration."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    product_family_code: str
    version: str
    messages_supported: tuple[str, ...]

    @property
    def supports_deep_linking(self) -> bool:
        return DEEP_LINKING in self.messages_supported

    @property
    def product(self) -> str:
        """A readable name such as 'moodle 4.5.1' (empty parts left out)."""
        return " ".join(p for p in (self.product_family_code, self.version) if p) or "LMS"


@dataclass(frozen=True)
class Registration:
    """What the platform granted: the client id, maybe a deployment id, the scopes."""

    platform: PlatformConfiguration
    client_id: str
    deployment_id: str | None
    scopes: tuple[str, ...]


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def check_url(label: str, url: object, *, allow_http: bool) -> str:
    """`url` as an absolute https:// URL (http:// too when allowed), else ConfigError."""
    schemes = ("https", "http") if allow_http else ("https",)
    if not isinstance(url, str) or not url:
        raise ConfigError(f"the {label} is missing. {_AGAIN}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a malformed port raises here)
    except ValueError:
        raise ConfigError(f"the {label} {url!r} is not a valid URL. {_AGAIN}") from None
    if parts.scheme not in schemes or not parts.hostname:
        raise ConfigError(
            f"the {label} {url!r} must be an absolute https:// URL"
            + ("" if allow_http else " (plain http:// is accepted only in test setups)")
            + "."
        )
    return url


def _strings(value: object) -> tuple[str, ...]:
    """A list of strings, or of objects with a `type` (both shapes are in use)."""
    if not isinstance(value, list):
        return ()
    found = []
    for entry in value:
        if isinstance(entry, str):
            found.append(entry)
        elif isinstance(entry, dict) and isinstance(entry.get("type"), str):
            found.append(entry["type"])
    return tuple(found)


def parse_platform_configuration(
    document: object, config_url: str, *, allow_http: bool
) -> PlatformConfiguration:
    """Check an OpenID configuration read from `config_url` (LTI-DR 1.0 section 3.4-3.5)."""
    where = f"the LMS's configuration at {config_url}"
    if not isinstance(document, dict):
        raise ConfigError(
            f"{where} is not a JSON object. Check the LMS is reachable and up to date."
        )
    issuer = check_url(f"issuer in {where}", document.get("issuer"), allow_http=allow_http)
    if len(issuer) > MAX_ID:
        raise ConfigError(f"the issuer in {where} is longer than {MAX_ID} characters.")
    if _origin(issuer) != _origin(config_url):
        raise ConfigError(
            f"{where} names the issuer {issuer!r}, which is not on the site the configuration "
            "came from; LTI Dynamic Registration requires them to match, so the tool refuses it. "
            "Check the LMS's site address (Moodle: $CFG->wwwroot in config.php) is the address "
            "it is reached at."
        )
    urls = {
        name: check_url(f"{name} in {where}", document.get(name), allow_http=allow_http)
        for name in ENDPOINTS
    }
    for name, needed in (
        ("token_endpoint_auth_methods_supported", "private_key_jwt"),
        ("id_token_signing_alg_values_supported", "RS256"),
    ):
        offered = document.get(name)
        if isinstance(offered, list) and needed not in offered:
            raise ConfigError(
                f"{where} does not offer {needed} in {name}; the tool needs it. "
                "Use an LMS with LTI Advantage (Moodle 3.10 or later)."
            )
    claim = document.get(PLATFORM_CONFIGURATION)
    if not isinstance(claim, dict):
        raise ConfigError(
            f"{where} lacks the {PLATFORM_CONFIGURATION} claim, so it is not an LTI "
            "platform configuration. Check the URL the LMS gave (Moodle: "
            ".../mod/lti/openid-configuration.php)."
        )
    return PlatformConfiguration(
        issuer=issuer,
        authorization_endpoint=urls["authorization_endpoint"],
        token_endpoint=urls["token_endpoint"],
        jwks_uri=urls["jwks_uri"],
        registration_endpoint=urls["registration_endpoint"],
        product_family_code=str(claim.get("product_family_code") or ""),
        version=str(claim.get("version") or ""),
        messages_supported=_strings(claim.get("messages_supported")),
    )


def registration_request(tool: ToolDescription, platform: PlatformConfiguration) -> dict[str, Any]:
    """The client registration the tool POSTs (OpenID Connect DCR + the LTI tool configuration)."""
    messages: list[dict[str, Any]] = [
        {"type": RESOURCE_LINK, "target_link_uri": tool.launch_url, "label": tool.name},
        {
            "type": DEEP_LINKING,
            "target_link_uri": tool.launch_url,
            "label": f"Add {tool.name} modules",
            "placements": ["ContentArea"],
            "supported_types": ["ltiResourceLink"],
        },
    ]
    configuration: dict[str, Any] = {
        "domain": tool.domain,
        "description": tool.description,
        "target_link_uri": tool.launch_url,
        "claims": list(CLAIMS),
        "messages": messages,
    }
    if platform.product_family_code == "canvas":  # Canvas sends names and emails only when asked
        configuration["https://canvas.instructure.com/lti/privacy_level"] = "public"
    request: dict[str, Any] = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": tool.login_url,
        "redirect_uris": [tool.launch_url],
        "client_name": tool.name,
        "jwks_uri": tool.jwks_url,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(SCOPES),
        TOOL_CONFIGURATION: configuration,
    }
    if tool.logo_url:
        request["logo_uri"] = tool.logo_url
    return request


def _identifier(name: str, value: object) -> str | None:
    """A client or deployment id as text; the tool stores at most MAX_ID characters."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value):
        return None
    if len(str(value)) > MAX_ID:
        raise ConfigError(
            f"the LMS's {name} is longer than {MAX_ID} characters, more than the tool can store."
        )
    return str(value)


def parse_registration_response(document: object, platform: PlatformConfiguration) -> Registration:
    """The client id, deployment id (if the platform gives one) and granted scopes."""
    if not isinstance(document, dict):
        raise ConfigError(f"the LMS's answer to the registration is not a JSON object. {_AGAIN}")
    client_id = _identifier("client_id", document.get("client_id"))
    if client_id is None:
        raise ConfigError(
            f"the LMS accepted the registration but sent no client_id, so the tool cannot "
            f"recognise its launches. {_AGAIN}"
        )
    configuration = document.get(TOOL_CONFIGURATION)
    deployment = (
        _identifier("deployment_id", configuration.get("deployment_id"))
        if isinstance(configuration, dict)
        else None
    )
    scope = document.get("scope")
    return Registration(
        platform=platform,
        client_id=client_id,
        deployment_id=deployment,
        scopes=tuple(scope.split()) if isinstance(scope, str) else (),
    )


def _snippet(content_type: str, body: bytes) -> str:
    if "html" in content_type.lower():
        return "an HTML error page"
    text = " ".join(body.decode("utf-8", "replace").split())
    return repr(text[:200]) if text else "no explanation"


def _json(what: str, url: str, status: int, content_type: str, body: bytes) -> object:
    if 300 <= status < 400:
        raise ConfigError(
            f"{url} answered {what} with a redirect (HTTP {status}); the tool does not follow "
            "redirects while registering. Check the LMS's site address is the one it is reached at."
        )
    if status != 200 and not (what == "the registration" and status == 201):
        raise ConfigError(
            f"{url} answered {what} with HTTP {status} ({_snippet(content_type, body)}). {_AGAIN}"
        )
    try:
        return json.loads(body)
    except ValueError:
        raise ConfigError(
            f"{url} answered {what} with something that is not JSON "
            f"({_snippet(content_type, body)}). Check the URL the LMS gave."
        ) from None


def _refused(url: str, status: int, content_type: str, body: bytes) -> ConfigError:
    why = _snippet(content_type, body)
    if status in (401, 403):
        return ConfigError(
            f"the LMS refused the registration token (HTTP {status}: {why}). A registration "
            f"token works once and expires (Moodle: after an hour). {_AGAIN}"
        )
    return ConfigError(f"the LMS refused the tool's registration (HTTP {status}: {why}). {_AGAIN}")


def register(
    config_url: str,
    registration_token: str | None,
    tool: ToolDescription,
    transport: Transport,
    *,
    allow_http: bool = False,
) -> Registration:
    """Run the whole exchange: read and check the configuration, register, read the answer."""
    check_url("openid_configuration URL", config_url, allow_http=allow_http)
    token = registration_token or None
    # Canvas wants the token on this GET too; Moodle ignores it there.
    status, content_type, body = transport.get(config_url, token)
    document = _json("the configuration request", config_url, status, content_type, body)
    platform = parse_platform_configuration(document, config_url, allow_http=allow_http)
    endpoint = platform.registration_endpoint
    status, content_type, body = transport.post_json(
        endpoint, registration_request(tool, platform), token
    )
    if status in (400, 401, 403, 409, 422):
        raise _refused(endpoint, status, content_type, body)
    answer = _json("the registration", endpoint, status, content_type, body)
    return parse_registration_response(answer, platform)
