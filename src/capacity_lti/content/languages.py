"""Language tags: which are real, how text falls back, how an LMS locale picks one.

Tags are BCP 47 as authors write them (`en`, `sv`, `en-GB`, `pt-BR`). A tag with a
region is a country variant: its text falls back to its language, then to the
programme's default language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from babel import Locale, UnknownLocaleError

_TAG = re.compile(r"[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?\Z")


def check_tag(tag: str) -> str | None:
    """Return None when `tag` is a known language tag, else what to change."""
    if not _TAG.match(tag):
        return (
            f"'{tag}' is not a language tag: write a lower-case ISO 639 code, "
            "optionally with an upper-case region, e.g. 'fr' or 'fr-BE'"
        )
    try:
        Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError):
        return f"'{tag}' is not a known language; check the ISO 639 code (e.g. 'sv' for Swedish)"
    return None


def base_language(tag: str) -> str:
    """`sv-FI` -> `sv`; `sv` -> `sv`."""
    return tag.split("-", 1)[0]


def fallback_chain(tag: str, default: str) -> tuple[str, ...]:
    """The languages to try, in order, for text in `tag`: variant, language, default."""
    chain = [tag]
    base = base_language(tag)
    if base != tag:
        chain.append(base)
    if default not in chain:
        chain.append(default)
    return tuple(chain)


def negotiate(requested: str | None, available: Sequence[str], default: str) -> str:
    """Pick the best available tag for an LMS locale (`pt_br`, `pt-BR`, `en`, None).

    Moodle sends `fr`, `pt_br`, `en_us`; Canvas sends `pt-BR`. Exact match first,
    then the same language, then the default.
    """
    if not requested:
        return default
    parts = requested.replace("_", "-").split("-")
    language = parts[0].lower()
    region = parts[1].upper() if len(parts) > 1 and len(parts[1]) == 2 else ""
    wanted = f"{language}-{region}" if region else language
    if wanted in available:
        return wanted
    if language in available:
        return language
    same_language = [tag for tag in available if base_language(tag) == language]
    return same_language[0] if same_language else default


def display_name(tag: str, in_language: str | None = None) -> str:
    """A human name for a tag (`sv` -> `svenska`), for reports and language menus."""
    locale = Locale.parse(tag, sep="-")
    name = locale.get_display_name(in_language or tag)
    return name or tag


def unknown_tags(tags: Iterable[str], allowed: Sequence[str]) -> list[str]:
    """The tags in `tags` that are not in `allowed`, in their original order."""
    return [tag for tag in tags if tag not in allowed]
