"""Schemas of the YAML front matter of module and event files, as authors write them.

A default-language file carries the structure; a translation carries only text and
may repeat a structural key only with the same value (see STRUCTURAL).
"""

from __future__ import annotations

from pydantic import Field

from capacity_lti.content.model import EventKind, Id, Level, ResourceKind, Strict

STRUCTURAL = ("theme", "level", "minutes", "points", "certificate", "requires", "kind")


class FeedbackFront(Strict):
    correct: str = ""
    incorrect: str = ""


class ChoiceFront(Strict):
    text: str = Field(min_length=1)
    correct: bool = False


class QuestionFront(Strict):
    id: Id
    prompt: str = Field(min_length=1)
    choices: list[ChoiceFront] = Field(min_length=2, max_length=26)
    feedback: FeedbackFront = Field(default_factory=FeedbackFront)


class CheckFront(Strict):
    pass_percent: int = Field(default=70, ge=1, le=100)
    questions: list[QuestionFront] = Field(min_length=1)


class ResourceFront(Strict):
    title: str = Field(min_length=1)
    kind: ResourceKind = ResourceKind.LINK
    url: str | None = None
    file: str | None = None


class ModuleFront(Strict):
    title: str = Field(min_length=1)
    summary: str = ""
    theme: Id
    level: Level
    minutes: int = Field(ge=1, le=60)
    points: int | None = Field(default=None, ge=0, le=1000)
    certificate: bool | None = None
    requires: list[Id] = Field(default_factory=list)
    resources: list[ResourceFront] = Field(default_factory=list)
    check: CheckFront | None = None


class EventFront(Strict):
    title: str = Field(min_length=1)
    kind: EventKind
    minutes: int = Field(ge=1, le=2880)
    points: int | None = Field(default=None, ge=0, le=1000)
    requires: list[Id] = Field(default_factory=list)


# --- translations ------------------------------------------------------------------


class ChoiceTranslation(Strict):
    text: str | None = None
    correct: bool | None = None


class QuestionTranslation(Strict):
    id: Id
    prompt: str | None = None
    choices: list[ChoiceTranslation] | None = None
    feedback: FeedbackFront | None = None


class CheckTranslation(Strict):
    pass_percent: int | None = None
    questions: list[QuestionTranslation] = Field(default_factory=list)


class ResourceTranslation(Strict):
    title: str | None = None
    kind: ResourceKind | None = None
    url: str | None = None
    file: str | None = None


class ModuleTranslation(Strict):
    title: str | None = None
    summary: str | None = None
    theme: Id | None = None
    level: Level | None = None
    minutes: int | None = None
    points: int | None = None
    certificate: bool | None = None
    requires: list[Id] | None = None
    resources: list[ResourceTranslation] | None = None
    check: CheckTranslation | None = None


class EventTranslation(Strict):
    title: str | None = None
    kind: EventKind | None = None
    minutes: int | None = None
    points: int | None = None
    requires: list[Id] | None = None
