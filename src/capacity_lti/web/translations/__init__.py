"""The learner pages' own words (labels, buttons, messages) in the learner's language.

Source strings are English, marked with `_()` / `ngettext()` in templates and views;
`<lang>/LC_MESSAGES/messages.po` holds each translation. The `.po` files are the only
form kept: they are compiled in memory
when first needed, so a clean clone, an sdist and a wheel all work without a build step. After changing a string, regenerate the template and
merge it into each language (tests/learner/test_translations.py checks both)::

    pybabel extract -F src/capacity_lti/web/translations/babel.cfg --no-location \
        --sort-output --omit-header -o src/capacity_lti/web/translations/messages.pot \
        src/capacity_lti/web
    pybabel update -i src/capacity_lti/web/translations/messages.pot \
        -d src/capacity_lti/web/translations --no-location
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from capacity_lti.content.languages import negotiate

SOURCE_LANGUAGE = "en"
LANGUAGES = ("en", "fr", "it", "sv")


def ui_language(locale: str | None) -> str:
    """The UI language for an LMS locale (BCP 47): an exact or same-language match, else English."""
    return negotiate(locale, LANGUAGES, SOURCE_LANGUAGE)


@cache
def translations(language: str) -> NullTranslations:
    """The catalog of one UI language (English: the strings as written)."""
    if language not in LANGUAGES or language == SOURCE_LANGUAGE:
        return NullTranslations()
    po = resources.files(__name__) / language / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled)
