"""Reading verified claims: locale forms, roles, routing hints, optional PII, service URLs."""

from __future__ import annotations

from typing import Any

import pytest

from capacity_lti.errors import LaunchError
from capacity_lti.lti.claims import is_teaching_role, normalise_locale, parse_claims
from capacity_lti.lti.idtoken import LTI


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("pt_br", "pt-BR"),
        ("pt-BR", "pt-BR"),
        ("es_419", "es-419"),
        ("zh_hant_tw", "zh-Hant-TW"),
        ("sr-latn", "sr-Latn"),
        ("de-1996", "de-1996"),
        ("", None),
        ("e", None),
        ("en_", None),
        ("english-language", None),
        (42, None),
    ],
)
def test_normalise_locale(value: object, expected: str | None) -> None:
    assert normalise_locale(value) == expected


@pytest.mark.parametrize(
    ("role", "teaching"),
    [
        ("http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor", True),
        ("http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper", True),
        ("http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant", True),
        ("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner", False),
        ("http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator", False),
        ("http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator", False),
        ("Instructor", True),
        ("Learner", False),
        ("urn:lti:role:ims/lis/Instructor", False),
    ],
)
def test_teaching_roles(role: str, teaching: bool) -> None:
    assert is_teaching_role(role) is teaching


def _claims(**extra: Any) -> dict[str, Any]:
    return {
        "iss": "https://lms",
        "sub": "s1",
        LTI + "message_type": "LtiResourceLinkRequest",
        LTI + "deployment_id": "1",
        LTI + "roles": [],
        LTI + "resource_link": {"id": "r1"},
        **extra,
    }


def test_minimal_claims() -> None:
    claims = parse_claims(_claims())
    assert (claims.name, claims.email, claims.locale) == ("", "", None)
    assert (claims.ags_lineitem, claims.ags_lineitems, claims.ags_scopes, claims.nrps_url) == (
        None,
        None,
        (),
        None,
    )
    assert claims.module_id() is None


def test_module_id_from_custom_parameter_wins_over_the_path() -> None:
    claims = parse_claims(
        _claims(
            **{
                LTI + "custom": {"module": " waste-beginner ", "n": 3},
                LTI + "target_link_uri": "https://t/modules/water-beginner",
            }
        )
    )
    assert claims.module_id() == "waste-beginner"
    assert claims.custom == {"module": " waste-beginner ", "n": "3"}


@pytest.mark.parametrize(
    ("target", "module"),
    [
        ("https://tool/modules/water-beginner", "water-beginner"),
        ("https://tool/modules/water-beginner/", "water-beginner"),
        ("https://tool/modules/water-beginner?x=1", "water-beginner"),
        ("https://tool/launch", None),
        ("https://tool/modules/", None),
        ("https://tool/modules/Bad_Id", None),
    ],
)
def test_module_id_from_target_link_uri(target: str, module: str | None) -> None:
    assert parse_claims(_claims(**{LTI + "target_link_uri": target})).module_id() == module


def test_deep_linking_needs_its_return_url() -> None:
    with pytest.raises(LaunchError) as caught:
        parse_claims(_claims(**{LTI + "message_type": "LtiDeepLinkingRequest"}))
    assert caught.value.reason == "no-deep-linking-settings"


def test_wrongly_typed_optional_claims_are_ignored() -> None:
    claims = parse_claims(
        _claims(
            name=["x"],
            email=7,
            **{
                LTI + "launch_presentation": "en",
                LTI + "custom": ["module"],
                "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                    "lineitem": 5,
                    "scope": "score",
                },
            },
        )
    )
    assert (claims.name, claims.email, claims.locale, claims.custom) == ("", "", None, {})
    assert (claims.ags_lineitem, claims.ags_scopes) == (None, ())
