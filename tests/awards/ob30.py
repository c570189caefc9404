"""A JSON Schema of the OpenBadgeCredential shape, written from the Open Badges 3.0
specification's required fields (no package ships 1EdTech's official schema).

Required by the spec (OB 3.0, data model section): AchievementCredential/OpenBadgeCredential
needs @context (VC 2.0 first, then the OB context), id, type (with VerifiableCredential and
OpenBadgeCredential), name, issuer (a Profile: id, type), validFrom (date-time) and
credentialSubject (AchievementSubject: type, achievement); an Achievement needs id, type,
criteria (narrative or id), description and name; an IdentityObject needs type, hashed,
identityHash, identityType; a credentialStatus needs id and type. additionalProperties
stay open, as in the spec.
"""

from __future__ import annotations

from typing import Any

IRI = {"type": "string", "pattern": "^[a-zA-Z][a-zA-Z0-9+.-]*:.+"}
DATETIME = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$",
}


def _types(*required: str) -> dict[str, Any]:
    """`type`: an array holding each of `required` (a lone type may also be a string)."""
    array = {"type": "array", "allOf": [{"contains": {"const": t}} for t in required]}
    return {"anyOf": [array, {"const": required[0]}]} if len(required) == 1 else array


SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["@context", "id", "type", "name", "issuer", "validFrom", "credentialSubject"],
    "properties": {
        "@context": {
            "type": "array",
            "minItems": 2,
            "prefixItems": [
                {"const": "https://www.w3.org/ns/credentials/v2"},
                {
                    "type": "string",
                    "pattern": "^https://purl\\.imsglobal\\.org/spec/ob/v3p0/context(-3\\.0\\.[0-9]+)?\\.json$",
                },
            ],
        },
        "id": IRI,
        "type": _types("VerifiableCredential", "OpenBadgeCredential"),
        "name": {"type": "string", "minLength": 1},
        "issuer": {
            "type": "object",
            "required": ["id", "type"],
            "properties": {"id": IRI, "type": _types("Profile"), "name": {"type": "string"}},
        },
        "validFrom": DATETIME,
        "validUntil": DATETIME,
        "credentialSubject": {
            "type": "object",
            "required": ["type", "achievement"],
            "properties": {
                "id": IRI,
                "type": _types("AchievementSubject"),
                "identifier": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["type", "hashed", "identityHash", "identityType"],
                        "properties": {
                            "type": {"const": "IdentityObject"},
                            "hashed": {"type": "boolean"},
                            "identityHash": {"type": "string"},
                            "identityType": {"type": "string"},
                        },
                    },
                },
                "achievement": {
                    "type": "object",
                    "required": ["id", "type", "criteria", "description", "name"],
                    "properties": {
                        "id": IRI,
                        "type": _types("Achievement"),
                        "criteria": {
                            "type": "object",
                            "anyOf": [{"required": ["narrative"]}, {"required": ["id"]}],
                            "properties": {"narrative": {"type": "string", "minLength": 1}},
                        },
                        "description": {"type": "string", "minLength": 1},
                        "name": {"type": "string", "minLength": 1},
                    },
                },
            },
        },
        "credentialStatus": {
            "type": "object",
            "required": ["id", "type"],
            "properties": {"id": IRI, "type": {"type": "string"}},
        },
        "credentialSchema": {
            "type": "array",
            "items": {"type": "object", "required": ["id", "type"]},
        },
    },
}
