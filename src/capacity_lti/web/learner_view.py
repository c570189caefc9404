"""What the learner pages show, built from the programme and one learner's records.

Authored text is picked along the page language's fallback chain, block by block; a
text that fell back carries its own `lang`. Authored HTML is already sanitised
(content.markdown); it is only adapted to the frame (links open a new tab, files of the
programme are served by the tool). UI words are English source strings, translated in
the templates.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass

from markupsafe import Markup

from capacity_lti.awards.points import PathProgress, Status, item_status, path_progress
from capacity_lti.content import SECTIONS, Module, Programme
from capacity_lti.packaging.markup import prepare
from capacity_lti.storage.progress import LearnerProgress, ModuleState


def N_(message: str) -> str:
    """Mark a string for translation where it is defined; it is translated where shown."""
    return message


HEADINGS = {
    "basics": N_("Basics"),
    "basics/what": N_("What"),
    "basics/why": N_("Why"),
    "basics/key-information": N_("Key information"),
    "key-questions": N_("Key questions"),
    "recommended-steps": N_("Recommended steps"),
    "processes": N_("Processes"),
    "processes/people": N_("People"),
    "processes/politics": N_("Politics"),
    "processes/economics": N_("Economics"),
    "guidance": N_("Guidance"),
    "guidance/tools": N_("Tools"),
    "guidance/policy-context": N_("Policy context"),
    "guidance/tips": N_("Tips"),
}
LABELS = {
    "beginner": N_("Beginner"),
    "advanced": N_("Advanced"),
    "webinar": N_("Webinar"),
    "study-visit": N_("Study visit"),
    "speed-networking": N_("Speed networking"),
    "co-learning-workshop": N_("Co-learning workshop"),
    "co-creation-workshop": N_("Co-creation workshop"),
    "peer-review-workshop": N_("Peer-review workshop"),
    Status.NOT_STARTED: N_("Not started"),
    Status.IN_PROGRESS: N_("In progress"),
    Status.COMPLETED: N_("Completed"),
}


@dataclass(frozen=True)
class Language:
    """The language of one page and the chain its authored text falls back along."""

    tag: str
    chain: tuple[str, ...]

    def pick(self, texts: Mapping[str, str]) -> tuple[str, str | None]:
        """(text, its language when that is not the page's, else None)."""
        for tag in self.chain:
            if tag in texts:
                return texts[tag], None if tag == self.tag else tag
        return "", None

    def text(self, texts: Mapping[str, str]) -> str:
        return self.pick(texts)[0]

    def attr(self, texts: Mapping[str, str]) -> Markup:
        """` lang="xx"` when the text shown fell back to another language."""
        lang = self.pick(texts)[1]
        return Markup(' lang="{}"').format(lang) if lang else Markup("")


def block_anchor(key: str) -> str:
    return "b-" + key.replace("/", "-")


@dataclass(frozen=True)
class BlockView:
    key: str
    anchor: str
    heading: str | None  # a sub-section's heading; None when the block is a whole section
    html: Markup
    lang: str | None
    seen: bool


@dataclass(frozen=True)
class SectionView:
    key: str
    anchor: str
    heading: str
    blocks: tuple[BlockView, ...]

    @property
    def seen(self) -> bool:
        return all(block.seen for block in self.blocks)


def sections(
    module: Module, language: Language, seen: Set[str], urls: Mapping[str, str]
) -> list[SectionView]:
    """The module's sections in order, each block in the best language available for it."""
    views = []
    for section in SECTIONS:
        blocks = []
        for key in section.block_keys():
            if key not in module.blocks:
                continue
            html, lang = language.pick(module.blocks[key])
            blocks.append(
                BlockView(
                    key=key,
                    anchor=block_anchor(key),
                    heading=HEADINGS[key] if section.parts else None,
                    html=Markup(prepare(html, urls)),  # noqa: S704 (sanitised by content.markdown)
                    lang=lang,
                    seen=key in seen,
                )
            )
        if blocks:
            views.append(
                SectionView(section.key, "s-" + section.key, HEADINGS[section.key], tuple(blocks))
            )
    return views


@dataclass(frozen=True)
class ChoiceView:
    index: int
    text: str
    lang: str | None
    chosen: bool


@dataclass(frozen=True)
class QuestionView:
    id: str
    prompt: str
    prompt_lang: str | None
    multiple: bool
    choices: tuple[ChoiceView, ...]
    right: bool | None  # None until the learner has answered
    feedback: str
    feedback_lang: str | None


def questions(module: Module, language: Language, state: ModuleState) -> list[QuestionView]:
    """The check's questions with the learner's last answers and their feedback."""
    if module.check is None:
        return []
    answers = state.last_answers
    views = []
    for question in module.check.questions:
        chosen = set(answers.get(question.id, ())) if answers is not None else set()
        right = None if answers is None else tuple(sorted(chosen)) == question.correct_indexes
        feedback, feedback_lang = "", None
        if right is not None:
            texts = question.feedback_correct if right else question.feedback_incorrect
            feedback, feedback_lang = language.pick(texts)
        prompt, prompt_lang = language.pick(question.prompt)
        choices = tuple(
            ChoiceView(i, *language.pick(choice.text), i in chosen)
            for i, choice in enumerate(question.choices)
        )
        views.append(
            QuestionView(
                question.id,
                prompt,
                prompt_lang,
                question.multiple,
                choices,
                right,
                feedback,
                feedback_lang,
            )
        )
    return views


@dataclass(frozen=True)
class ItemRow:
    id: str
    endpoint: str  # "learner.module" or "learner.event"
    title: str
    title_lang: str | None
    label: str  # level of a module, kind of an event (an English source string)
    minutes: int
    points: int
    status: Status


@dataclass(frozen=True)
class PathView:
    id: str
    title: str
    title_lang: str | None
    description: str
    description_lang: str | None
    rows: tuple[ItemRow, ...]
    progress: PathProgress
    recommended: bool


def item_row(
    programme: Programme, language: Language, item_id: str, record: LearnerProgress
) -> ItemRow:
    item = programme.item(item_id)
    is_module = item_id in programme.modules
    kind = item.level.value if isinstance(item, Module) else item.kind.value
    return ItemRow(
        id=item.id,
        endpoint="learner.module" if is_module else "learner.event",
        title=language.pick(item.title)[0],
        title_lang=language.pick(item.title)[1],
        label=LABELS[kind],
        minutes=item.minutes,
        points=item.points,
        status=item_status(item.id, record.completed, record.started),
    )


def paths(programme: Programme, language: Language, record: LearnerProgress) -> list[PathView]:
    views = []
    for path in programme.paths:
        title, title_lang = language.pick(path.title)
        description, description_lang = language.pick(path.description)
        views.append(
            PathView(
                id=path.id,
                title=title,
                title_lang=title_lang,
                description=description,
                description_lang=description_lang,
                rows=tuple(item_row(programme, language, i, record) for i in path.items),
                progress=path_progress(programme, path.id, record.completed),
                recommended=path.id == record.recommended_path,
            )
        )
    return views


@dataclass(frozen=True)
class ThemeView:
    title: str
    title_lang: str | None
    rows: tuple[ItemRow, ...]


def catalogue(programme: Programme, language: Language, record: LearnerProgress) -> list[ThemeView]:
    """Every module by theme, so that each is reachable whatever the paths hold."""
    views = []
    for theme in programme.themes:
        rows = tuple(
            item_row(programme, language, m.id, record) for m in programme.theme_modules(theme.id)
        )
        if rows:
            views.append(ThemeView(*language.pick(theme.title), rows))
    return views


def events(programme: Programme, language: Language, record: LearnerProgress) -> list[ItemRow]:
    return [item_row(programme, language, e, record) for e in programme.events]
