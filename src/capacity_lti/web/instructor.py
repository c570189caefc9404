"""The instructor's pages: the course roster with each learner's progress, and event attendance.

Only a session launched with a teaching role gets in (others: a 403 page). Everything is
scoped to the session's own platform and the LTI context of its link: the roster comes
from the course's Names and Role Provisioning service when the launch offered one, else
it lists the learners who have opened the tool from this course. Attendance is a POST
that must carry the session token itself (a cookie alone is refused, as on the learner
pages), recorded only for learners of this course.
"""

from __future__ import annotations

import logging
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask.blueprints import BlueprintSetupState
from werkzeug.wrappers import Response

from capacity_lti.awards.points import total_earned
from capacity_lti.content import Event, Programme, negotiate
from capacity_lti.errors import LaunchError, ServiceError
from capacity_lti.lti.nrps import NrpsClient
from capacity_lti.lti.service_token import ServiceTokens
from capacity_lti.storage import attendance as attendance_store
from capacity_lti.storage import roster
from capacity_lti.web import learner_view as view
from capacity_lti.web.learner import gettext
from capacity_lti.web.services import EXTENSION as SERVICES
from capacity_lti.web.services import Services, services
from capacity_lti.web.session import FIELD, HEADER, LearnerSession, current_session, session_url
from capacity_lti.web.translations import ui_language

blueprint = Blueprint("instructor", __name__, url_prefix="/instructor")
log = logging.getLogger("capacity_lti.web")
EXTENSION = "capacity_lti.instructor"
_PAGE_POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'"
)


@blueprint.record_once
def _install(state: BlueprintSetupState) -> None:
    """One token cache per app: NRPS tokens are reused until they expire."""
    svc: Services = state.app.extensions[SERVICES]
    state.app.extensions[EXTENSION] = ServiceTokens(
        svc.keys.signing, timeout=svc.settings.delivery_timeout_seconds
    )


@blueprint.after_request
def _policy(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", _PAGE_POLICY)
    return response


def _instructor() -> LearnerSession:
    session = current_session()
    if not session.instructor:
        log.info("refused reason=not-instructor %s %s", request.method, request.path)
        abort(
            403,
            description=gettext(
                "This page is for the course's instructors. Your role in this course does not "
                "give access to it."
            ),
        )
    return session


def _language(session: LearnerSession) -> view.Language:
    programme = services().programme
    content = negotiate(session.locale, programme.languages, programme.default_language)
    return view.Language(ui_language(session.locale), programme.chain(content))


@dataclass(frozen=True)
class Listing:
    """The course's learners, where the list came from, and why NRPS failed (if it did)."""

    course: roster.Course
    rows: list[roster.RosterRow]
    from_nrps: bool
    problem: str | None


def _listing(session: LearnerSession) -> Listing:
    svc = services()
    course = roster.course_of(svc.db, session.platform_id, session.resource_link_id)
    if course.nrps_url is None:
        return Listing(course, roster.launched_roster(svc.db, course), False, None)
    tokens: ServiceTokens = current_app.extensions[EXTENSION]
    try:
        with closing(NrpsClient(tokens, timeout=svc.settings.delivery_timeout_seconds)) as nrps:
            found = nrps.roster(course.endpoint, course.nrps_url)
        if found.context_id is not None and found.context_id != course.context_id:
            raise ServiceError(
                f"course roster at {course.nrps_url} is for course {found.context_id!r}, "
                f"not this course ({course.context_id!r})",
                retryable=False,
            )
    except ServiceError as error:
        log.warning("roster from NRPS failed for platform %d: %s", course.platform_id, error)
        return Listing(course, roster.launched_roster(svc.db, course), False, error.message)
    return Listing(course, roster.sync_roster(svc.db, course, found.members), True, None)


def _render(template: str, session: LearnerSession, listing: Listing, **context: Any) -> str:
    programme = services().programme
    language = _language(session)
    return render_template(
        template,
        lang=language.tag,
        language=language,
        programme=programme,
        listing=listing,
        modules=len(programme.modules),
        events=[programme.events[e] for e in programme.events],
        possible=programme.points_possible(),
        earned=lambda row: total_earned(programme, row.completed),
        done_modules=lambda row: sum(1 for i in row.completed if i in programme.modules),
        done_events=lambda row: sum(1 for i in row.completed if i in programme.events),
        attended=lambda event_id: sum(1 for row in listing.rows if event_id in row.completed),
        labels=view.LABELS,
        **context,
    )


def _event(programme: Programme, event_id: str) -> Event:
    found = programme.events.get(event_id)
    if found is None:
        raise LaunchError("unknown-module", gettext("This event is not part of the programme."))
    return found


@blueprint.get("/")
def roster_page() -> str:
    session = _instructor()
    return _render("instructor/roster.html", session, _listing(session))


@blueprint.get("/events/<event_id>")
def event(event_id: str) -> str:
    session = _instructor()
    found = _event(services().programme, event_id)
    recorded = request.args.get("recorded", "")
    return _render(
        "instructor/event.html",
        session,
        _listing(session),
        event=found,
        recorded=int(recorded) if recorded.isdigit() else None,
    )


@blueprint.post("/events/<event_id>/attendance")
def attendance(event_id: str) -> Response:
    if not (request.form.get(FIELD) or request.headers.get(HEADER)):
        raise LaunchError(
            "no-session",
            gettext(
                "This form was sent without its session. Open the activity again from your course."
            ),
        )
    session = _instructor()
    svc = services()
    _event(svc.programme, event_id)
    values = request.form.getlist("learner")
    if not all(v.isdigit() for v in values):
        abort(400, description=gettext("The form named a learner the tool does not know."))
    course = roster.course_of(svc.db, session.platform_id, session.resource_link_id)
    recorded = attendance_store.record_attendance(
        svc.db, course, svc.programme, event_id, [int(v) for v in values]
    )
    log.info(
        "attendance event=%s platform=%d context=%s recorded=%d of %d",
        event_id,
        course.platform_id,
        course.context_id,
        len(recorded),
        len(values),
    )
    location = session_url("instructor.event", event_id=event_id, recorded=len(recorded))
    return Response(status=303, headers={"Location": location})
