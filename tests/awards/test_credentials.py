"""The signed OpenBadgeCredential, checked by code we did not write (joserfc for the JWS,
jsonschema for the OB 3.0 shape), and our verifier's verdicts: valid, revoked, unknown,
tampered, key-unknown."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest
from joserfc import jwt as jose_jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from capacity_lti.awards.credentials import (
    OB_CONTEXT,
    VC_CONTEXT,
    Outcome,
    document_of,
    subject_id,
    verify_document,
    verify_jwt,
    verify_upload,
)
from capacity_lti.awards.status_list import decode_list, is_set
from capacity_lti.content import Programme
from capacity_lti.lti.keys import KeyRing
from capacity_lti.storage import Database
from capacity_lti.storage.award_credentials import (
    award_view,
    revoked_indexes,
    signed_credential,
    status_of,
    stored_credential,
)
from capacity_lti.storage.awards import get_award, issue_due_awards, revoke_award
from capacity_lti.storage.keys import KeyStore, list_keys, rotate
from tests.awards.conftest import BASE_URL, ISSUER, add_learner
from tests.awards.ob30 import SCHEMA


def _issue_path_certificate(db: Database, programme: Programme, name: str = "Ana Novak") -> str:
    learner = add_learner(db, name=name)
    with db.session() as session:
        issued = issue_due_awards(
            session,
            learner_id=learner,
            programme=programme,
            completed_item_ids=set(programme.path("decision-makers").items),
        )
    return issued[-1].public_id


def _sign(
    db: Database, programme: Programme, ring: KeyRing, public_id: str, lang: str = "fr"
) -> str:
    signed = signed_credential(
        db,
        public_id,
        programme=programme,
        signing=ring.signing,
        jwks=ring.jwks(),
        base_url=BASE_URL,
        language=lang,
    )
    assert signed is not None
    return signed[1]


def _status(db: Database):  # type: ignore[no-untyped-def]
    def lookup(public_id: str) -> Outcome:
        with db.session() as session:
            return status_of(session, public_id)

    return lookup


def _stored(db: Database):  # type: ignore[no-untyped-def]
    def lookup(public_id: str) -> tuple[Outcome, dict[str, Any] | None]:
        with db.session() as session:
            return stored_credential(session, public_id)

    return lookup


def test_an_independent_jose_library_verifies_the_credential_against_the_jwks(
    db: Database, climate: Programme, ring: KeyRing
) -> None:
    public_id = _issue_path_certificate(db, climate)
    token = _sign(db, climate, ring, public_id)
    decoded = jose_jwt.decode(token, KeySet.import_key_set(ring.jwks()), algorithms=["RS256"])
    assert decoded.header == {"alg": "RS256", "kid": ring.signing.kid, "typ": "vc+jwt"}
    claims = decoded.claims
    assert claims["iss"] == f"{BASE_URL}/verify/issuers/climate-action"
    assert claims["jti"] == claims["id"] == f"{BASE_URL}/verify/{public_id}"
    assert claims["sub"] == subject_id(public_id, ISSUER, "42")
    assert claims["nbf"] == int(
        datetime.fromisoformat(claims["validFrom"].replace("Z", "+00:00")).timestamp()
    )
    assert "exp" not in claims
    # Another key (not the tool's) must not verify it: the check above is a real one.
    other = KeySet.generate_key_set("RSA", 2048, count=1)
    other.keys[0].ensure_kid()
    with pytest.raises((BadSignatureError, ValueError)):
        jose_jwt.decode(token, other.keys[0], algorithms=["RS256"])


def test_the_credential_has_the_open_badges_3_shape_in_the_learners_language(
    db: Database, climate: Programme, ring: KeyRing
) -> None:
    public_id = _issue_path_certificate(db, climate)
    credential = document_of(
        jose_jwt.decode(
            _sign(db, climate, ring, public_id), KeySet.import_key_set(ring.jwks())
        ).claims
    )
    jsonschema.Draft202012Validator(
        SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(credential)
    assert credential["@context"] == [VC_CONTEXT, OB_CONTEXT]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"] == {
        "id": f"{BASE_URL}/verify/issuers/climate-action",
        "type": ["Profile"],
        "name": "Réseau européen d'apprentissage local pour le climat",
    }
    subject = credential["credentialSubject"]
    achievement = subject["achievement"]
    assert achievement["name"] == "Attestation pour les élus"
    assert achievement["achievementType"] == "Certificate"
    assert achievement["inLanguage"] == "fr"
    assert achievement["criteria"]["narrative"] == (
        "A terminé tous les modules et événements du parcours « Pour les élus » du programme "
        "« Action locale pour le climat et l'énergie »."
    )
    assert achievement["description"].startswith("Les huit modules pour débuter")
    assert subject["identifier"] == [
        {
            "type": "IdentityObject",
            "identityType": "name",
            "hashed": False,
            "identityHash": "Ana Novak",
        }
    ]
    assert subject["result"] == [
        {"type": ["Result"], "resultDescription": f"{achievement['id']}#points", "value": "8"}
    ]
    status = credential["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusListCredential"] == f"{BASE_URL}/verify/status/1"
    # Nothing about the LMS: neither its address nor the learner's account appears.
    text = json.dumps(credential)
    assert ISSUER not in text
    assert '"42"' not in text
    assert "moodle" not in text


def test_a_learner_without_a_name_has_no_identifier(
    db: Database, climate: Programme, ring: KeyRing
) -> None:
    public_id = _issue_path_certificate(db, climate, name="")
    token = _sign(db, climate, ring, public_id)
    subject = jose_jwt.decode(token, KeySet.import_key_set(ring.jwks())).claims["credentialSubject"]
    assert "identifier" not in subject


def test_signing_is_done_once_and_the_same_credential_is_served_after(
    db: Database, climate: Programme, ring: KeyRing
) -> None:
    public_id = _issue_path_certificate(db, climate)
    first = _sign(db, climate, ring, public_id, lang="sv")
    assert _sign(db, climate, ring, public_id, lang="fr") == first  # language fixed at first
    assert "Intyg för förtroendevalda" in json.dumps(
        jose_jwt.decode(first, KeySet.import_key_set(ring.jwks())).claims, ensure_ascii=False
    )


def test_valid_revoked_and_unknown(db: Database, climate: Programme, ring: KeyRing) -> None:
    public_id = _issue_path_certificate(db, climate)
    token = _sign(db, climate, ring, public_id)
    valid = verify_jwt(token, ring.jwks(), BASE_URL, _status(db))
    assert (valid.outcome, valid.public_id) == (Outcome.VALID, public_id)
    assert valid.reason == "the signature is valid and the award has not been revoked"
    # Issued by this tool's key but for another tool's address: not an award of ours.
    elsewhere = verify_jwt(token, ring.jwks(), "https://other.example.org", _status(db))
    assert elsewhere.outcome is Outcome.UNKNOWN
    revoke_award(db, public_id, "issued by mistake")
    revoked = verify_jwt(token, ring.jwks(), BASE_URL, _status(db))
    assert revoked.outcome is Outcome.REVOKED
    assert revoked.reason == "the signature is valid but the issuer has revoked the award"
    with db.session() as session:
        indexes = revoked_indexes(session)
    assert len(indexes) == 1


def _tamper(token: str, change: dict[str, Any]) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(change)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_a_tampered_credential_is_reported_as_tampered(
    db: Database, climate: Programme, ring: KeyRing
) -> None:
    public_id = _issue_path_certificate(db, climate)
    token = _sign(db, climate, ring, public_id)
    forged = _tamper(token, {"name": "Diploma in everything"})
    result = verify_jwt(forged, ring.jwks(), BASE_URL, _status(db))
    assert (result.outcome, result.reason) == (
        Outcome.TAMPERED,
        "the signature does not match the content",
    )
    with pytest.raises(BadSignatureError):  # the independent library agrees
        jose_jwt.decode(forged, KeySet.import_key_set(ring.jwks()))
    assert verify_jwt("not a jwt", ring.jwks(), BASE_URL, _status(db)).outcome is Outcome.TAMPERED
    none_alg = "eyJhbGciOiJub25lIn0." + token.split(".")[1] + "."
    assert verify_jwt(none_alg, ring.jwks(), BASE_URL, _status(db)).reason == (
        "the credential is not signed with RS256"
    )


def test_a_key_no_longer_in_the_jwks_is_key_unknown_and_a_download_re_signs(
    db: Database, climate: Programme, ring: KeyRing
) -> None:
    public_id = _issue_path_certificate(db, climate)
    old = _sign(db, climate, ring, public_id)
    rotate(db)
    later = KeyStore(db, timedelta(hours=1)).ring()  # the old key is still published for an hour
    assert verify_jwt(old, later.jwks(), BASE_URL, _status(db)).outcome is Outcome.VALID
    gone = KeyRing(list_keys(db), datetime.now(UTC) + timedelta(hours=2), timedelta(hours=1))
    assert len(gone.jwks()["keys"]) == 1
    result = verify_jwt(old, gone.jwks(), BASE_URL, _status(db))
    assert result.outcome is Outcome.KEY_UNKNOWN
    assert result.reason == (
        "the credential was signed with a key this tool no longer publishes; "
        "check it by its address, or download a fresh copy"
    )
    fresh = _sign(db, climate, gone, public_id)
    assert fresh != old
    assert verify_jwt(fresh, gone.jwks(), BASE_URL, _status(db)).outcome is Outcome.VALID
    before = jose_jwt.decode(old, KeySet.import_key_set(ring.jwks())).claims
    after = jose_jwt.decode(fresh, KeySet.import_key_set(gone.jwks())).claims
    assert before == after  # the same credential, signed again


def test_a_json_copy_is_checked_against_the_issued_credential(
    db: Database, climate: Programme, ring: KeyRing
) -> None:
    public_id = _issue_path_certificate(db, climate)
    token = _sign(db, climate, ring, public_id)
    document = document_of(jose_jwt.decode(token, KeySet.import_key_set(ring.jwks())).claims)
    as_json = json.dumps(document).encode()
    assert verify_upload(as_json, ring.jwks(), BASE_URL, _stored(db)).outcome is Outcome.VALID
    assert (
        verify_upload(token.encode(), ring.jwks(), BASE_URL, _stored(db)).outcome is Outcome.VALID
    )
    changed = {**document, "name": "Diploma in everything"}
    result = verify_document(changed, BASE_URL, _stored(db))
    assert (result.outcome, result.reason) == (
        Outcome.TAMPERED,
        "the content differs from the credential the tool issued",
    )
    unknown = {**document, "id": f"{BASE_URL}/verify/AAAAAAAAAAAAAAAAAAAAAA"}
    assert verify_document(unknown, BASE_URL, _stored(db)).outcome is Outcome.UNKNOWN
    assert (
        verify_upload(b"\xff\xfe", ring.jwks(), BASE_URL, _stored(db)).outcome is Outcome.TAMPERED
    )
    assert (
        verify_upload(b"{nope", ring.jwks(), BASE_URL, _stored(db)).reason
        == "the file is not valid JSON"
    )
    revoke_award(db, public_id, "x")
    assert verify_upload(as_json, ring.jwks(), BASE_URL, _stored(db)).outcome is Outcome.REVOKED


def test_the_status_list_sets_exactly_the_revoked_bits() -> None:
    from capacity_lti.awards.status_list import encode_list

    bits = decode_list(encode_list([3, 131_071]))
    assert len(bits) == 131_072 // 8
    assert [i for i in range(131_072) if is_set(bits, i)] == [3, 131_071]
    assert len(decode_list(encode_list([131_072]))) == 2 * 131_072 // 8
    assert not any(decode_list(encode_list([])))


def test_removing_the_platform_keeps_awards_verifiable(
    db: Database, climate: Programme, ring: KeyRing
) -> None:
    from capacity_lti.storage.platforms import remove_platform

    public_id = _issue_path_certificate(db, climate, name="Tõnu Õunapuu")
    token = _sign(db, climate, ring, public_id)
    remove_platform(db, ISSUER)  # deletes its learners
    award = get_award(db, public_id)
    assert (award.learner_id, award.learner_name) == (None, "Tõnu Õunapuu")
    assert verify_jwt(token, ring.jwks(), BASE_URL, _status(db)).outcome is Outcome.VALID
    found = award_view(db, public_id, programme=climate, base_url=BASE_URL)
    assert found is not None
    assert found[1].learner_name == "Tõnu Õunapuu"
    assert _sign(db, climate, ring, public_id) == token  # already signed: served as it was
