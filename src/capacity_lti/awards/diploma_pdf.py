"""The printable diploma: one A4 landscape PDF page with a QR code to its verification page.

Text is set in Noto Sans, with Noto Sans Georgian and Noto Sans Armenian as fallbacks,
from the PyPI package `manimgx-fonts` (OFL; no network at run time): Latin with every
diacritic the programmes need (Polish, Romanian ș ț, Croatian, Slovenian, Estonian,
Azerbaijani ə), Greek, Cyrillic, Georgian and Armenian. fpdf2 embeds only the glyphs
used (subset TrueType, Unicode-mapped so the text can be copied and searched) and
shapes text with HarfBuzz. The fonts are variable fonts; the PDF uses their default
(regular) instance, and hierarchy comes from size and colour, not weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib.metadata import distribution
from pathlib import Path

import segno
from babel.dates import format_date
from fpdf import FPDF

from capacity_lti.awards.rules import DueAward
from capacity_lti.awards.texts import award_title, phrase_language, phrases
from capacity_lti.content.languages import base_language
from capacity_lti.content.model import Programme, pick

_FONTS = (
    ("noto", "NotoSans[wght].ttf"),
    ("noto-georgian", "NotoSansGeorgian[wght].ttf"),
    ("noto-armenian", "NotoSansArmenian[wght].ttf"),
)
_INK = (33, 37, 41)
_ACCENT = (22, 84, 130)
_MUTED = (90, 96, 104)


@dataclass(frozen=True)
class DiplomaView:
    """What a diploma shows, and therefore all the verification page may show."""

    kind_label: str
    title: str
    learner_name: str
    awarded_to: str
    programme_label: str
    programme_title: str
    path_label: str
    path_title: str  # "" for a programme diploma or a module certificate
    points_label: str
    points: int
    date_label: str
    date: str
    issued_by: str
    organisation: str
    verify_label: str
    verify_url: str
    language: str  # the language the view's words are in (BCP 47)


def diploma_view(
    programme: Programme,
    award: DueAward,
    *,
    learner_name: str,
    issued_at: datetime,
    language: str,
    verify_url: str,
) -> DiplomaView:
    """The diploma's contents in `language` (authored text along the fallback chain)."""
    chain = programme.chain(language)
    words = phrases(language)
    path_title = ""
    if award.path_id is not None and any(p.id == award.path_id for p in programme.paths):
        path_title = pick(programme.path(award.path_id).title, chain)
    # Dates follow the phrases' language, in the learner's region when it is a variant of it.
    words_in = phrase_language(language)
    locale = (language if base_language(language) == words_in else words_in).replace("-", "_")
    return DiplomaView(
        kind_label=words[award.kind],
        title=award_title(programme, award, language),
        learner_name=learner_name,
        awarded_to=words["awarded_to"],
        programme_label=words["programme"],
        programme_title=pick(programme.title, chain),
        path_label=words["path"],
        path_title=path_title,
        points_label=words["points"],
        points=award.points,
        date_label=words["date"],
        date=format_date(issued_at.date(), format="long", locale=locale),
        issued_by=words["issued_by"],
        organisation=pick(programme.organisation, chain),
        verify_label=words["verify"],
        verify_url=verify_url,
        language=language,
    )


@cache
def _font_dir() -> Path:
    return Path(str(distribution("manimgx-fonts").locate_file("manimgx_fonts")))


def _centred(pdf: FPDF, text: str, size: float, colour: tuple[int, int, int], gap: float) -> None:
    if not text:
        return
    pdf.set_font("noto", size=size)
    pdf.set_text_color(*colour)
    pdf.multi_cell(0, size * 0.5, text, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(gap)


def _qr(pdf: FPDF, url: str, x: float, y: float, size: float) -> None:
    """The QR code of `url` as vector squares (sharp at any zoom, a few hundred bytes)."""
    code = segno.make(url, error="m", micro=False)
    rows = list(code.matrix_iter(border=0))
    module = size / len(rows)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        for c, dark in enumerate(row):
            if dark:
                pdf.rect(x + c * module, y + r * module, module, module, style="F")


def render_pdf(view: DiplomaView) -> bytes:
    """The diploma as PDF bytes."""
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(f"{view.kind_label}: {view.title}")
    pdf.set_author(view.organisation)
    pdf.set_lang(view.language)
    pdf.set_auto_page_break(auto=False)
    for family, filename in _FONTS:
        pdf.add_font(family, "", _font_dir() / filename)
    pdf.set_fallback_fonts([family for family, _ in _FONTS[1:]], exact_match=False)
    pdf.set_text_shaping(True)
    pdf.set_margins(25, 22, 25)
    pdf.add_page()
    pdf.set_draw_color(*_ACCENT)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 277, 190)
    pdf.set_line_width(0.3)
    pdf.rect(13, 13, 271, 184)
    pdf.set_y(24)
    _centred(pdf, view.organisation, 13, _MUTED, 6)
    _centred(pdf, view.kind_label.upper(), 30, _ACCENT, 3)
    _centred(pdf, view.title, 18, _INK, 8)
    _centred(pdf, view.awarded_to, 12, _MUTED, 2)
    _centred(pdf, view.learner_name or "\u00a0", 28, _INK, 8)
    facts = [f"{view.programme_label}: {view.programme_title}"]
    if view.path_title:
        facts.append(f"{view.path_label}: {view.path_title}")
    facts.append(f"{view.points_label}: {view.points}    {view.date_label}: {view.date}")
    for line in facts:
        _centred(pdf, line, 12, _INK, 1.5)
    pdf.set_xy(25, 168)
    pdf.set_font("noto", size=10)
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(200, 5, f"{view.issued_by} {view.organisation}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(25)
    pdf.multi_cell(200, 5, f"{view.verify_label} {view.verify_url}", new_x="LMARGIN")
    _qr(pdf, view.verify_url, 244, 158, 30)
    return bytes(pdf.output())
