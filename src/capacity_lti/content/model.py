"""The programme model: what an authored folder means, independent of files and formats.

Translatable text is a :data:`Texts` map from language tag to text; :func:`pick`
resolves it along a fallback chain. Rendered Markdown is sanitised HTML whose
relative URLs are relative to the programme folder (e.g. `media/plan.png`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from capacity_lti.content.languages import fallback_chain

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
Texts = dict[str, str]


def pick(texts: Mapping[str, str], chain: Sequence[str]) -> str:
    """The first text found along `chain`; empty when none of the languages has one."""
    for tag in chain:
        if tag in texts:
            return texts[tag]
    return ""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(StrEnum):
    BEGINNER = "beginner"
    ADVANCED = "advanced"


class Audience(StrEnum):
    DECISION_MAKERS = "decision-makers"
    OFFICERS = "officers"
    TRAINERS = "trainers"
    EVERYONE = "everyone"


class EventKind(StrEnum):
    WEBINAR = "webinar"
    STUDY_VISIT = "study-visit"
    SPEED_NETWORKING = "speed-networking"
    CO_LEARNING_WORKSHOP = "co-learning-workshop"
    CO_CREATION_WORKSHOP = "co-creation-workshop"
    PEER_REVIEW_WORKSHOP = "peer-review-workshop"


class ResourceKind(StrEnum):
    LINK = "link"
    DOCUMENT = "document"
    VIDEO = "video"


# --- programme.yaml ---------------------------------------------------------------


class Theme(Strict):
    id: Id
    title: Texts
    description: Texts = Field(default_factory=dict)


class LearningPath(Strict):
    id: Id
    audience: Audience
    title: Texts
    description: Texts = Field(default_factory=dict)
    items: list[Id] = Field(min_length=1)
    requires: list[Id] = Field(default_factory=list)


class PointsRule(Strict):
    module: int = Field(default=1, ge=0, le=1000)
    event: int = Field(default=1, ge=0, le=1000)


class CertificateRule(Strict):
    modules: bool = True


class DiplomaRule(Strict):
    """A diploma for the whole programme (`path` None) or a certificate for one path."""

    id: Id
    title: Texts
    path: Id | None = None
    min_points: int = Field(default=0, ge=0)


class AssessmentAnswer(Strict):
    id: Id
    text: Texts
    recommends: dict[Id, Annotated[int, Field(ge=1, le=100)]] = Field(default_factory=dict)


class AssessmentQuestion(Strict):
    id: Id
    prompt: Texts
    answers: list[AssessmentAnswer] = Field(min_length=2)


class Assessment(Strict):
    """A needs self-assessment: each answer adds weight to paths; the heaviest path wins."""

    title: Texts
    intro: Texts = Field(default_factory=dict)
    questions: list[AssessmentQuestion] = Field(min_length=1)

    def recommend(self, answers: Mapping[str, str], path_order: Sequence[str]) -> str | None:
        """The recommended path id for {question id: answer id}; ties go to the earlier path."""
        totals = dict.fromkeys(path_order, 0)
        for question in self.questions:
            chosen = answers.get(question.id)
            for answer in question.answers:
                if answer.id == chosen:
                    for path_id, weight in answer.recommends.items():
                        totals[path_id] = totals.get(path_id, 0) + weight
        best = max(totals.values(), default=0)
        if best == 0:
            return None
        return next(path_id for path_id, total in totals.items() if total == best)


class ProgrammeSpec(Strict):
    """The contents of programme.yaml."""

    id: Id
    default_language: str
    languages: list[str] = Field(min_length=1)
    title: Texts
    description: Texts = Field(default_factory=dict)
    organisation: Texts = Field(default_factory=dict)
    themes: list[Theme] = Field(min_length=1)
    paths: list[LearningPath] = Field(default_factory=list)
    points: PointsRule = Field(default_factory=PointsRule)
    certificates: CertificateRule = Field(default_factory=CertificateRule)
    diplomas: list[DiplomaRule] = Field(default_factory=list)
    assessment: Assessment | None = None


# --- modules and events -------------------------------------------------------------


class Resource(Strict):
    """A link, document or video; `file` is relative to the programme folder."""

    title: Texts
    kind: ResourceKind = ResourceKind.LINK
    url: str | None = None
    file: str | None = None


class Choice(Strict):
    text: Texts
    correct: bool = False


class Question(Strict):
    id: Id
    prompt: Texts
    choices: list[Choice]
    feedback_correct: Texts = Field(default_factory=dict)
    feedback_incorrect: Texts = Field(default_factory=dict)

    @property
    def correct_indexes(self) -> tuple[int, ...]:
        return tuple(i for i, choice in enumerate(self.choices) if choice.correct)

    @property
    def multiple(self) -> bool:
        return len(self.correct_indexes) > 1


class KnowledgeCheck(Strict):
    pass_percent: int
    questions: list[Question]

    def passed(self, answers: Mapping[str, Sequence[int]]) -> bool:
        """Whether {question id: chosen choice indexes} reaches the pass mark."""
        return self.score(answers) * 100 >= self.pass_percent * len(self.questions)

    def score(self, answers: Mapping[str, Sequence[int]]) -> int:
        """How many questions were answered exactly right."""
        return sum(
            1
            for q in self.questions
            if tuple(sorted(set(answers.get(q.id, ())))) == q.correct_indexes
        )


class Module(Strict):
    """A self-paced module. `blocks` maps a block key (see sections.BLOCKS) to HTML by language."""

    id: Id
    theme: Id
    level: Level
    minutes: int
    points: int
    certificate: bool
    requires: tuple[Id, ...] = ()
    title: Texts
    summary: Texts = Field(default_factory=dict)
    blocks: dict[str, Texts]
    resources: tuple[Resource, ...] = ()
    check: KnowledgeCheck | None = None
    assets: tuple[str, ...] = ()
    sources: dict[str, Path] = Field(default_factory=dict)


class Event(Strict):
    """An activity whose completion is attendance recorded by an instructor."""

    id: Id
    kind: EventKind
    minutes: int
    points: int
    requires: tuple[Id, ...] = ()
    title: Texts
    description: Texts = Field(default_factory=dict)
    assets: tuple[str, ...] = ()
    sources: dict[str, Path] = Field(default_factory=dict)


Item = Module | Event


class Programme(ProgrammeSpec):
    """A loaded, validated programme: programme.yaml plus its modules and events."""

    root: Path
    modules: dict[str, Module]
    events: dict[str, Event]

    def chain(self, language: str) -> tuple[str, ...]:
        """The fallback chain for `language` within this programme."""
        return tuple(t for t in fallback_chain(language, self.default_language))

    def item(self, item_id: str) -> Item:
        return self.modules.get(item_id) or self.events[item_id]

    def items(self) -> Iterator[Item]:
        yield from self.modules.values()
        yield from self.events.values()

    def path(self, path_id: str) -> LearningPath:
        return next(p for p in self.paths if p.id == path_id)

    def theme_modules(self, theme_id: str) -> list[Module]:
        return [m for m in self.modules.values() if m.theme == theme_id]

    def points_possible(self, item_ids: Sequence[str] | None = None) -> int:
        """Points for completing every item of `item_ids` (default: the whole programme)."""
        ids = list(item_ids) if item_ids is not None else [i.id for i in self.items()]
        return sum(self.item(i).points for i in ids)

    @property
    def assets(self) -> tuple[str, ...]:
        """Every file inside the folder that the content links to, sorted."""
        found: set[str] = set()
        for item in self.items():
            found.update(item.assets)
        return tuple(sorted(found))
