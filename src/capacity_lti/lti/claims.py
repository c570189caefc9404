"""What the tool reads from a verified launch: person, roles, locale, link, context, services.

Names and email are optional (a platform may send no PII); roles may be full LIS URIs or
the deprecated short names ("Instructor"); the locale comes only from
`launch_presentation.locale`, as Moodle's `pt_br` or Canvas's `pt-BR`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from capacity_lti.errors import LaunchError
from capacity_lti.lti.idtoken import DEEP_LINKING, LTI

AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
_TEACHING = {"Instructor", "Administrator", "ContentDeveloper", "Mentor"}
_MODULE_PATH = re.compile(r"/modules/([a-z0-9][a-z0-9-]{0,63})/?$")
_SUBTAG = re.compile(r"^[A-Za-z0-9]{1,8}$")


def normalise_locale(value: object) -> str | None:
    """BCP 47 from `en`, `pt_br`, `pt-BR`, `zh_hant_tw`; None when it is not a language tag."""
    if not isinstance(value, str):
        return None
    parts = re.split(r"[-_]", value.strip())
    if (
        not parts
        or not re.fullmatch(r"[A-Za-z]{2,3}", parts[0])
        or not all(_SUBTAG.match(p) for p in parts[1:])
    ):
        return None
    tag = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            tag.append(part.title())
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            tag.append(part.upper())
        else:
            tag.append(part.lower())
    return "-".join(tag)


def is_teaching_role(role: str) -> bool:
    """A context role that may configure the tool: Instructor (and sub-roles), admin, designer."""
    if role.startswith(MEMBERSHIP):
        name = role[len(MEMBERSHIP) :]
    elif role.startswith("http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#"):
        return True
    elif ":" in role or "/" in role:
        return False  # system or institution roles say nothing about this course
    else:
        name = role  # deprecated short form, e.g. "Instructor"
    return name in _TEACHING


def _text(claims: Mapping[str, Any], *path: str) -> str:
    value: Any = claims
    for key in path:
        if not isinstance(value, Mapping):
            return ""
        value = value.get(key)
    return value if isinstance(value, str) else ""


def _optional(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class LaunchClaims:
    """The parts of a verified id_token the tool stores or routes by."""

    issuer: str
    subject: str
    message_type: str
    deployment_id: str
    name: str
    email: str
    locale: str | None
    roles: tuple[str, ...]
    instructor: bool
    target_link_uri: str
    custom: dict[str, str]
    link_id: str | None
    link_title: str
    context_id: str
    context_title: str
    ags_lineitem: str | None
    ags_lineitems: str | None
    ags_scopes: tuple[str, ...]
    nrps_url: str | None
    deep_linking: dict[str, Any] | None

    def module_id(self) -> str | None:
        """The module to open: custom parameter `module`, else a `/modules/<id>` target path."""
        module = self.custom.get("module", "").strip()
        if module:
            return module
        match = _MODULE_PATH.search(urlsplit(self.target_link_uri).path)
        return match.group(1) if match else None


def parse_claims(claims: Mapping[str, Any]) -> LaunchClaims:
    """Read a verified id_token's claims (idtoken.verify_id_token checked the required ones)."""
    roles = tuple(str(r) for r in claims.get(LTI + "roles", []) if isinstance(r, str) and r)
    name = _text(claims, "name") or " ".join(
        p for p in (_text(claims, "given_name"), _text(claims, "family_name")) if p
    )
    custom_claim = claims.get(LTI + "custom")
    custom = (
        {str(k): str(v) for k, v in custom_claim.items() if isinstance(v, str | int | float)}
        if isinstance(custom_claim, Mapping)
        else {}
    )
    ags = claims.get(AGS) if isinstance(claims.get(AGS), Mapping) else {}
    scopes = ags.get("scope", []) if isinstance(ags, Mapping) else []
    deep_linking = None
    if claims.get(LTI + "message_type") == DEEP_LINKING:
        settings = claims.get(DEEP_LINKING_SETTINGS)
        if not isinstance(settings, Mapping) or not _optional(settings.get("deep_link_return_url")):
            raise LaunchError(
                "no-deep-linking-settings",
                "The content-selection request does not say where to return the selection. "
                "Please ask your LMS administrator to check the tool's registration.",
            )
        deep_linking = dict(settings)
    return LaunchClaims(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        message_type=str(claims[LTI + "message_type"]),
        deployment_id=str(claims[LTI + "deployment_id"]),
        name=name,
        email=_text(claims, "email"),
        locale=normalise_locale(_text(claims, LTI + "launch_presentation", "locale")),
        roles=roles,
        instructor=any(is_teaching_role(r) for r in roles),
        target_link_uri=_text(claims, LTI + "target_link_uri"),
        custom=custom,
        link_id=_optional(_text(claims, LTI + "resource_link", "id")),
        link_title=_text(claims, LTI + "resource_link", "title"),
        context_id=_text(claims, LTI + "context", "id"),
        context_title=_text(claims, LTI + "context", "title"),
        ags_lineitem=_optional(ags.get("lineitem")) if isinstance(ags, Mapping) else None,
        ags_lineitems=_optional(ags.get("lineitems")) if isinstance(ags, Mapping) else None,
        ags_scopes=tuple(s for s in scopes if isinstance(s, str))
        if isinstance(scopes, list)
        else (),
        nrps_url=_optional(_text(claims, NRPS, "context_memberships_url")),
        deep_linking=deep_linking,
    )
