"""The HTML pages of a package, following the page/runtime contract of docs/packaging.md.

Authored Markdown arrives as sanitised HTML (content.markdown); every other text is escaped
here. Text missing in the package language falls back along the programme's chain, and the
fallback text carries its own `lang` attribute.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from capacity_lti.content import SECTIONS, Event, Module, Programme
from capacity_lti.content.languages import base_language
from capacity_lti.packaging.markup import data_block, esc, prepare
from capacity_lti.packaging.ui import Labels

RUNTIME = '<script src="capacity/runtime.js"></script>'
# Each section with its block keys and whether it has sub-sections, worked out once.
_LAYOUT = tuple((s.key, s.block_keys(), bool(s.parts)) for s in SECTIONS)


@dataclass(frozen=True)
class Context:
    """What every page of one package shares."""

    programme: Programme
    standard: str
    language: str
    chain: tuple[str, ...]
    labels: Labels
    renames: Mapping[str, str]  # programme file path -> its safe name in the zip
    _langs: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _headings: dict[tuple[int, str], str] = field(default_factory=dict, init=False, repr=False)

    def pick(self, texts: Mapping[str, str]) -> tuple[str, str]:
        """(text, its language) along the chain; ("", package language) when there is none."""
        for tag in self.chain:
            if tag in texts:
                return texts[tag], tag
        return "", self.language

    def text(self, texts: Mapping[str, str]) -> str:
        return self.pick(texts)[0]

    def lang(self, language: str) -> str:
        """A ` lang="..."` attribute for text in another language than the package's.

        Text in the package's base language (`fr` in an `fr-BE` package) needs none.
        """
        found = self._langs.get(language)
        if found is None:
            same = base_language(language) == base_language(self.language)
            found = self._langs[language] = "" if same else f' lang="{esc(language)}"'
        return found

    def heading(self, level: int, key: str) -> str:
        """`<h2>Label</h2>` for a package text, in the package language (or its fallback)."""
        found = self._headings.get((level, key))
        if found is None:
            attr = self.lang(self.labels.lang(key))
            found = f"<h{level}{attr}>{esc(self.labels[key])}</h{level}>\n"
            self._headings[(level, key)] = found
        return found


def _page(ctx: Context, title: str, body: str, *, body_class: str = "") -> str:
    klass = f' class="{body_class}"' if body_class else ""
    return (
        f'<!doctype html>\n<html lang="{esc(ctx.language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n"
        '<link rel="stylesheet" href="capacity/player.css">\n</head>\n'
        f"<body{klass}>\n{body}</body>\n</html>\n"
    )


def _blocks(ctx: Context, module: Module, top: int, prefix: str) -> tuple[list[str], list[str]]:
    """(HTML parts, block ids) of a module's sections, headings from level `top`."""
    parts: list[str] = []
    ids: list[str] = []
    blocks = module.blocks
    for section_key, block_keys, nested in _LAYOUT:
        keys = [key for key in block_keys if key in blocks]
        if not keys:
            continue
        if nested:
            parts.append(ctx.heading(top, section_key))
        level = top + 1 if nested else top
        for key in keys:
            text, language = ctx.pick(blocks[key])
            block = prefix + key
            ids.append(block)
            element_id = block.replace("/", "-")  # block keys and ids are [a-z0-9/-]
            content = prepare(text, ctx.renames)
            attr = ctx.lang(language)
            if attr:
                content = f"<div{attr}>\n{content}</div>\n"
            parts.append(
                f'<section class="block" data-block="{block}" id="{element_id}">\n'
                f"{ctx.heading(level, key)}{content}</section>\n"
            )
    return parts, ids


def _resources(ctx: Context, module: Module, level: int) -> str:
    if not module.resources:
        return ""
    items = []
    for resource in module.resources:
        title, language = ctx.pick(resource.title)
        target = resource.url or ""
        if resource.file:
            file = posixpath.normpath(resource.file)  # relative to the programme folder
            target = ctx.renames.get(file, file)
        items.append(
            f'<li{ctx.lang(language)}><a href="{esc(target)}" rel="noopener noreferrer" '
            f'target="_blank">{esc(title)}</a></li>\n'
        )
    return (
        f'<section class="capacity-resources">\n{ctx.heading(level, "resources")}'
        f"<ul>\n{''.join(items)}</ul>\n</section>\n"
    )


def _questions(ctx: Context, module: Module, prefix: str) -> tuple[str, list[dict[str, Any]]]:
    """The fieldsets of a module's check, and their entries for the capacity-data block."""
    if module.check is None:
        return "", []
    html: list[str] = []
    data: list[dict[str, Any]] = []
    for question in module.check.questions:
        qid = prefix + question.id  # ids are [a-z0-9-] (content.model.Id): nothing to escape
        correct = question.correct_indexes
        kind = "checkbox" if len(correct) > 1 else "radio"
        prompt, language = ctx.pick(question.prompt)
        html.append(
            f'<fieldset data-question="{qid}">\n<legend{ctx.lang(language)}>{esc(prompt)}</legend>\n'
        )
        for index, choice in enumerate(question.choices):
            text, language = ctx.pick(choice.text)
            html.append(
                f'<label{ctx.lang(language)}><input type="{kind}" name="{qid}" '
                f'value="{index}"> {esc(text)}</label>\n'
            )
        html.append("</fieldset>\n")
        data.append(
            {
                "id": qid,
                "multiple": len(correct) > 1,
                "correct": list(correct),
                "feedback": {
                    "correct": ctx.text(question.feedback_correct),
                    "incorrect": ctx.text(question.feedback_incorrect),
                },
            }
        )
    return "".join(html), data


def _form(ctx: Context, fieldsets: str, mark: int) -> str:
    intro = ctx.labels["check_intro"].replace("{mastery}", str(mark))
    return (
        f'<form id="capacity-check">\n{ctx.heading(2, "check")}'
        f"<p{ctx.lang(ctx.labels.lang('check_intro'))}>{esc(intro)}</p>\n{fieldsets}"
        f'<button type="submit" class="capacity-button">{esc(ctx.labels["submit"])}</button>\n'
        "</form>\n"
    )


def _kicker(ctx: Context, module: Module) -> str:
    theme = next((t for t in ctx.programme.themes if t.id == module.theme), None)
    parts = [ctx.text(theme.title)] if theme else []
    parts += [ctx.labels[module.level.value], ctx.labels["minutes"].format(minutes=module.minutes)]
    return f'<p class="capacity-kicker">{esc(" · ".join(p for p in parts if p))}</p>\n'


def _intro(ctx: Context, module: Module, level: int) -> str:
    title, language = ctx.pick(module.title)
    summary, summary_language = ctx.pick(module.summary)
    html = f"<h{level}{ctx.lang(language)}>{esc(title)}</h{level}>\n"
    if level == 1:
        html = _kicker(ctx, module) + html
    if summary:
        html += f'<p class="capacity-summary"{ctx.lang(summary_language)}>{esc(summary)}</p>\n'
    return html


def _data(ctx: Context, sco: str, points: int, mark: int | None, blocks: list[str],
          questions: list[dict[str, Any]], certificate: str | None, scope: str) -> str:  # fmt: skip
    return data_block(
        {
            "standard": ctx.standard,
            "module": sco,
            "language": ctx.language,
            "points": points,
            "mastery": mark,
            "blocks": blocks,
            "check": {"questions": questions} if questions else None,
            "certificate": certificate,
            "ui": ctx.labels.runtime(scope),
        }
    )


def mastery(module: Module) -> int | None:
    """The pass mark of a module's knowledge check; None without one (or without questions)."""
    return module.check.pass_percent if module.check and module.check.questions else None


def module_page(ctx: Context, module: Module, certificate: str | None) -> str:
    """One module as one SCO page."""
    parts, blocks = _blocks(ctx, module, 2, "")
    fieldsets, questions = _questions(ctx, module, "")
    mark = mastery(module)
    form = _form(ctx, fieldsets, mark) if mark is not None else ""
    body = (
        f"<main>\n{_intro(ctx, module, 1)}{''.join(parts)}{_resources(ctx, module, 2)}{form}"
        "</main>\n"
    )
    data = _data(ctx, module.id, module.points, mark, blocks, questions, certificate, "module")
    return _page(ctx, ctx.text(module.title), f"{body}{data}\n{RUNTIME}\n")


def strictest(modules: Sequence[Module]) -> int | None:
    """The pass mark of one check over several modules: the highest of theirs."""
    marks = [m for m in map(mastery, modules) if m is not None]
    return max(marks) if marks else None


def combined_page(ctx: Context, sco: str, scope: str, title: str, modules: Sequence[Module],
                  certificate: str | None) -> str:  # fmt: skip
    """Several modules as one SCO page: their sections in order, then one check for them all.

    `scope` is "path" or "programme". Block and question ids are prefixed with the module id;
    the pass mark is the strictest of the modules' pass marks.
    """
    body: list[str] = [f"<main>\n<h1>{esc(title)}</h1>\n"]
    blocks: list[str] = []
    fieldsets: list[str] = []
    questions: list[dict[str, Any]] = []
    for module in modules:
        parts, ids = _blocks(ctx, module, 3, f"{module.id}/")
        body.append(f'<article id="{esc(module.id)}">\n{_intro(ctx, module, 2)}')
        body += [*parts, _resources(ctx, module, 3), "</article>\n"]
        blocks += ids
        html, data = _questions(ctx, module, f"{module.id}-")
        fieldsets.append(html)
        questions += data
    mark = strictest(modules)
    if mark is not None:
        body.append(_form(ctx, "".join(fieldsets), mark))
    body.append("</main>\n")
    points = sum(m.points for m in modules)
    data_html = _data(ctx, sco, points, mark, blocks, questions, certificate, scope)
    return _page(ctx, title, f"{''.join(body)}{data_html}\n{RUNTIME}\n")


def event_page(ctx: Context, event: Event) -> str:
    """An event: what it is and how to attend; attendance is recorded outside the package."""
    title, language = ctx.pick(event.title)
    description, description_language = ctx.pick(event.description)
    kicker = (
        f"{ctx.labels[event.kind.value]} · {ctx.labels['minutes'].format(minutes=event.minutes)}"
    )
    body = (
        f'<main class="capacity-event">\n<p class="capacity-kicker">{esc(kicker)}</p>\n'
        f"<h1{ctx.lang(language)}>{esc(title)}</h1>\n"
        f"<div{ctx.lang(description_language)}>\n{prepare(description, ctx.renames)}</div>\n"
        f'<p class="capacity-event-note"{ctx.lang(ctx.labels.lang("event_note"))}>'
        f"{esc(ctx.labels['event_note'])}</p>\n</main>\n"
    )
    return _page(ctx, title, body)


def certificate_page(ctx: Context, title: str, scope: str) -> str:
    """The printable certificate of completion of a module, or of a path or programme (one SCO)."""
    labels = ctx.labels
    what = f"has_completed_{scope}"
    programme = ctx.text(ctx.programme.title)
    issuer = ctx.text(ctx.programme.organisation)
    body = (
        '<main class="capacity-certificate">\n'
        f'<p class="capacity-certificate-kicker">{esc(labels["certificate_title"])}</p>\n'
        '<p class="capacity-certificate-name" id="capacity-learner">&nbsp;</p>\n'
        f"<p>{esc(labels[what])}</p>\n<h1>{esc(title)}</h1>\n"
        f'<p class="capacity-certificate-programme">{esc(programme)}</p>\n'
        + (f'<p class="capacity-certificate-issuer">{esc(issuer)}</p>\n' if issuer else "")
        + f'<p class="capacity-certificate-date">{esc(labels["date"])}: '
        "________________</p>\n</main>\n"
    )
    data = data_block({"standard": ctx.standard, "module": None, "language": ctx.language})
    page_title = f"{labels['certificate_title']}: {title}"
    return _page(
        ctx, page_title, f"{body}{data}\n{RUNTIME}\n", body_class="capacity-certificate-page"
    )
