"""Blueprint `verify`: public verification of awards, and the learner's downloads.

Public (no LMS login): `/verify/<id>` (page) and `/verify/<id>.json` show valid, revoked
or unknown with exactly what the diploma shows; `/verify/` checks an uploaded `.jwt` or
`.json` credential (signature against the tool's JWKS, then status); `/verify/status/1`
is the signed Bitstring Status List; `/verify/issuers/<programme>` the issuer profile.

Learner only (the session of a launch): `/awards/<id>.jwt|.json|.pdf`, for the learner
who holds the award; anyone else gets 404, as for an id that does not exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, url_for

from capacity_lti.awards.credentials import (
    MEDIA_TYPE,
    Verification,
    document_of,
    sign,
    unverified_payload,
    verify_upload,
    verify_url,
)
from capacity_lti.awards.diploma_pdf import DiplomaView, diploma_view, render_pdf
from capacity_lti.awards.status_list import status_list_credential
from capacity_lti.content.languages import negotiate
from capacity_lti.content.model import pick
from capacity_lti.storage.award_credentials import (
    award_view,
    revoked_indexes,
    signed_credential,
    stored_credential,
)
from capacity_lti.storage.awards import AwardRecord
from capacity_lti.storage.awards import learner_awards as awards_of
from capacity_lti.web.services import services
from capacity_lti.web.session import current_session, session_url

blueprint = Blueprint("verify", __name__)
MAX_UPLOAD = 64 * 1024
_NO_STORE = {"Cache-Control": "no-store"}


def _base() -> str:
    """The tool's public address: the `public_url` setting, else this request's."""
    return (services().settings.public_url or request.url_root).rstrip("/")


def _view(public_id: str) -> tuple[AwardRecord, DiplomaView] | None:
    app = services()
    return award_view(app.db, public_id, programme=app.programme, base_url=_base())


def _public(record: AwardRecord, view: DiplomaView) -> dict[str, Any]:
    """The JSON form of the verification page: the diploma's contents and the status."""
    return {
        "id": view.verify_url,
        "status": "revoked" if record.revoked_at else "valid",
        "revoked_at": record.revoked_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if record.revoked_at
        else None,
        "kind": record.kind.value,
        "title": view.title,
        "learner_name": view.learner_name,
        "programme": view.programme_title,
        "path": view.path_title or None,
        "points": view.points,
        "issued_on": record.issued_at.date().isoformat(),
        "issuer": view.organisation,
        "language": view.language,
    }


@blueprint.get("/verify/<public_id>")
def page(public_id: str) -> tuple[str, int, dict[str, str]]:
    found = _view(public_id)
    if found is None:
        return render_template("verify/unknown.html", public_id=public_id), 404, _NO_STORE
    record, view = found
    return (
        render_template("verify/page.html", record=record, view=view, lang=view.language),
        200,
        _NO_STORE,
    )


@blueprint.get("/verify/<public_id>.json")
def page_json(public_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    found = _view(public_id)
    if found is None:
        return {"id": public_id, "status": "unknown"}, 404, _NO_STORE
    return _public(*found), 200, _NO_STORE


def _check(data: bytes) -> Verification:
    app = services()
    with app.db.session() as session:
        return verify_upload(
            data,
            app.keys.ring().jwks(),
            _base(),
            lambda public_id: stored_credential(session, public_id),
        )


def _uploaded() -> bytes | None:
    upload = request.files.get("file")
    data = upload.read(MAX_UPLOAD + 1) if upload is not None and upload.filename else b""
    if not data:
        data = request.form.get("credential", "").encode("utf-8")
    if not data.strip() or len(data) > MAX_UPLOAD:
        return None
    return data


@blueprint.before_request
def _limit_uploads() -> None:
    # The check is public: refuse large bodies (413) before they are read or spooled.
    request.max_content_length = MAX_UPLOAD + 16 * 1024


@blueprint.route("/verify/", methods=["GET", "POST"])
def check() -> tuple[str, int]:
    if request.method == "GET":
        return render_template("verify/check.html", result=None, error=None), 200
    data = _uploaded()
    if data is None:
        error = f"Choose a .jwt or .json credential file (at most {MAX_UPLOAD // 1024} KB)."
        return render_template("verify/check.html", result=None, error=error), 400
    result = _check(data)
    found = _view(result.public_id) if result.public_id else None
    view = found[1] if found is not None and result.outcome.value != "tampered" else None
    return render_template("verify/check.html", result=result, view=view, error=None), 200


@blueprint.post("/verify/check.json")
def check_json() -> tuple[dict[str, Any], int]:
    data = request.get_data(cache=False)[: MAX_UPLOAD + 1]
    if not data.strip() or len(data) > MAX_UPLOAD:
        return {"status": "unknown", "reason": "send a JWT or a JSON credential as the body"}, 400
    result = _check(data)
    return {"status": result.outcome.value, "reason": result.reason, "id": result.public_id}, 200


@blueprint.get("/verify/status/1")
def status_list() -> Response:
    app = services()
    with app.db.session() as session:
        revoked = revoked_indexes(session)
    document = status_list_credential(
        _base(), _issuer(app.programme.id), revoked, datetime.now(UTC)
    )
    response = Response(sign(document, app.keys.signing()), mimetype=MEDIA_TYPE)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _issuer(programme_id: str) -> dict[str, Any]:
    programme = services().programme
    chain = programme.chain(programme.default_language)
    return {
        "id": f"{_base()}/verify/issuers/{programme_id}",
        "type": ["Profile"],
        "name": pick(programme.organisation, chain) or pick(programme.title, chain),
    }


@blueprint.get("/verify/issuers/<programme_id>")
def issuer(programme_id: str) -> dict[str, Any]:
    if programme_id != services().programme.id:
        abort(404)
    return {"@context": ["https://www.w3.org/ns/credentials/v2"], **_issuer(programme_id)}


@dataclass(frozen=True)
class AwardLinks:
    """One of the learner's awards as their pages list it, with its download links."""

    kind_label: str
    title: str
    date: str
    revoked: bool
    pdf: str
    jwt: str
    json: str
    verify: str


def learner_awards() -> list[AwardLinks]:
    """The current learner's awards in this programme, newest first, with their downloads
    (`{% include "verify/_awards.html" %}` lists the page's `awards`)."""
    learner = current_session()
    app = services()
    with app.db.transaction() as connection:
        held = awards_of(connection, learner_id=learner.learner_id, programme_id=app.programme.id)
    found = []
    for record in reversed(held):
        view = diploma_view(
            app.programme,
            record.due,
            learner_name=record.learner_name,
            issued_at=record.issued_at,
            language=record.language,
            verify_url=verify_url(_base(), record.public_id),
        )
        links = {
            f: session_url("verify.download", public_id=record.public_id, fmt=f) for f in FORMATS
        }
        found.append(
            AwardLinks(
                kind_label=view.kind_label,
                title=view.title,
                date=view.date,
                revoked=record.revoked_at is not None,
                verify=url_for("verify.page", public_id=record.public_id),
                **links,
            )
        )
    return found


FORMATS = ("pdf", "jwt", "json")


@blueprint.get("/awards/<public_id>.<any(jwt, json, pdf):fmt>")
def download(public_id: str, fmt: str) -> Response:
    learner = current_session()
    app = services()
    found = _view(public_id)
    if found is None or found[0].learner_id != learner.learner_id:
        abort(404)
    # Signing first fixes the award's language (the learner's) for the PDF too.
    ring = app.keys.ring()  # one ring: the key it signs with is one the JWKS publishes
    signed = signed_credential(
        app.db,
        public_id,
        programme=app.programme,
        signing=ring.signing,
        jwks=ring.jwks(),
        base_url=_base(),
        language=negotiate(learner.locale, app.programme.languages, app.programme.default_language),
    )
    assert signed is not None
    record, token = signed
    name = f"{record.kind.value}-{public_id}.{fmt}"
    if fmt == "pdf":
        view = _view(public_id)
        assert view is not None
        response = Response(render_pdf(view[1]), mimetype="application/pdf")
    elif fmt == "jwt":
        response = Response(token, mimetype=MEDIA_TYPE)
    else:
        body = json.dumps(document_of(unverified_payload(token)), ensure_ascii=False, indent=2)
        response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
