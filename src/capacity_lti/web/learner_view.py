"""What the learner pages show, built from the programme and one learner's records.

Authored text is picked along the page language's fallback chain, block by block; a
text that fell back carries its own `lang`. Authored HTML is already sanitised
(content.markdown); it is only adapted to the frame (links open a new tab, files of the
programme are served by the tool). UI words are English source strings, translated in
the templates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass, replace

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


def sections(module: Module, language: Language, urls: Mapping[str, str]) -> list[SectionView]:
    """The module's sections in order, each block in the best language available for it.

    No block is marked seen yet: `with_seen` marks those one learner saw.
    """
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
                    seen=False,
                )
            )
        if blocks:
            views.append(
                SectionView(section.key, "s-" + section.key, HEADINGS[section.key], tuple(blocks))
            )
    return views


def with_seen(views: Iterable[SectionView], seen: Set[str]) -> list[SectionView]:
    """The same sections with the blocks of `seen` marked seen."""
    return [
        replace(view, blocks=tuple(replace(b, seen=b.key in seen) for b in view.blocks))
        for view in views
    ]


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
    """What the `_items.html` macro shows of one module or event."""

    id: str
    endpoint: str  # "learner.module" or "learner.event"
    title: str
    title_lang: str | None
    label: str  # level of a module, kind of an event (an English source string)
    minutes: int
    points: int
    status: Status


RowHtml = Callable[[str, Status], Markup]  # (item id, its status) -> the rendered row


@dataclass(frozen=True)
class PathView:
    id: str
    title: str
    title_lang: str | None
    description: str
    description_lang: str | None
    rows: tuple[Markup, ...]
    progress: PathProgress
    recommended: bool


def item_row(programme: Programme, language: Language, item_id: str, status: Status) -> ItemRow:
    item = programme.item(item_id)
    is_module = item_id in programme.modules
    kind = item.level.value if isinstance(item, Module) else item.kind.value
    title, title_lang = language.pick(item.title)
    return ItemRow(
        id=item.id,
        endpoint="learner.module" if is_module else "learner.event",
        title=title,
        title_lang=title_lang,
        label=LABELS[kind],
        minutes=item.minutes,
        points=item.points,
        status=status,
    )


def _rows(item_ids: Iterable[str], record: LearnerProgress, row: RowHtml) -> tuple[Markup, ...]:
    return tuple(row(i, item_status(i, record.completed, record.started)) for i in item_ids)


def paths(
    programme: Programme, language: Language, record: LearnerProgress, row: RowHtml
) -> list[PathView]:
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
                rows=_rows(path.items, record, row),
                progress=path_progress(programme, path.id, record.completed),
                recommended=path.id == record.recommended_path,
            )
        )
    return views


@dataclass(frozen=True)
class ThemeView:
    title: str
    title_lang: str | None
    rows: tuple[Markup, ...]


def catalogue(
    programme: Programme, language: Language, record: LearnerProgress, row: RowHtml
) -> list[ThemeView]:
    """Every module by theme, so that each is reachable whatever the paths hold."""
    views = []
    for theme in programme.themes:
        rows = _rows((m.id for m in programme.theme_modules(theme.id)), record, row)
        if rows:
            views.append(ThemeView(*language.pick(theme.title), rows))
    return views


def events(programme: Programme, record: LearnerProgress, row: RowHtml) -> tuple[Markup, ...]:
    return _rows(programme.events, record, row)
