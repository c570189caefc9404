"""Deep Linking: the picker, and the signed LtiDeepLinkingResponse checked by independent parties.

The response is verified with PyJWT against the JWKS the tool serves over HTTP, and by PyPI
lti1p3platform's platform-side validation (it fetches the same JWKS itself).
"""

from __future__ import annotations

import html
import re
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.registration import Registration

from capacity_lti.errors import LaunchError
from capacity_lti.lti.deep_linking import (
    DeepLinkingSettings,
    choices,
    content_item,
    response_claims,
)
from capacity_lti.storage.platforms import (
    PlatformRecord,
    add_platform,
    list_platforms,
    remove_platform,
)
from capacity_lti.web.session import LearnerSession, issue_token
from tests.conftest import rotate_keys
from tests.registration.conftest import Tool
from tests.registration.moodle import FakeMoodle

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
ISSUER = "https://moodle.example.org"
CLIENT = "QzTGB2Lx8rV3Kc1"
RETURN = ISSUER + "/mod/lti/contentitem_return.php?course=2&id=1&sesskey=abc"


def moodle_settings(**changes: Any) -> dict[str, Any]:
    """The deep_linking_settings claim as Moodle 4.5 sends it."""
    claim: dict[str, Any] = {
        "deep_link_return_url": RETURN,
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["frame", "iframe", "window"],
        "accept_multiple": True,
        "auto_create": False,
        "title": "",
        "text": "",
        "data": "eyJ0eXBlIjoiY29udGVudCJ9",
    }
    claim.update(changes)
    return {k: v for k, v in claim.items() if v is not None}


def add_moodle(
    tool: Tool, issuer: str = ISSUER, deployments: tuple[str, ...] = ("1",)
) -> PlatformRecord:
    return add_platform(
        tool.db,
        issuer=issuer,
        client_id=CLIENT,
        auth_login_url=issuer + "/mod/lti/auth.php",
        auth_token_url=issuer + "/mod/lti/token.php",
        key_set_url=issuer + "/mod/lti/certs.php",
        deployment_ids=deployments,
    )


def token(
    tool: Tool,
    platform: PlatformRecord,
    *,
    instructor: bool = True,
    locale: str = "en",
    deep_linking: dict[str, Any] | None = None,
    deployment_id: str = "1",
) -> str:
    role = "membership#Instructor" if instructor else "membership#Learner"
    now = int(time.time())
    with tool.app.app_context():
        return issue_token(
            LearnerSession(
                platform_id=platform.id,
                learner_id=1,
                resource_link_id=None,
                locale=locale,
                roles=(LIS + role,),
                instructor=instructor,
                deep_linking=deep_linking,
                expires_at=now + 600,
                launched_at=now,
                deployment_id=deployment_id,
            )
        )


def fetch(url: str, data: dict[str, Any] | None = None) -> tuple[int, str, str]:
    """(status, Content-Security-Policy, page) of a GET, or of a form POST when `data` is given."""
    body = urlencode(data, doseq=True).encode() if data is not None else None
    try:
        with urllib.request.urlopen(url, body, timeout=20) as response:
            policy = response.headers.get("Content-Security-Policy", "")
            return response.status, policy, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Security-Policy", ""), error.read().decode()


def request(url: str, data: dict[str, Any] | None = None) -> tuple[int, str]:
    status, _, page = fetch(url, data)
    return status, page


def text(page: str) -> str:
    body = page.split("<main", 1)[-1].partition(">")[2]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def returned_form(page: str) -> tuple[str, str]:
    """(action, JWT) of the auto-posting return page."""
    action = re.search(r'<form id="return" method="post" action="([^"]*)">', page)
    jwt_field = re.search(r'<input type="hidden" name="JWT" value="([^"]*)">', page)
    assert action, page
    assert jwt_field, page
    return html.unescape(action.group(1)), html.unescape(jwt_field.group(1))


def tool_jwks(tool: Tool) -> jwt.PyJWKSet:
    with urllib.request.urlopen(f"{tool.url}/.well-known/jwks.json", timeout=10) as response:
        return jwt.PyJWKSet.from_json(response.read().decode())


# --- the picker -------------------------------------------------------------------


def test_the_picker_offers_the_home_and_every_module_in_the_teachers_language(tool: Tool) -> None:
    platform = add_moodle(tool)
    s = token(tool, platform, locale="fr", deep_linking=moodle_settings())
    status, policy, page = fetch(f"{tool.url}/deep-linking?s={s}")
    assert status == 200
    assert re.fullmatch(  # scripts: only those carrying the page's nonce (address.js)
        r"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
        r"form-action 'self'; script-src 'nonce-[\w-]{22}'",
        policy,
    )
    assert re.findall(r'<input type="(\w+)" name="item" value="([^"]+)"', page) == [
        ("checkbox", "_home"),
        ("checkbox", "lighting-beginner"),
        ("checkbox", "lighting-advanced"),
    ]
    shown = text(page)
    assert "Add to the course" not in shown  # the UI is in French too (translations/fr)
    assert "Programme de test 260 min · 7 points" in shown
    assert "Les bases de l'éclairage public 10 min · 2 points Why LED retrofits pay back." in shown
    assert "Advanced street lighting 10 min · 2 points Smart controls." in shown  # English fallback
    assert '<span lang="fr">Les bases de l&#39;éclairage public</span>' in page
    assert '<span lang="en">Advanced street lighting</span>' in page
    assert '<span class="meta" lang="en">Smart controls.</span>' in page


def test_a_single_choice_placement_gets_radio_buttons(tool: Tool) -> None:
    platform = add_moodle(tool)
    s = token(tool, platform, deep_linking=moodle_settings(accept_multiple=False))
    _, page = request(f"{tool.url}/deep-linking?s={s}")
    assert set(re.findall(r"<input type=\"(\w+)\" name=\"item\"", page)) == {"radio"}
    assert text(page).startswith(
        "Add to the course Choose the module to place here. One of 3 Programme home: Test "
        "programme 260 min · 7 points (all modules and events) Street lighting basics 10 min · "
        "2 points Why LED retrofits pay back."
    )


def test_students_are_refused_with_a_clear_page(tool: Tool) -> None:
    platform = add_moodle(tool)
    s = token(tool, platform, instructor=False, deep_linking=moodle_settings())
    for status, page in (
        request(f"{tool.url}/deep-linking?s={s}"),
        request(f"{tool.url}/deep-linking", {"s": s, "item": ["_home"]}),
    ):
        assert status == 403
        assert (
            "Only teachers and course designers can choose which modules to place in a course. "
            "If you are one, ask your LMS administrator to check your role in this course."
            in text(page)
        )
        assert "instructors-only" in page
        assert 'name="JWT"' not in page


def test_a_resource_link_session_is_not_a_deep_linking_request(tool: Tool) -> None:
    platform = add_moodle(tool)
    status, page = request(f"{tool.url}/deep-linking?s={token(tool, platform)}")
    assert status == 400
    assert "This page opens when a teacher adds the tool to a course" in text(page)


def test_without_a_session_the_picker_is_refused(tool: Tool) -> None:
    status, _ = request(f"{tool.url}/deep-linking")
    assert status == 401


def test_a_placement_that_takes_no_links_is_explained(tool: Tool) -> None:
    platform = add_moodle(tool)
    s = token(tool, platform, deep_linking=moodle_settings(accept_types=["link", "html"]))
    status, page = request(f"{tool.url}/deep-linking?s={s}")
    assert status == 400
    assert "This place in the LMS does not accept activity links" in text(page)


# --- the response -----------------------------------------------------------------


def test_the_response_is_signed_and_carries_exactly_the_chosen_modules(tool: Tool) -> None:
    platform = add_moodle(tool)
    s = token(tool, platform, locale="fr", deep_linking=moodle_settings())
    before = int(time.time())
    status, policy, page = fetch(
        f"{tool.url}/deep-linking", {"s": s, "item": ["lighting-beginner", "_home"]}
    )
    assert status == 200
    action, response_jwt = returned_form(page)
    assert action == RETURN
    nonce = re.search(r"script-src 'nonce-([^']+)'", policy)
    assert nonce
    assert policy == (
        f"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; {nonce.group(0)}"
    )
    assert (
        f'<script nonce="{nonce.group(1)}">document.getElementById("return").submit();</script>'
        in page
    )
    assert "<script src" not in page
    header = jwt.get_unverified_header(response_jwt)
    [key] = tool_jwks(tool).keys
    assert header == {"alg": "RS256", "kid": key.key_id, "typ": "JWT"}
    claims = jwt.decode(
        response_jwt,
        key=key,
        algorithms=["RS256"],
        audience=ISSUER,
        issuer=CLIENT,
        options={"require": ["exp", "iat", "nonce"]},
    )
    assert before <= claims["iat"] <= time.time()
    assert claims["exp"] == claims["iat"] + 600
    assert len(claims["nonce"]) >= 32
    launch = f"{tool.url}/launch"
    assert {k: v for k, v in claims.items() if k not in ("iat", "exp", "nonce")} == {
        "iss": CLIENT,
        "aud": ISSUER,
        LTI + "message_type": "LtiDeepLinkingResponse",
        LTI + "version": "1.3.0",
        LTI + "deployment_id": "1",
        DL + "data": "eyJ0eXBlIjoiY29udGVudCJ9",
        DL + "content_items": [
            {
                "type": "ltiResourceLink",
                "title": "Les bases de l'éclairage public",
                "url": launch,
                "text": "Why LED retrofits pay back.",
                "custom": {"module": "lighting-beginner"},
                "lineItem": {
                    "scoreMaximum": 2,
                    "label": "Les bases de l'éclairage public",
                    "resourceId": "lighting-beginner",
                },
            },
            {
                "type": "ltiResourceLink",
                "title": "Programme de test",
                "url": launch,
                "lineItem": {
                    "scoreMaximum": 7,
                    "label": "Programme de test",
                    "resourceId": "test-programme",
                },
            },
        ],
    }


class _Platform(LTI1P3PlatformConfAbstract):
    """PyPI lti1p3platform as the receiving platform: it knows the tool by its JWKS URL."""

    def init_platform_config(self, **kwargs: Any) -> None:
        self.jwks_url = kwargs["jwks_url"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return (
            Registration()
            .set_iss(ISSUER)
            .set_client_id(CLIENT)
            .set_deployment_id("1")
            .set_tool_key_set_url(self.jwks_url)
        )


def test_lti1p3platform_accepts_the_response(tool: Tool) -> None:
    platform = add_moodle(tool)
    s = token(tool, platform, deep_linking=moodle_settings())
    _, page = request(f"{tool.url}/deep-linking", {"s": s, "item": ["lighting-advanced"]})
    _, response_jwt = returned_form(page)
    receiver = _Platform(jwks_url=f"{tool.url}/.well-known/jwks.json")
    receiver.get_registration()
    assert receiver.validate_deeplinking_resp({"JWT": response_jwt}) == [
        {
            "type": "ltiResourceLink",
            "title": "Advanced street lighting",
            "url": f"{tool.url}/launch",
            "text": "Smart controls.",
            "custom": {"module": "lighting-advanced"},
            "lineItem": {
                "scoreMaximum": 2,
                "label": "Advanced street lighting",
                "resourceId": "lighting-advanced",
            },
        }
    ]
    # ... and a response signed by another key is refused by it.
    forged = jwt.encode(
        jwt.decode(response_jwt, options={"verify_signature": False}),
        _other_key(),
        algorithm="RS256",
        headers={"kid": jwt.get_unverified_header(response_jwt)["kid"]},
    )
    with pytest.raises(jwt.InvalidSignatureError):
        receiver.validate_deeplinking_resp({"JWT": forged})


def test_after_keys_rotate_the_running_tool_signs_with_the_new_key(
    tool: Tool, database_url: str
) -> None:
    platform = add_moodle(tool)
    s = token(tool, platform, deep_linking=moodle_settings())
    _, before = returned_form(
        request(f"{tool.url}/deep-linking", {"s": s, "item": ["lighting-advanced"]})[1]
    )
    old = jwt.get_unverified_header(before)["kid"]
    new = rotate_keys(database_url)
    _, after = returned_form(
        request(f"{tool.url}/deep-linking", {"s": s, "item": ["lighting-advanced"]})[1]
    )
    assert jwt.get_unverified_header(after)["kid"] == new != old
    served = {key.key_id: key for key in tool_jwks(tool).keys}
    assert list(served) == [old, new]  # the old key stays published for its tokens
    for response_jwt, kid in ((before, old), (after, new)):
        claims = jwt.decode(
            response_jwt, key=served[kid], algorithms=["RS256"], audience=ISSUER, issuer=CLIENT
        )
        assert claims[DL + "content_items"][0]["custom"] == {"module": "lighting-advanced"}
    receiver = _Platform(jwks_url=f"{tool.url}/.well-known/jwks.json")  # fetches the JWKS itself
    receiver.get_registration()
    assert [item["title"] for item in receiver.validate_deeplinking_resp({"JWT": after})] == [
        item["title"] for item in receiver.validate_deeplinking_resp({"JWT": before})
    ]


def _other_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_no_line_items_when_the_platform_says_it_ignores_them(tool: Tool) -> None:
    platform = add_moodle(tool)
    s = token(tool, platform, deep_linking=moodle_settings(accept_lineitem=False, data=None))
    _, page = request(f"{tool.url}/deep-linking", {"s": s, "item": ["_home"]})
    claims = jwt.decode(returned_form(page)[1], options={"verify_signature": False})
    assert claims[DL + "content_items"] == [
        {"type": "ltiResourceLink", "title": "Test programme", "url": f"{tool.url}/launch"}
    ]
    assert DL + "data" not in claims  # nothing to echo


@pytest.mark.parametrize(
    ("form", "status", "reason", "message"),
    [
        ({}, 400, "nothing-chosen", "Please choose at least one module to add."),
        (
            {"item": ["no-such-module"]},
            400,
            "unknown-item",
            "The programme has no module 'no-such-module'; reload the list and choose again.",
        ),
    ],
)
def test_bad_choices_are_refused(
    tool: Tool, form: dict[str, Any], status: int, reason: str, message: str
) -> None:
    platform = add_moodle(tool)
    s = token(tool, platform, deep_linking=moodle_settings())
    got, page = request(f"{tool.url}/deep-linking", {"s": s, **form})
    assert got == status
    assert message in text(page)
    assert reason in page


def test_several_items_where_one_is_accepted_are_refused(tool: Tool) -> None:
    platform = add_moodle(tool)
    s = token(tool, platform, deep_linking=moodle_settings(accept_multiple=False))
    status, page = request(
        f"{tool.url}/deep-linking", {"s": s, "item": ["_home", "lighting-beginner"]}
    )
    assert status == 400
    assert "The LMS accepts one activity here: please choose only one." in text(page)


def test_a_platform_with_several_deployments_answers_for_the_one_that_asked(
    tool: Tool,
) -> None:
    platform = add_moodle(tool, deployments=("1", "2"))
    s = token(tool, platform, deep_linking=moodle_settings(), deployment_id="2")
    status, page = request(f"{tool.url}/deep-linking", {"s": s, "item": ["_home"]})
    assert status == 200
    claims = jwt.decode(
        re.search(r'name="JWT" value="([^"]+)"', page)[1],  # type: ignore[index]
        options={"verify_signature": False},
    )
    assert claims[LTI + "deployment_id"] == "2"


def test_a_deployment_removed_since_the_launch_is_named(tool: Tool) -> None:
    platform = add_moodle(tool, deployments=("1",))
    s = token(tool, platform, deep_linking=moodle_settings(), deployment_id="9")
    status, page = request(f"{tool.url}/deep-linking", {"s": s, "item": ["_home"]})
    assert status == 400
    assert "The deployment '9' this request came through is no longer registered" in text(page)
    assert 'name="JWT"' not in page


def test_a_platform_removed_meanwhile_is_named(tool: Tool) -> None:
    platform = add_moodle(tool)
    s = token(tool, platform, deep_linking=moodle_settings())
    remove_platform(tool.db, ISSUER, CLIENT)
    status, page = request(f"{tool.url}/deep-linking", {"s": s, "item": ["_home"]})
    assert status == 400
    assert "The tool's registration for this LMS was removed." in text(page)
    assert 'name="JWT"' not in page


def test_the_fake_moodle_takes_only_a_response_for_its_deployment(
    tool: Tool, moodle: FakeMoodle
) -> None:
    query = urlencode(
        {
            "openid_configuration": moodle.configuration_url,
            "registration_token": moodle.registration_token(),
        }
    )
    assert request(f"{tool.url}/lti/register?{query}")[0] == 200
    [platform] = list_platforms(tool.db)
    return_url = moodle.url("contentitem_return.php?course=2&id=1")
    s = token(tool, platform, deep_linking=moodle_settings(deep_link_return_url=return_url))
    _, page = request(f"{tool.url}/deep-linking", {"s": s, "item": ["_home"]})
    action, response_jwt = returned_form(page)
    assert request(action, {"JWT": response_jwt}) == (
        200,
        "<!doctype html><p id='added'>1 added</p>",
    )
    claims = jwt.decode(response_jwt, options={"verify_signature": False})
    claims[LTI + "deployment_id"] = "7"
    with tool.app.app_context():
        signing = tool.app.extensions["capacity_lti"].keys.signing()
    other = jwt.encode(claims, signing.private_key, algorithm="RS256", headers={"kid": signing.kid})
    assert request(action, {"JWT": other}) == (400, "wrongdeployment")
    assert request(action, {"JWT": response_jwt[:-4] + "AAAA"})[0] == 400
    assert len(moodle.added) == 1


# --- pure parts -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        (None, "no-deep-linking-settings"),
        ({"accept_types": ["ltiResourceLink"]}, "no-deep-link-return-url"),
        ({"deep_link_return_url": "javascript:alert(1)"}, "no-deep-link-return-url"),
    ],
)
def test_unusable_settings_are_refused(claim: object, reason: str) -> None:
    with pytest.raises(LaunchError) as caught:
        DeepLinkingSettings.from_claim(claim)
    assert caught.value.reason == reason


def test_settings_read_from_moodles_claim() -> None:
    assert DeepLinkingSettings.from_claim(moodle_settings()) == DeepLinkingSettings(
        return_url=RETURN,
        accept_types=("ltiResourceLink",),
        accept_multiple=True,
        accept_lineitem=None,
        data="eyJ0eXBlIjoiY29udGVudCJ9",
    )


def test_a_module_worth_no_points_gets_no_line_item(programme: Any) -> None:
    settings = DeepLinkingSettings.from_claim(moodle_settings(accept_lineitem=True))
    [home, *_] = choices(programme, "en")
    free = home.__class__(module_id="x", title="X", text="", points=0, minutes=5)
    assert content_item(free, "https://t/launch", settings, "p") == {
        "type": "ltiResourceLink",
        "title": "X",
        "url": "https://t/launch",
        "custom": {"module": "x"},
    }


def test_links_are_not_sent_where_they_are_not_accepted() -> None:
    settings = DeepLinkingSettings.from_claim(moodle_settings(accept_types=["file"]))
    with pytest.raises(LaunchError) as caught:
        response_claims(
            client_id=CLIENT,
            issuer=ISSUER,
            deployment_id="1",
            settings=settings,
            items=[{"type": "ltiResourceLink"}],
            now=0,
        )
    assert caught.value.reason == "links-not-accepted"
