"""Every UI string of the learner pages is translated into each shipped language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

import capacity_lti.web
from capacity_lti.web.translations import LANGUAGES, translations, ui_language

WEB = Path(capacity_lti.web.__file__).parent
FOLDER = WEB / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


def source_messages() -> set[str | tuple[str, ...]]:
    with (FOLDER / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: set[str | tuple[str, ...]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        WEB, method_map, options_map
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def catalog_messages(path: Path) -> dict[str | tuple[str, ...], object]:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {(m.id if isinstance(m.id, str) else tuple(m.id)): m.string for m in catalog if m.id}


def test_the_template_lists_every_string_of_the_sources() -> None:
    assert source_messages() == set(catalog_messages(FOLDER / "messages.pot"))


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_string_is_translated_with_the_same_placeholders(language: str) -> None:
    messages = catalog_messages(FOLDER / language / "LC_MESSAGES" / "messages.po")
    assert set(messages) == source_messages()
    for source, translated in messages.items():
        singular = source if isinstance(source, str) else source[0]
        forms = [translated] if isinstance(translated, str) else list(translated)  # type: ignore[call-overload]
        assert all(forms), f"{language}: {source!r} is not translated"
        for form in forms:
            assert sorted(PLACEHOLDER.findall(form)) == sorted(PLACEHOLDER.findall(singular)), (
                f"{language}: {source!r} -> {form!r}"
            )


def test_catalogs_load_from_the_po_files_alone() -> None:
    assert translations("sv").gettext("Knowledge check") == "Kunskapskontroll"
    assert translations("it").ngettext("%(num)d point", "%(num)d points", 5) == "%(num)d punti"
    assert translations("en").gettext("Knowledge check") == "Knowledge check"
    assert not list(FOLDER.rglob("*.mo"))  # nothing compiled is kept in the tree


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("sv", "sv"), ("sv-FI", "sv"), ("fr-BE", "fr"), ("it", "it"), ("de", "en"), (None, "en")],
)
def test_ui_language_negotiation(locale: str | None, expected: str) -> None:
    assert ui_language(locale) == expected
