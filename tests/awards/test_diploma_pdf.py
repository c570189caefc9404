"""The PDF diploma, read back with poppler's pdftotext: every script the programmes need."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from capacity_lti.awards.diploma_pdf import diploma_view, render_pdf
from capacity_lti.awards.rules import due_awards
from capacity_lti.content import Programme
from tests.conftest import require

VERIFY = "https://tool.example.org/verify/q3Jx8mVbT0aZ1yPn4KcW2g"
ISSUED = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)

# (language, a learner's name, the programme's title in that language)
SCRIPTS = [
    ("pl", "Zofia Wróblewska-Łęcka", "Lokalne działania na rzecz klimatu i energii"),
    ("ro", "Ștefania Țurcanu-Bălănescu", "Acțiune locală pentru climă și energie"),
    ("hr", "Đurđica Šimić-Kovačević", "Lokalno djelovanje za klimu i energiju"),
    ("sl", "Žiga Čeh Šušteršič", "Lokalno ukrepanje za podnebje in energijo"),
    ("et", "Tõnu Õunapuu-Käärik", "Kohalik kliima- ja energiategevus"),
    ("az", "Gülnarə Əliyeva İsmayılqızı", "Yerli iqlim və enerji fəaliyyəti"),
    ("el", "Ελένη Παπαδοπούλου", "Τοπική δράση για το κλίμα και την ενέργεια"),
    ("bg", "Цветелина Йорданова-Щерева", "Местни действия за климата и енергията"),
    ("uk", "Олександра Ґудзь-Їжакевич", "Місцеві дії щодо клімату та енергетики"),
    ("ka", "ნინო ბერიძე", "ადგილობრივი კლიმატისა და ენერგეტიკის ქმედებები"),
    ("hy", "Անահիտ Հովհաննիսյան", "Տեղական կլիմայական և էներգետիկ գործողություններ"),
]


def pdf_text(data: bytes, tmp_path: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        require("pdftotext is missing: apt-get install poppler-utils")
    pdf = tmp_path / "diploma.pdf"
    pdf.write_bytes(data)
    done = subprocess.run(
        [str(tool), "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True, timeout=60
    )
    return done.stdout.decode("utf-8")


def _diploma(programme: Programme) -> object:
    return next(a for a in due_awards(programme, set(programme.modules)) if a.kind == "diploma")


@pytest.mark.parametrize(("language", "name", "title"), SCRIPTS, ids=[s[0] for s in SCRIPTS])
def test_names_and_titles_in_every_script_survive_into_the_pdf_text(
    climate: Programme, tmp_path: Path, language: str, name: str, title: str
) -> None:
    programme = climate.model_copy(
        update={
            "title": {**climate.title, language: title},
            "languages": [*climate.languages, language],
        }
    )
    award = next(a for a in due_awards(programme, set(programme.modules)) if a.kind == "diploma")
    view = diploma_view(
        programme, award, learner_name=name, issued_at=ISSUED, language=language, verify_url=VERIFY
    )
    text = pdf_text(render_pdf(view), tmp_path)
    assert name in text
    assert title in text
    assert VERIFY in text


@pytest.mark.parametrize(
    ("programme_name", "language", "expected"),
    [
        (
            "climate",
            "en",
            [
                "DIPLOMA",
                "Diploma in local climate and energy action",
                "awarded to",
                "Points: 16",
                "Date: March 14, 2026",
                "Issued by European Local Climate Learning Network",
            ],
        ),
        ("climate", "en-GB", ["DIPLOMA", "Date: 14 March 2026"]),
        (
            "climate",
            "sv",
            [
                "DIPLOM",
                "Diplom i lokal klimat- och energiomställning",
                "utfärdat till",
                "Poäng: 16",
                "Datum: 14 mars 2026",
                "Europeiska nätverket för lokalt klimatlärande",
            ],
        ),
        (
            "climate",
            "fr",
            [
                "DIPLÔME",
                "Diplôme d'action locale pour le climat et l'énergie",
                "décerné(e) à",
                "Date: 14 mars 2026",
                "Réseau européen d'apprentissage local pour le climat",
            ],
        ),
        (
            "mobility",
            "it",
            [
                "DIPLOMA",
                "Diploma in innovazione per la mobilità sostenibile",
                "conferito a",
                "Punti: 13",
                "Data: 14 marzo 2026",
                "Rete europea per l'innovazione nella mobilità locale",
            ],
        ),
    ],
)
def test_every_language_of_the_examples(
    climate: Programme,
    mobility: Programme,
    tmp_path: Path,
    programme_name: str,
    language: str,
    expected: list[str],
) -> None:
    programme = climate if programme_name == "climate" else mobility
    done = {item.id for item in programme.items()}
    award = next(a for a in due_awards(programme, done) if a.kind == "diploma")
    view = diploma_view(
        programme,
        award,
        learner_name="Åsa Lindqvist",
        issued_at=ISSUED,
        language=language,
        verify_url=VERIFY,
    )
    text = pdf_text(render_pdf(view), tmp_path)
    for phrase in [*expected, "Åsa Lindqvist"]:
        assert phrase in text


def test_a_path_certificate_names_its_path(climate: Programme, tmp_path: Path) -> None:
    award = next(
        a
        for a in due_awards(climate, set(climate.path("officers").items))
        if a.path_id == "officers"
    )
    view = diploma_view(
        climate, award, learner_name="Ana", issued_at=ISSUED, language="en", verify_url=VERIFY
    )
    text = pdf_text(render_pdf(view), tmp_path)
    assert "CERTIFICATE" in text
    assert "Learning path: For municipal officers" in text
    assert "Points: 16" in text


def test_the_qr_code_reads_back_as_the_verification_address(
    climate: Programme, tmp_path: Path
) -> None:
    """Rendered by poppler, decoded by zbar: the QR code on the page is the verify URL."""
    tools = [shutil.which("pdftoppm"), shutil.which("zbarimg")]
    if None in tools:
        require("pdftoppm and zbarimg are missing: apt-get install poppler-utils zbar-tools")
    award = due_awards(climate, {"waste-beginner"})[0]
    view = diploma_view(
        climate, award, learner_name="Ana", issued_at=ISSUED, language="en", verify_url=VERIFY
    )
    (tmp_path / "d.pdf").write_bytes(render_pdf(view))
    subprocess.run(
        [str(tools[0]), "-png", "-r", "150", str(tmp_path / "d.pdf"), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    (page,) = tmp_path.glob("page*.png")
    found = subprocess.run(
        [str(tools[1]), "-q", "--raw", str(page)], capture_output=True, check=True, timeout=60
    )
    assert found.stdout.decode().strip() == VERIFY
