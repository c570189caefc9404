"""The verification pages and the learner's downloads, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import lxml.html
import pytest
import requests
from flask import render_template_string
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet
from sqlalchemy import update
from werkzeug.serving import make_server

from capacity_lti.awards.credentials import document_of
from capacity_lti.awards.status_list import decode_list, is_set
from capacity_lti.content import Programme
from capacity_lti.settings import Settings
from capacity_lti.storage import Database
from capacity_lti.storage.awards import AwardRecord, issue_due_awards, revoke_award
from capacity_lti.storage.tables import ToolKey
from capacity_lti.web import create_app
from capacity_lti.web.services import services
from capacity_lti.web.session import LearnerSession, encode
from capacity_lti.web.verify import learner_awards
from tests.awards.conftest import add_learner
from tests.awards.test_diploma_pdf import pdf_text
from tests.conftest import KEY_RECHECK_SECONDS, rotate_keys


@dataclass
class Tool:
    url: str
    db: Database
    secret: bytes

    def token(self, learner_id: int, locale: str = "fr_ca") -> str:
        session = LearnerSession(
            platform_id=1,
            learner_id=learner_id,
            resource_link_id=None,
            locale=locale,
            roles=("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",),
            instructor=False,
            deep_linking=None,
            expires_at=int(time.time()) + 600,
            launched_at=int(time.time()),
        )
        return encode(session, self.secret)


def serve(settings: Settings, climate: Programme) -> Iterator[Tool]:
    app = create_app(settings, programme=climate)
    # A stand-in for a learner page that includes the awards list.
    app.add_url_rule(
        "/test/awards",
        "test_awards",
        lambda: render_template_string(
            '{% include "verify/_awards.html" %}', awards=learner_awards()
        ),
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with app.app_context():
        found = services()
        yield Tool(f"http://127.0.0.1:{server.server_port}", found.db, found.session_secret)
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def tool(database_url: str, tmp_path: Path, climate: Programme) -> Iterator[Tool]:
    settings = Settings(
        database_url=database_url, instance_path=tmp_path, key_recheck_seconds=KEY_RECHECK_SECONDS
    )
    yield from serve(settings, climate)


def _certificate(tool: Tool, programme: Programme, name: str = "Ștefania Țurcanu") -> AwardRecord:
    learner = add_learner(tool.db, subject="lms-user-7f3a", name=name, email="stefania@example.org")
    with tool.db.session() as session:
        issued = issue_due_awards(
            session,
            learner_id=learner,
            programme=programme,
            completed_item_ids=set(programme.path("decision-makers").items),
        )
    return issued[-1]


def _download(tool: Tool, award: AwardRecord, fmt: str) -> requests.Response:
    return requests.get(
        f"{tool.url}/awards/{award.public_id}.{fmt}",
        params={"s": tool.token(award.learner_id)},
        timeout=10,
    )


def test_the_public_page_and_json_show_only_what_the_diploma_shows(
    tool: Tool, climate: Programme
) -> None:
    award = _certificate(tool, climate)
    page = requests.get(f"{tool.url}/verify/{award.public_id}", timeout=10)
    assert page.status_code == 200
    assert 'data-status="valid"' in page.text
    for shown in (
        "Ștefania Țurcanu",
        "Certificate for elected members",
        "For mayors and councillors",
        "European Local Climate Learning Network",
    ):
        assert shown in page.text
    for hidden in ("moodle.example.org", "lms-user-7f3a", "stefania@example.org"):
        assert hidden not in page.text
    data = requests.get(f"{tool.url}/verify/{award.public_id}.json", timeout=10).json()
    assert data == {
        "id": f"{tool.url}/verify/{award.public_id}",
        "status": "valid",
        "revoked_at": None,
        "kind": "path-certificate",
        "title": "Certificate for elected members",
        "learner_name": "Ștefania Țurcanu",
        "programme": "Local climate and energy action",
        "path": "For mayors and councillors",
        "points": 8,
        "issued_on": award.issued_at.date().isoformat(),
        "issuer": "European Local Climate Learning Network",
        "language": "en",
    }
    missing = requests.get(f"{tool.url}/verify/AAAAAAAAAAAAAAAAAAAAAA", timeout=10)
    assert missing.status_code == 404
    assert 'data-status="unknown"' in missing.text
    missing_json = requests.get(f"{tool.url}/verify/AAAAAAAAAAAAAAAAAAAAAA.json", timeout=10)
    assert (missing_json.status_code, missing_json.json()) == (
        404,
        {"id": "AAAAAAAAAAAAAAAAAAAAAA", "status": "unknown"},
    )


def test_downloads_need_the_learners_own_session(tool: Tool, climate: Programme) -> None:
    award = _certificate(tool, climate)
    anonymous = requests.get(f"{tool.url}/awards/{award.public_id}.jwt", timeout=10)
    assert anonymous.status_code == 401
    other = add_learner(tool.db, subject="99", name="Someone Else")
    stranger = requests.get(
        f"{tool.url}/awards/{award.public_id}.pdf", params={"s": tool.token(other)}, timeout=10
    )
    assert stranger.status_code == 404


def test_the_downloaded_jwt_verifies_against_the_published_jwks(
    tool: Tool, climate: Programme, tmp_path: Path
) -> None:
    award = _certificate(tool, climate)
    token = _download(tool, award, "jwt")
    assert token.status_code == 200
    assert token.headers["Content-Type"] == "application/vc+jwt"
    assert token.headers["Content-Disposition"] == (
        f'attachment; filename="path-certificate-{award.public_id}.jwt"'
    )
    jwks = requests.get(f"{tool.url}/.well-known/jwks.json", timeout=10).json()
    claims = jose_jwt.decode(token.text, KeySet.import_key_set(jwks), algorithms=["RS256"]).claims
    assert claims["id"] == f"{tool.url}/verify/{award.public_id}"
    assert claims["credentialSubject"]["achievement"]["name"] == "Attestation pour les élus"
    as_json = _download(tool, award, "json")
    assert as_json.json() == document_of(claims)
    pdf = _download(tool, award, "pdf")
    assert pdf.headers["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content, tmp_path)
    assert "Ștefania Țurcanu" in text
    assert "Attestation pour les élus" in text  # the learner's language, fixed at first download
    assert f"{tool.url}/verify/{award.public_id}" in text


def _check(tool: Tool, **form: Any) -> str:
    files = {"file": ("credential.jwt", form.pop("file"))} if "file" in form else None
    response = requests.post(f"{tool.url}/verify/", data=form, files=files, timeout=10)
    assert response.status_code == 200
    start = response.text.index('data-status="') + len('data-status="')
    return response.text[start : response.text.index('"', start)]


def test_uploaded_credentials_are_checked_and_revocation_shows_everywhere(
    tool: Tool, climate: Programme
) -> None:
    award = _certificate(tool, climate)
    token = _download(tool, award, "jwt").text
    document = _download(tool, award, "json").text
    assert _check(tool, file=token.encode()) == "valid"
    assert _check(tool, credential=document) == "valid"
    header, payload, signature = token.split(".")
    assert _check(tool, credential=f"{header}.{payload[:-4]}AAAA.{signature}") == "tampered"
    assert (
        _check(tool, credential=document.replace("Attestation pour les élus", "Diplôme"))
        == "tampered"
    )
    api = requests.post(f"{tool.url}/verify/check.json", data=token, timeout=10).json()
    assert api == {
        "status": "valid",
        "reason": "the signature is valid and the award has not been revoked",
        "id": award.public_id,
    }
    empty = requests.post(f"{tool.url}/verify/", data={"credential": " "}, timeout=10)
    assert empty.status_code == 400
    assert "Choose a .jwt or .json credential file (at most 64 KB)." in empty.text

    revoke_award(tool.db, award.public_id, "issued by mistake")
    page = requests.get(f"{tool.url}/verify/{award.public_id}", timeout=10).text
    assert 'data-status="revoked"' in page
    assert "issued by mistake" not in page  # the reason is for the record, not the public
    assert (
        requests.get(f"{tool.url}/verify/{award.public_id}.json", timeout=10).json()["status"]
        == "revoked"
    )
    assert _check(tool, file=token.encode()) == "revoked"
    assert _check(tool, credential=document) == "revoked"

    status = requests.get(f"{tool.url}/verify/status/1", timeout=10)
    assert status.headers["Content-Type"] == "application/vc+jwt"
    jwks = requests.get(f"{tool.url}/.well-known/jwks.json", timeout=10).json()
    listed = jose_jwt.decode(status.text, KeySet.import_key_set(jwks)).claims
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    claims = json.loads(json.dumps(jose_jwt.decode(token, KeySet.import_key_set(jwks)).claims))
    index = int(claims["credentialStatus"]["statusListIndex"])
    bits = decode_list(listed["credentialSubject"]["encodedList"])
    assert [i for i in range(len(bits) * 8) if is_set(bits, i)] == [index]


def test_the_issuer_profile_is_published(tool: Tool, climate: Programme) -> None:
    profile = requests.get(f"{tool.url}/verify/issuers/climate-action", timeout=10)
    assert profile.json() == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"{tool.url}/verify/issuers/climate-action",
        "type": ["Profile"],
        "name": "European Local Climate Learning Network",
    }
    assert requests.get(f"{tool.url}/verify/issuers/other", timeout=10).status_code == 404


def test_openbadgeslib_accepts_the_credential_and_reads_its_revocation_from_the_status_list(
    tool: Tool, climate: Programme
) -> None:
    """A second independent OB 3.0 implementation (PyPI openbadgeslib): it checks the
    contexts, the structure, the registered claims, and fetches and verifies our signed
    Bitstring Status List over HTTP. (It verifies signatures with PyJWT, as we sign with
    it; the independent signature check is joserfc's, above.)"""
    from openbadgeslib.ob3 import OB3VerificationError, OB3Verifier

    award = _certificate(tool, climate)
    token = _download(tool, award, "jwt").text
    jwks = requests.get(f"{tool.url}/.well-known/jwks.json", timeout=10).json()
    key = KeySet.import_key_set(jwks).keys[0]
    pem = key.as_pem(private=False)

    def download(url: str) -> bytes:
        assert url == f"{tool.url}/verify/status/1"
        return requests.get(url, timeout=10).content

    verifier = OB3Verifier(pem)
    credential = verifier.verify(token, check_status=True, download=download)
    assert credential.id == f"{tool.url}/verify/{award.public_id}"
    assert credential.achievement.achievement_type == "Certificate"
    revoke_award(tool.db, award.public_id, "issued by mistake")
    with pytest.raises(OB3VerificationError) as revoked:
        verifier.verify(token, check_status=True, download=download)
    assert str(revoked.value) == (
        f"Credential status 'revocation' is set at index {award.id} in {tool.url}/verify/status/1"
    )


def test_a_learner_page_lists_the_learners_awards_with_working_links(
    tool: Tool, climate: Programme
) -> None:
    award = _certificate(tool, climate)
    other = add_learner(tool.db, subject="99", name="Someone Else")
    assert (
        requests.get(
            f"{tool.url}/test/awards", params={"s": tool.token(other)}, timeout=10
        ).text.strip()
        == ""
    )
    page = requests.get(
        f"{tool.url}/test/awards", params={"s": tool.token(award.learner_id)}, timeout=10
    )
    root = lxml.html.fromstring(page.text)
    items = root.xpath("//section[@class='awards']/ul/li")
    assert len(items) == 9  # the path certificate and eight module certificates
    assert items[0].xpath("string(strong)") == "Certificate: Certificate for elected members"
    links = {a.text_content(): a.get("href") for a in items[0].xpath(".//a")}
    assert links["verification page"] == f"/verify/{award.public_id}"
    pdf = requests.get(urljoin(tool.url, links["PDF"]), timeout=10)
    assert (pdf.status_code, pdf.headers["Content-Type"]) == (200, "application/pdf")
    token = requests.get(urljoin(tool.url, links["Open Badge (.jwt)"]), timeout=10)
    assert token.text.count(".") == 2


def test_the_public_check_refuses_large_bodies(tool: Tool) -> None:
    big = b"x" * (200 * 1024)
    assert requests.post(f"{tool.url}/verify/check.json", data=big, timeout=10).status_code == 413
    assert (
        requests.post(f"{tool.url}/verify/", files={"file": ("a.jwt", big)}, timeout=10).status_code
        == 413
    )


def test_a_key_rotation_applies_without_a_restart(
    tool: Tool, climate: Programme, database_url: str
) -> None:
    """`keys rotate` while the app runs: new credentials and the status list are signed with
    the new key; once the old key leaves the JWKS, old copies check as key-unknown and a new
    download re-signs."""
    award = _certificate(tool, climate)
    old = _download(tool, award, "jwt").text
    new_kid = rotate_keys(database_url)
    jwks = requests.get(f"{tool.url}/.well-known/jwks.json", timeout=10).json()
    assert [k["kid"] for k in jwks["keys"]] == [
        jose_jwt.decode(old, KeySet.import_key_set(jwks)).header["kid"],
        new_kid,
    ]
    status = requests.get(f"{tool.url}/verify/status/1", timeout=10).text
    assert jose_jwt.decode(status, KeySet.import_key_set(jwks)).header["kid"] == new_kid
    assert _check(tool, credential=old) == "valid"  # the old key is still published
    other = add_learner(tool.db, subject="77", name="Jan Kowalski")
    with tool.db.session() as session:
        (fresh,) = issue_due_awards(
            session, learner_id=other, programme=climate, completed_item_ids={"waste-beginner"}
        )
    token = _download(tool, fresh, "jwt").text
    assert jose_jwt.decode(token, KeySet.import_key_set(jwks)).header["kid"] == new_kid
    with tool.db.session() as session:  # the retention period is over for the old key
        session.execute(
            update(ToolKey)
            .where(ToolKey.kid != new_kid)
            .values(retired_at=datetime.now(UTC) - timedelta(days=1))
        )
    time.sleep(KEY_RECHECK_SECONDS)
    assert _check(tool, credential=old) == "key-unknown"
    again = _download(tool, award, "jwt").text
    assert again != old
    assert jose_jwt.decode(again, KeySet.import_key_set(jwks)).header["kid"] == new_kid
    assert _check(tool, credential=again) == "valid"


def test_credentials_use_the_public_url_when_it_is_set(
    database_url: str, tmp_path: Path, climate: Programme
) -> None:
    settings = Settings(
        database_url=database_url, instance_path=tmp_path, public_url="https://tool.example.org"
    )
    for tool in serve(settings, climate):
        award = _certificate(tool, climate)
        token = _download(tool, award, "jwt").text
        jwks = requests.get(f"{tool.url}/.well-known/jwks.json", timeout=10).json()
        claims = jose_jwt.decode(token, KeySet.import_key_set(jwks)).claims
        assert claims["id"] == f"https://tool.example.org/verify/{award.public_id}"
        assert claims["credentialStatus"]["statusListCredential"] == (
            "https://tool.example.org/verify/status/1"
        )
        assert _check(tool, credential=token) == "valid"
