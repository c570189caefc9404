"""The Moodle-shaped LMS of tests/ags with a Names and Role Provisioning endpoint, over HTTP.

Moodle serves a course's members at ``/mod/lti/services.php/CourseSection/<course>/bindings/
<type id>/memberships``: a case-sensitive path (a lowercased ``/coursesection/`` is a 404
here, as on Moodle). The body comes from PyPI ``lti1p3platform``'s
``NamesRoleProvisioningService`` (context, members, each with user_id and roles); this
adapter adds what the library does not: the bearer token must be one the token endpoint
issued and must carry the ``contextmembership.readonly`` scope (else 401 / 403), and pages
are linked with ``Link: <...>; rel="next"`` whose URL carries a mixed-case, single-purpose
``Cursor``, so a tool that changes the URL's case gets a 400.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from lti1p3platform.membership import Context
from lti1p3platform.service_connector import NamesRoleProvisioningService

from tests.ags.fake_lms import LINEITEM, LINEITEM_READ, SCORE, FakeMoodle, _Request, _send
from tests.ags.fake_lms import Running as ags_running
from tests.ags.fake_lms import make_handler as ags_handler

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEMBERSHIPS = re.compile(r"^/mod/lti/services\.php/CourseSection/(\d+)/bindings/(\d+)/memberships$")
LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"


def person(
    user_id: str, name: str, role: str = "Learner", status: str = "Active"
) -> dict[str, Any]:
    """A member as Moodle lists them (name parts and email included, as Moodle sends them)."""
    given, _, family = name.partition(" ")
    return {
        "user_id": user_id,
        "name": name,
        "given_name": given,
        "family_name": family,
        "email": f"{given.lower()}@example.org",
        "roles": [LIS + role],
        "status": status,
    }


class _Roster(NamesRoleProvisioningService):
    def __init__(self, lms: NrpsMoodle, request: _Request, course: int, url: str) -> None:
        super().__init__(request, lms.conf, url)
        self.lms, self.course = lms, course

    def get_member_data_page(  # type: ignore[override]
        self, page: int = 1, limit: int | None = None, **_: Any
    ) -> dict[str, Any]:
        members = self.lms.members.get(self.course, [])
        size = int(limit or self.lms.nrps_page_size)
        start = (int(page) - 1) * size
        return {
            "content": [dict(m) for m in members[start : start + size]],
            "has_next": start + size < len(members),
        }

    def get_context_by_id(self) -> Context:
        return Context(id=str(self.course), label=f"C{self.course}", title=f"Course {self.course}")


@dataclass
class NrpsMoodle(FakeMoodle):
    """FakeMoodle plus course members; `roster_requests` records every NRPS request URL."""

    granted: frozenset[str] = frozenset({SCORE, LINEITEM, LINEITEM_READ, NRPS_SCOPE})
    members: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    nrps_page_size: int = 2
    cursors: dict[str, int] = field(default_factory=dict)
    roster_requests: list[tuple[str, str]] = field(default_factory=list)  # (url, Accept)
    fail_roster: list[int] = field(default_factory=list)  # statuses to answer first

    def memberships_url(self, course: int = 2) -> str:
        return f"{self.base}/mod/lti/services.php/CourseSection/{course}/bindings/{self.type_id}/memberships"


def make_handler(lms: NrpsMoodle) -> type[Any]:
    base_handler = ags_handler(lms)

    class Handler(base_handler):  # type: ignore[misc,valid-type]
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            match = MEMBERSHIPS.match(parts.path)
            if match is None:
                return self._serve("GET")  # type: ignore[no-any-return]
            return self._memberships(int(match[1]), int(match[2]), parts.query)

        def _memberships(self, course: int, type_id: int, query_text: str) -> None:
            url = lms.base + self.path
            lms.roster_requests.append((url, self.headers.get("Accept", "")))
            if lms.fail_roster:
                status = lms.fail_roster.pop(0)
                return _send(self, status, {"message": "roster unavailable"}, {})
            scopes = self._bearer()
            if scopes is None or self._scope_refused(scopes, {NRPS_SCOPE}):
                return None
            if type_id != lms.type_id:
                return _send(self, 404, {"message": "No such tool binding"}, {})
            query = dict(parse_qsl(query_text))
            page = 1
            if "Cursor" in query:
                with lms.lock:
                    found = lms.cursors.pop(query["Cursor"], None)
                if found is None:
                    return _send(self, 400, {"message": "Invalid cursor"}, {})
                page = found
            request = _Request(
                {
                    "method": "GET",
                    "get_data": {"page": page, "limit": lms.nrps_page_size},
                    "form_data": {},
                    "headers": self._library_headers(),
                    "json": None,
                    "content_type": None,
                    "path": urlsplit(url).path,
                }
            )
            service = _Roster(lms, request, course, lms.memberships_url(course))
            with lms.lock:
                response = service.handle_resp(service.handle_get_members)
            if response.code != 200:
                return _send(self, response.code, {"message": response.message}, {})
            body = dict(response.result)
            headers = {"Content-Type": response.media_type}
            if body.pop("next", None):
                cursor = secrets.token_urlsafe(12) + "Aa"  # mixed case, whatever the draw
                with lms.lock:
                    lms.cursors[cursor] = page + 1
                following = (
                    lms.memberships_url(course)
                    + "?"
                    + urlencode({"limit": lms.nrps_page_size, "Cursor": cursor})
                )
                headers["Link"] = f'<{following}>; rel="next"'
            return _send(self, 200, body, headers)

    return Handler


class Running(ags_running):
    """An NrpsMoodle on 127.0.0.1:<free port> until `stop()`."""

    handler_for = staticmethod(make_handler)


__all__ = ["NRPS_SCOPE", "NrpsMoodle", "Running", "person"]
