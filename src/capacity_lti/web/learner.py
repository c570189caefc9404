"""The learner's pages inside the LMS frame: programme home, modules, events, check, assessment.

Every page and form carries the session token (third-party cookies are blocked in the
frame); a POST must carry it explicitly in the form or the `X-Capacity-Session` header,
never only in a cookie, so another site cannot post on the learner's behalf. Progress is
read and written for the session's learner only.
"""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, abort, g, render_template, request, send_from_directory
from flask.blueprints import BlueprintSetupState
from markupsafe import Markup
from werkzeug.wrappers import Response

from capacity_lti.awards.points import Status, item_status, missing_prerequisites, total_earned
from capacity_lti.content import SECTIONS, Module, Programme, negotiate
from capacity_lti.errors import LaunchError
from capacity_lti.packaging.markup import prepare
from capacity_lti.storage import progress
from capacity_lti.web import learner_parts
from capacity_lti.web import learner_view as view
from capacity_lti.web.services import services
from capacity_lti.web.session import (
    FIELD,
    HEADER,
    LearnerSession,
    current_session,
    session_token,
    session_url,
)
from capacity_lti.web.translations import LANGUAGES, translations, ui_language
from capacity_lti.web.verify import learner_awards

blueprint = Blueprint(
    "learner", __name__, static_folder="static", static_url_path="/learner/static"
)
_PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; form-action 'self'; connect-src 'self'; base-uri 'none'"
)
_ACTIVE_TYPES = (
    "image/svg+xml",
    "text/html",
    "application/xhtml+xml",
    "text/xml",
    "application/xml",
)


def ui() -> str:
    """This request's UI language: the session locale's, when we have its words, else English."""
    session: LearnerSession | None = g.get("capacity_session")
    if session is None:
        return request.accept_languages.best_match(LANGUAGES) or "en"
    return ui_language(session.locale)


def gettext(message: str, **variables: Any) -> str:
    text = translations(ui()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(ui()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


@blueprint.record_once
def _install_i18n(state: BlueprintSetupState) -> None:
    env = state.app.jinja_env
    env.add_extension("jinja2.ext.i18n")
    cast(Any, env).install_gettext_callables(
        gettext=lambda message: translations(ui()).gettext(message),
        ngettext=lambda s, p, n: translations(ui()).ngettext(s, p, n),
        newstyle=True,
    )


@blueprint.after_request
def _policy(response: Response) -> Response:
    if request.endpoint != "learner.asset":
        response.headers.setdefault("Content-Security-Policy", _PAGE_POLICY)
    return response


def _language(session: LearnerSession) -> view.Language:
    """The page is in the UI language; authored text follows the programme's own chain."""
    programme = services().programme
    content = negotiate(session.locale, programme.languages, programme.default_language)
    return view.Language(ui_language(session.locale), programme.chain(content))


def _posting_session() -> LearnerSession:
    """The session of a POST, which must name its token itself (a cookie alone is refused)."""
    if not (request.form.get(FIELD) or request.headers.get(HEADER)):
        raise LaunchError(
            "no-session",
            gettext(
                "This form was sent without its session. Open the activity again from your course."
            ),
        )
    return current_session()


def _module(programme: Programme, module_id: str) -> Module:
    found = programme.modules.get(module_id)
    if found is None:
        raise LaunchError("unknown-module", gettext("This module is not part of the programme."))
    return found


def _graded_link(session: LearnerSession) -> int | None:
    """The link whose gradebook gets the score; none for an instructor trying the module out."""
    return None if session.instructor else session.resource_link_id


def _render(template: str, session: LearnerSession, **context: Any) -> str:
    language = _language(session)
    return render_template(
        template,
        lang=language.tag,
        language=language,
        programme=services().programme,
        labels=view.LABELS,
        **context,
    )


@blueprint.get("/home")
def home() -> str:
    """The programme home. Learners who have done the same (and hold no award, whose links
    are their own) see the same page but for their session token, so it is kept."""
    session = current_session()
    svc = services()
    record = progress.learner_progress(svc.db, session.learner_id)
    awards = learner_awards()
    language = _language(session)

    def render() -> str:
        row = learner_parts.rows(svc.programme, language)
        return _render(
            "learner/home.html",
            session,
            paths=view.paths(svc.programme, language, record, row),
            themes=view.catalogue(svc.programme, language, record, row),
            events=view.events(svc.programme, record, row),
            earned=total_earned(svc.programme, record.completed),
            possible=svc.programme.points_possible(),
            record=record,
            awards=awards,
        )

    if awards:
        return render()
    state = (
        record.completed,
        record.started,
        tuple(sorted(record.assessment.items())),
        record.recommended_path,
        session.instructor and session.resource_link_id is not None,  # the roster link
        "capacity_launched" in g,  # the launch's answer: it names its own address
    )
    return learner_parts.page(("home", language, state), render)


@blueprint.get("/modules/<module_id>")
def module(module_id: str) -> str:
    session = current_session()
    svc = services()
    found = _module(svc.programme, module_id)
    state = progress.module_state(svc.db, session.learner_id, module_id)
    record = progress.learner_progress(svc.db, session.learner_id)
    language = _language(session)
    blocks = learner_parts.sections(svc.programme, found, language, state.seen)
    questions = view.questions(found, language, state)
    return _render(
        "learner/module.html",
        session,
        module=found,
        state=state,
        sections=blocks,
        questions=questions,
        right=sum(1 for q in questions if q.right),
        total_blocks=sum(len(s.blocks) for s in blocks),
        seen_blocks=sum(1 for s in blocks for b in s.blocks if b.seen),
        resume=view.block_anchor(state.last_block) if state.last_block else None,
        status=item_status(module_id, record.completed, record.started),
        missing=[
            svc.programme.item(i)
            for i in missing_prerequisites(svc.programme, module_id, record.completed)
        ],
        theme=next(t for t in svc.programme.themes if t.id == found.theme),
        Status=Status,
    )


def _next_anchor(module: Module, section_key: str) -> str:
    keys = [s.key for s in SECTIONS if any(k in module.blocks for k in s.block_keys())]
    later = keys[keys.index(section_key) + 1 :]
    if later:
        return "s-" + later[0]
    return "check" if module.check is not None else "status"


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@blueprint.post("/modules/<module_id>/progress")
def save_progress(module_id: str) -> Response | dict[str, Any]:
    """Blocks seen (the `block` fields, or every block of `section`) and where to resume."""
    session = _posting_session()
    svc = services()
    found = _module(svc.programme, module_id)
    blocks = request.form.getlist("block")
    section = request.form.get("section")
    if section is not None:
        match = next((s for s in SECTIONS if s.key == section), None)
        if match is None:
            abort(400, description=gettext("There is no such section in this module."))
        blocks += [k for k in match.block_keys() if k in found.blocks]
    last = request.form.get("last") or (blocks[-1] if blocks else None)
    if any(b not in found.blocks for b in blocks) or (
        last is not None and last not in found.blocks
    ):
        abort(400, description=gettext("There is no such section in this module."))
    outcome = progress.mark_seen(
        svc.db,
        learner_id=session.learner_id,
        programme=svc.programme,
        module_id=module_id,
        blocks=blocks,
        last_block=last,
        resource_link_id=_graded_link(session),
        language=_language(session).chain[0],
    )
    if _wants_json():
        return {
            "seen": sorted(outcome.state.seen),
            "completed": outcome.state.completed_at is not None,
            "awarded": outcome.awarded,
            "token": session_token(),
        }
    anchor = _next_anchor(found, section) if section else view.block_anchor(last or "")
    return _see_other(session_url("learner.module", module_id=module_id, _anchor=anchor))


@blueprint.post("/modules/<module_id>/check")
def check(module_id: str) -> Response:
    session = _posting_session()
    svc = services()
    found = _module(svc.programme, module_id)
    if found.check is None:
        abort(404, description=gettext("This module has no knowledge check."))
    answers = {
        q.id: [int(v) for v in request.form.getlist(f"answer-{q.id}") if v.isdigit()]
        for q in found.check.questions
    }
    progress.submit_check(
        svc.db,
        learner_id=session.learner_id,
        programme=svc.programme,
        module_id=module_id,
        answers=answers,
        resource_link_id=_graded_link(session),
        language=_language(session).chain[0],
    )
    return _see_other(session_url("learner.module", module_id=module_id, _anchor="check"))


@blueprint.post("/assessment")
def assessment() -> Response:
    session = _posting_session()
    svc = services()
    if svc.programme.assessment is None:
        abort(404, description=gettext("This programme has no self-assessment."))
    answers = {
        q.id: request.form.get(f"question-{q.id}", "") for q in svc.programme.assessment.questions
    }
    progress.save_assessment(
        svc.db, learner_id=session.learner_id, programme=svc.programme, answers=answers
    )
    return _see_other(session_url("learner.home", _anchor="assessment"))


@blueprint.get("/events/<event_id>")
def event(event_id: str) -> str:
    session = current_session()
    svc = services()
    found = svc.programme.events.get(event_id)
    if found is None:
        raise LaunchError("unknown-module", gettext("This event is not part of the programme."))
    record = progress.learner_progress(svc.db, session.learner_id)
    language = _language(session)
    description, description_lang = language.pick(found.description)
    urls = learner_parts.asset_urls(svc.programme)
    return _render(
        "learner/event.html",
        session,
        event=found,
        description=Markup(prepare(description, urls)),  # noqa: S704 (sanitised)
        description_lang=description_lang,
        completed=event_id in record.completed,
    )


@blueprint.get("/content/<path:asset>")
def asset(asset: str) -> Response:
    """A file the programme's content links to (public: the same for every learner)."""
    programme = services().programme
    if asset not in programme.assets:
        abort(404)
    response = send_from_directory(programme.root, asset, max_age=3600)
    if response.mimetype in _ACTIVE_TYPES:
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


def _see_other(location: str) -> Response:
    return Response(status=303, headers={"Location": location})
