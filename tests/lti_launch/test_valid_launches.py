"""Certification 6.1.2 / 6.1.3: valid launches with unusual roles and PII are accepted."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from capacity_lti.storage.tables import Learner
from tests.lti_launch.conftest import Tool, launch, session_of
from tests.lti_launch.platforms import INSTRUCTOR, LEARNER, LIS, MoodleLike

MENTOR = LIS + "membership#Mentor"
ADMIN = LIS + "institution/person#Administrator"
TA = LIS + "membership/Instructor#TeachingAssistant"
UNKNOWN = "http://example.org/roles#Wizard"

CASES: list[tuple[str, list[str], dict[str, Any], bool, tuple[str, str]]] = [
    (
        "multiple roles",
        [LEARNER, MENTOR, ADMIN],
        {"name": "Ana Souza", "email": "ana@example.org"},
        True,
        ("Ana Souza", "ana@example.org"),
    ),
    ("short role", ["Instructor"], {"name": "Ana Souza"}, True, ("Ana Souza", "")),
    ("short learner role", ["Learner"], {}, False, ("", "")),
    ("sub-role", [TA], {}, True, ("", "")),
    ("unknown role", [UNKNOWN], {}, False, ("", "")),
    ("no role", [], {}, False, ("", "")),
    ("institution admin only", [ADMIN], {}, False, ("", "")),
    ("email only", [LEARNER], {"email": "ana@example.org"}, False, ("", "ana@example.org")),
    (
        "names only",
        [LEARNER],
        {"given_name": "Ana", "family_name": "Souza"},
        False,
        ("Ana Souza", ""),
    ),
    ("no PII", [INSTRUCTOR], {}, True, ("", "")),
]


@pytest.mark.parametrize(
    ("case", "roles", "pii", "instructor", "stored"), CASES, ids=[c[0] for c in CASES]
)
def test_valid_launch_is_accepted(
    tool: Tool,
    moodle: MoodleLike,
    case: str,
    roles: list[str],
    pii: dict[str, Any],
    instructor: bool,
    stored: tuple[str, str],
) -> None:
    moodle.roles = roles
    moodle.user = {"sub": "a-stable-opaque-id-42", **pii}
    done = launch(tool, moodle)
    session = session_of(tool, done.result)
    assert session["roles"] == roles
    assert session["instructor"] is instructor
    with tool.db().session() as db:
        learner = db.scalars(select(Learner)).one()
    assert (learner.name, learner.email) == stored
    assert learner.subject == "a-stable-opaque-id-42"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "en"),
        ("pt_br", "pt-BR"),
        ("pt-BR", "pt-BR"),
        ("fr_ca", "fr-CA"),
        ("zh_hant_tw", "zh-Hant-TW"),
        ("", "en"),
        ("@@", "en"),
    ],
)
def test_locale_in_moodle_or_canvas_form(
    tool: Tool, moodle: MoodleLike, locale: str, expected: str
) -> None:
    moodle.locale = locale
    session = session_of(tool, launch(tool, moodle).result)
    assert session["locale"] == expected
