"""Open Badges 3.0 credentials: build an `OpenBadgeCredential`, sign it as a JWT, verify one.

Format (Open Badges 3.0 section 8.2, "VC-JWT", on the W3C VC data model 2.0): the JWT
payload *is* the credential, with the registered claims beside it that OB 3.0 asks for:
`iss` = issuer.id, `jti` = id, `sub` = credentialSubject.id, `nbf` = validFrom. The JOSE
header is `{"alg": "RS256", "kid": <tool key id>, "typ": "vc+jwt"}`; the key is the
tool's own signing key, published at the tool's JWKS URL. There is no `exp`: a diploma
does not expire, it can only be revoked.

Learner identity: `credentialSubject.id` is `urn:capacity-lti:learner:<sha256 hex>` over
the award's public id, the platform issuer and the LTI `sub` (see :func:`subject_id`):
whoever knows the learner's platform account (the learner, the platform) can recompute
it, nobody else learns the account from it, and two awards of one learner are not
linkable through it. The name the platform sent appears as an OB `IdentityObject` of
type `name`.

Revocation: `credentialStatus` is a W3C Bitstring Status List entry whose list (a signed
credential) the tool serves at `<tool>/verify/status/1`; the tool's own check reads the
award record instead (:func:`verify_jwt` takes the lookup as a function).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import jwt

from capacity_lti.awards.rules import AwardKind
from capacity_lti.lti.keys import SigningKey

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
MEDIA_TYPE = "application/vc+jwt"
STATUS_LIST_PATH = "/verify/status/1"
JWT_CLAIMS = ("iss", "jti", "sub", "nbf")
_ACHIEVEMENT_TYPE = {
    AwardKind.DIPLOMA: "Diploma",
    AwardKind.PATH_CERTIFICATE: "Certificate",
    AwardKind.MODULE_CERTIFICATE: "CertificateOfCompletion",
}


def subject_id(public_id: str, platform_issuer: str, lti_sub: str) -> str:
    """The learner's identifier in one credential (privacy: see the module docstring)."""
    digest = hashlib.sha256("\n".join((public_id, platform_issuer, lti_sub)).encode()).hexdigest()
    return f"urn:capacity-lti:learner:{digest}"


def verify_url(base_url: str, public_id: str) -> str:
    return f"{base_url.rstrip('/')}/verify/{public_id}"


@dataclass(frozen=True)
class CredentialFacts:
    """Everything one credential states."""

    public_id: str
    base_url: str  # the tool's public URL, e.g. https://tool.example.org
    programme_id: str
    award_key: str
    kind: AwardKind
    issuer_name: str
    name: str  # the achievement's name (the diploma's title)
    description: str
    narrative: str
    language: str
    points: int
    points_label: str
    subject_id: str
    learner_name: str  # "" when the platform sent none
    valid_from: datetime
    status_index: int


def build_credential(facts: CredentialFacts) -> dict[str, Any]:
    """The OpenBadgeCredential (a JSON-LD document) for `facts`."""
    base = facts.base_url.rstrip("/")
    achievement_id = f"{base}/verify/achievements/{facts.programme_id}/{facts.award_key}"
    points_id = f"{achievement_id}#points"
    subject: dict[str, Any] = {
        "id": facts.subject_id,
        "type": ["AchievementSubject"],
        "achievement": {
            "id": achievement_id,
            "type": ["Achievement"],
            "achievementType": _ACHIEVEMENT_TYPE[facts.kind],
            "name": facts.name,
            "description": facts.description,
            "criteria": {"narrative": facts.narrative},
            "inLanguage": facts.language,
            "resultDescription": [
                {
                    "id": points_id,
                    "type": ["ResultDescription"],
                    "name": facts.points_label,
                    "resultType": "RawScore",
                }
            ],
        },
        "result": [
            {"type": ["Result"], "resultDescription": points_id, "value": str(facts.points)}
        ],
    }
    if facts.learner_name:
        subject["identifier"] = [
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": facts.learner_name,
            }
        ]
    status_list = f"{base}{STATUS_LIST_PATH}"
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": verify_url(base, facts.public_id),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": facts.name,
        "issuer": {
            "id": f"{base}/verify/issuers/{facts.programme_id}",
            "type": ["Profile"],
            "name": facts.issuer_name,
        },
        "validFrom": facts.valid_from.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentialSubject": subject,
        "credentialStatus": {
            "id": f"{status_list}#{facts.status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(facts.status_index),
            "statusListCredential": status_list,
        },
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }


def sign(document: Mapping[str, Any], key: SigningKey) -> str:
    """`document` (a credential) as a compact JWS with the OB 3.0 registered claims."""
    valid_from = datetime.fromisoformat(str(document["validFrom"]).replace("Z", "+00:00"))
    payload = {
        **document,
        "iss": document["issuer"]["id"],
        "jti": document["id"],
        "sub": document["credentialSubject"]["id"],
        "nbf": int(valid_from.timestamp()),
    }
    headers = {"kid": key.kid, "typ": "vc+jwt"}
    return jwt.encode(payload, key.private_key, algorithm="RS256", headers=headers)


def unverified_payload(token: str) -> dict[str, Any]:
    """The payload of a JWT we signed ourselves (read from our own database)."""
    found: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return found


def unverified_kid(token: str) -> str | None:
    kid = jwt.get_unverified_header(token).get("kid")
    return kid if isinstance(kid, str) else None


def document_of(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The credential inside a signed payload: the payload without the JWT claims."""
    return {k: v for k, v in payload.items() if k not in JWT_CLAIMS}


class Outcome(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    UNKNOWN = "unknown"  # not a credential this tool issued, or no longer on record
    TAMPERED = "tampered"  # the signature or the content does not match
    KEY_UNKNOWN = "key-unknown"  # signed with a key the tool no longer publishes


@dataclass(frozen=True)
class Verification:
    outcome: Outcome
    reason: str
    public_id: str | None = None


StatusLookup = Callable[[str], Outcome]  # public id -> VALID | REVOKED | UNKNOWN


def public_id_of(credential_id: object, base_url: str) -> str | None:
    """The award's public id in a credential id `<base>/verify/<id>`; None for any other id."""
    prefix = f"{base_url.rstrip('/')}/verify/"
    if not isinstance(credential_id, str) or not credential_id.startswith(prefix):
        return None
    rest = credential_id[len(prefix) :]
    return rest if rest and all(c.isalnum() or c in "-_" for c in rest) else None


def _with_status(public_id: str | None, status: StatusLookup) -> Verification:
    if public_id is None:
        return Verification(Outcome.UNKNOWN, "the credential does not name an award of this tool")
    found = status(public_id)
    reasons = {
        Outcome.VALID: "the signature is valid and the award has not been revoked",
        Outcome.REVOKED: "the signature is valid but the issuer has revoked the award",
        Outcome.UNKNOWN: "the signature is valid but the award is not on record",
    }
    return Verification(found, reasons.get(found, str(found)), public_id)


def verify_jwt(
    token: str, jwks: Mapping[str, Any], base_url: str, status: StatusLookup
) -> Verification:
    """Check a JWT credential's signature against `jwks`, then its status."""
    token = token.strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        return Verification(Outcome.TAMPERED, "this is not a signed credential (JWT) at all")
    if header.get("alg") != "RS256":
        return Verification(Outcome.TAMPERED, "the credential is not signed with RS256")
    keys = {k.get("kid"): k for k in jwks.get("keys", ()) if isinstance(k, Mapping)}
    jwk = keys.get(header.get("kid"))
    if jwk is None:
        return Verification(
            Outcome.KEY_UNKNOWN,
            "the credential was signed with a key this tool no longer publishes; "
            "check it by its address, or download a fresh copy",
        )
    try:
        payload = jwt.decode(
            token,
            jwt.PyJWK(dict(jwk)).key,
            algorithms=["RS256"],
            options={"verify_aud": False, "require": list(JWT_CLAIMS)},
        )
    except jwt.InvalidSignatureError:
        return Verification(Outcome.TAMPERED, "the signature does not match the content")
    except jwt.InvalidTokenError as exc:
        return Verification(Outcome.TAMPERED, f"the credential is damaged: {exc}")
    if payload.get("jti") != payload.get("id") or payload.get("iss") != _issuer_id(payload):
        return Verification(Outcome.TAMPERED, "the JWT claims do not match the credential")
    return _with_status(public_id_of(payload.get("id"), base_url), status)


def _issuer_id(payload: Mapping[str, Any]) -> object:
    issuer = payload.get("issuer")
    return issuer.get("id") if isinstance(issuer, Mapping) else issuer


StoredLookup = Callable[[str], tuple[Outcome, "dict[str, Any] | None"]]


def verify_document(document: Any, base_url: str, stored: StoredLookup) -> Verification:
    """Check a credential given as JSON against the issuer's record of it.

    A JSON copy carries no signature: it is genuine when it equals, member for member,
    the credential the tool signed for that award. `stored(public_id)` returns the
    award's status and that credential (None when none was signed).
    """
    if not isinstance(document, Mapping):
        return Verification(Outcome.TAMPERED, "the file is not a credential (a JSON object)")
    public_id = public_id_of(document.get("id"), base_url)
    if public_id is None:
        return Verification(Outcome.UNKNOWN, "the credential does not name an award of this tool")
    outcome, signed = stored(public_id)
    if outcome is Outcome.UNKNOWN or signed is None:
        return Verification(Outcome.UNKNOWN, "no award with this id is on record", public_id)
    if json.dumps(document, sort_keys=True) != json.dumps(signed, sort_keys=True):
        return Verification(
            Outcome.TAMPERED, "the content differs from the credential the tool issued", public_id
        )
    return _with_status(public_id, lambda _: outcome)


def verify_upload(
    data: bytes, jwks: Mapping[str, Any], base_url: str, stored: StoredLookup
) -> Verification:
    """Check an uploaded `.jwt` or `.json` credential (decided by its content)."""
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return Verification(Outcome.TAMPERED, "the file is neither a JWT nor JSON")
    if not text.startswith("{"):
        return verify_jwt(text, jwks, base_url, lambda public_id: stored(public_id)[0])
    try:
        document = json.loads(text)
    except ValueError:
        return Verification(Outcome.TAMPERED, "the file is not valid JSON")
    return verify_document(document, base_url, stored)
