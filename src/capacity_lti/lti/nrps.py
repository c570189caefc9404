"""Names and Role Provisioning Services 2.0: the members of the course a link was launched in.

The launch's ``namesroleservice`` claim names a ``context_memberships_url``; the tool GETs it
with a bearer token for the ``contextmembership.readonly`` scope and follows the pages the
platform links with ``Link: <...>; rel="next"``. Next-page URLs are used byte for byte:
PyLTI1p3 2.0.0 lowercases the Link header before reading it, which turns Moodle's
``/CourseSection/`` path (and any case-sensitive page cursor) into a URL the platform does
not know. A next page on another origin is refused (the bearer token must not leave the
platform), and at most :data:`MAX_PAGES` pages are read. Errors are
:class:`~capacity_lti.errors.ServiceError` with the URL and what the LMS said.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from capacity_lti.errors import ServiceError
from capacity_lti.lti.claims import MEMBERSHIP
from capacity_lti.lti.service_http import ServiceClient
from capacity_lti.lti.service_token import TokenEndpoint

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEMBERSHIP_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_PAGES = 100
_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")
_REL = re.compile(r'(?i)^\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))\s*$')


@dataclass(frozen=True)
class Member:
    """One person in the course as the platform lists them (``user_id`` is their LTI ``sub``)."""

    user_id: str
    name: str
    email: str
    roles: tuple[str, ...]
    status: str  # Active | Inactive | Deleted

    @property
    def learner(self) -> bool:
        """Whether one of the member's roles in this course is Learner."""
        return any(
            r in ("Learner", MEMBERSHIP + "Learner") or r.startswith(MEMBERSHIP[:-1] + "/Learner#")
            for r in self.roles
        )


@dataclass(frozen=True)
class Roster:
    """Every member on every page, and the course the platform says the list is for."""

    context_id: str | None
    context_title: str
    members: tuple[Member, ...]
    pages: int


def next_page(header: str | None, current: str) -> str | None:
    """The ``rel="next"`` target of a Link header, resolved against `current`, case kept."""
    for match in _LINK.finditer(header or ""):
        for param in match.group(2).split(";"):
            rel = _REL.match(param)
            if rel and "next" in (rel.group(1) or rel.group(2) or "").lower().split():
                return urljoin(current, str(match.group(1)).strip())
    return None


def _text(document: Mapping[str, Any], key: str) -> str:
    value = document.get(key)
    return value if isinstance(value, str) else ""


def _member(entry: object) -> Member | None:
    if not isinstance(entry, Mapping) or not _text(entry, "user_id"):
        return None  # NRPS requires user_id: an entry without one names nobody
    roles = entry.get("roles")
    name = _text(entry, "name") or " ".join(
        p for p in (_text(entry, "given_name"), _text(entry, "family_name")) if p
    )
    return Member(
        user_id=_text(entry, "user_id"),
        name=name,
        email=_text(entry, "email"),
        roles=tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else (),
        status=_text(entry, "status") or "Active",
    )


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class NrpsClient(ServiceClient):
    """NRPS calls over one keep-alive session (not shared between threads)."""

    refused_hint = (
        ": check that the tool's registration on the platform allows Names and Role Provisioning"
    )
    refused_retryable = False

    def roster(self, endpoint: TokenEndpoint, url: str) -> Roster:
        """Every member of the course at `url`, page after page."""
        origin = _origin(url)
        members: list[Member] = []
        context: Mapping[str, Any] = {}
        seen: set[str] = set()
        page: str | None = url
        while page is not None:
            if page in seen:
                break  # a platform linking back to a page already read
            if len(seen) == MAX_PAGES:
                raise ServiceError(
                    f"course roster at {url}: more than {MAX_PAGES} pages; the tool reads no more",
                    retryable=False,
                )
            seen.add(page)
            response = self._call(
                endpoint,
                (NRPS_SCOPE,),
                "GET",
                page,
                f"course roster at {page}",
                headers={"Accept": MEMBERSHIP_TYPE},
            )
            try:
                document = response.json()
            except ValueError:
                document = None
            if not isinstance(document, dict) or not isinstance(document.get("members"), list):
                raise ServiceError(
                    f"course roster at {page}: the answer is not an NRPS membership container "
                    "(a JSON object with a members list)",
                    retryable=False,
                    status=response.status_code,
                )
            if isinstance(document.get("context"), dict) and not context:
                context = document["context"]
            members += [m for m in map(_member, document["members"]) if m is not None]
            following = next_page(response.headers.get("Link"), page)
            if following is not None and _origin(following) != origin:
                raise ServiceError(
                    f"course roster at {page}: the next page {following} is on another site; "
                    "the tool does not send the platform's token there",
                    retryable=False,
                )
            page = following
        return Roster(
            context_id=_text(context, "id") or None,
            context_title=_text(context, "title"),
            members=tuple(members),
            pages=len(seen),
        )
