"""LTI Deep Linking 2.0, the tool's side: read the request's settings, build and sign the response.

An instructor adding the tool to a course gets an LtiDeepLinkingRequest; the tool shows
what can be placed (the programme home and each module) and answers with a signed
LtiDeepLinkingResponse of `ltiResourceLink` items. Moodle refuses any launch URL not
byte-identical to the registered one, so every item carries the registered launch URL
and says which module it opens in the custom parameter `module`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt

from capacity_lti.content.model import Programme, pick
from capacity_lti.errors import LaunchError
from capacity_lti.lti.keys import SigningKey

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
SETTINGS_CLAIM = DL + "deep_linking_settings"
RESOURCE_LINK = "ltiResourceLink"
RESPONSE = "LtiDeepLinkingResponse"
HOME = "_home"
LIFETIME = 600  # seconds a response stays valid: long enough for a slow LMS page
_ASK_ADMIN = "Please ask your LMS administrator to check the tool's registration."


@dataclass(frozen=True)
class DeepLinkingSettings:
    """The deep_linking_settings claim of a verified LtiDeepLinkingRequest."""

    return_url: str
    accept_types: tuple[str, ...]
    accept_multiple: bool
    accept_lineitem: bool | None  # None: the platform did not say
    data: Any = None

    @classmethod
    def from_claim(cls, claim: object) -> DeepLinkingSettings:
        """Read the claim; LaunchError when it cannot be answered."""
        if not isinstance(claim, Mapping):
            raise LaunchError(
                "no-deep-linking-settings",
                "The LMS asked to add an activity but sent no deep-linking settings. " + _ASK_ADMIN,
            )
        url = claim.get("deep_link_return_url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("https", "http") or not parts.netloc:
            raise LaunchError(
                "no-deep-link-return-url",
                "The LMS did not say where to send the chosen activities. " + _ASK_ADMIN,
            )
        types = claim.get("accept_types")
        lineitem = claim.get("accept_lineitem")
        return cls(
            return_url=str(url),
            accept_types=tuple(str(t) for t in types) if isinstance(types, list) else (),
            accept_multiple=claim.get("accept_multiple") is not False,
            accept_lineitem=lineitem if isinstance(lineitem, bool) else None,
            data=claim.get("data"),
        )

    @property
    def accepts_links(self) -> bool:
        return RESOURCE_LINK in self.accept_types


@dataclass(frozen=True)
class Choice:
    """Something an instructor can place: the programme home (module_id None) or a module.

    `title_language` and `text_language` are the tags the two were found in along the
    fallback chain (for the page's `lang` attributes).
    """

    module_id: str | None
    title: str
    text: str
    points: int
    minutes: int
    title_language: str = ""
    text_language: str = ""

    @property
    def key(self) -> str:
        """The form value naming this choice ('_home' can be no module's id)."""
        return self.module_id or HOME


def _found_in(texts: Mapping[str, str], chain: Sequence[str]) -> str:
    return next((tag for tag in chain if tag in texts), "")


def choices(programme: Programme, language: str) -> list[Choice]:
    """The programme home, then every module in programme order, in `language` (with fallback)."""
    chain = programme.chain(language)
    found = [
        Choice(
            module_id=None,
            title=pick(programme.title, chain),
            text=pick(programme.description, chain),
            points=programme.points_possible(),
            minutes=sum(i.minutes for i in programme.items()),
            title_language=_found_in(programme.title, chain),
            text_language=_found_in(programme.description, chain),
        )
    ]
    found += [
        Choice(
            module_id=m.id,
            title=pick(m.title, chain),
            text=pick(m.summary, chain),
            points=m.points,
            minutes=m.minutes,
            title_language=_found_in(m.title, chain),
            text_language=_found_in(m.summary, chain),
        )
        for m in programme.modules.values()
    ]
    return found


def content_item(
    choice: Choice, launch_url: str, settings: DeepLinkingSettings, resource_id: str
) -> dict[str, Any]:
    """One ltiResourceLink item: registered launch URL, module in `custom`, maybe a line item."""
    item: dict[str, Any] = {
        "type": RESOURCE_LINK,
        "title": choice.title,
        "url": launch_url,
    }
    if choice.text:
        item["text"] = choice.text
    if choice.module_id is not None:
        item["custom"] = {"module": choice.module_id}
    # accept_lineitem absent means "no assumption" (Moodle sends none yet reads lineItem);
    # only an explicit false says line items would be ignored.
    if settings.accept_lineitem is not False and choice.points > 0:
        item["lineItem"] = {
            "scoreMaximum": choice.points,
            "label": choice.title,
            "resourceId": choice.module_id or resource_id,
        }
    return item


def response_claims(
    *,
    client_id: str,
    issuer: str,
    deployment_id: str,
    settings: DeepLinkingSettings,
    items: Sequence[Mapping[str, Any]],
    now: int,
    nonce: str | None = None,
) -> dict[str, Any]:
    """The LtiDeepLinkingResponse claims; `data` is echoed exactly when the request had it."""
    if not settings.accepts_links and items:
        raise LaunchError(
            "links-not-accepted",
            "This place in the LMS does not accept activity links (ltiResourceLink), "
            "so the tool cannot add modules here. Add the tool from the course's activity chooser.",
        )
    if len(items) > 1 and not settings.accept_multiple:
        raise LaunchError(
            "one-item-only", "The LMS accepts one activity here: please choose only one."
        )
    claims: dict[str, Any] = {
        "iss": client_id,
        "aud": issuer,
        "iat": now,
        "exp": now + LIFETIME,
        "nonce": nonce or secrets.token_urlsafe(24),
        LTI + "message_type": RESPONSE,
        LTI + "version": "1.3.0",
        LTI + "deployment_id": deployment_id,
        DL + "content_items": [dict(i) for i in items],
    }
    if settings.data is not None:
        claims[DL + "data"] = settings.data
    return claims


def sign(claims: Mapping[str, Any], key: SigningKey) -> str:
    """The response JWT, RS256 with the tool's active key (its `kid` in the header)."""
    return jwt.encode(dict(claims), key.private_key, algorithm="RS256", headers={"kid": key.kid})
