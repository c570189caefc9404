"""Small HTML helpers: escaping, the JSON data block, and making content safe inside an LMS frame.

Authored HTML arrives sanitised by content.markdown (nh3), so attributes are always double
quoted with `"` escaped; the rewrites below rely on that form.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

_A = re.compile(r'<a((?:\s+[a-z-]+="[^"]*")*)\s*>')
_IMG = re.compile(r'<img((?:\s+[a-z-]+="[^"]*")*)\s*/?>')
_ATTR = re.compile(r'([a-z-]+)="([^"]*)"')
_URL_ATTR = re.compile(r'\b(href|src)="([^"]*)"')
_EXTERNAL = ("http:", "https:", "//")


def esc(text: str) -> str:
    """Text (never markup) for an HTML element or a double-quoted attribute."""
    return html.escape(text, quote=True)


def data_block(data: Mapping[str, Any]) -> str:
    """The `<script type="application/json" id="capacity-data">` element for `data`."""
    text = json.dumps(data, ensure_ascii=False, separators=(", ", ": "))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="capacity-data">{text}</script>'


def _attrs(text: str) -> dict[str, str]:
    return dict(_ATTR.findall(text))


def _open_in_new_tab(match: re.Match[str]) -> str:
    attrs = _attrs(match[1])
    if attrs.get("href", "").startswith("#") or "target" in attrs:
        return match[0]
    return f'<a{match[1]} target="_blank">'


def _image_as_link(match: re.Match[str]) -> str:
    """An image from another site would be loaded by the page: show a link to it instead."""
    attrs = _attrs(match[1])
    src = attrs.get("src", "")
    if not src.lower().startswith(_EXTERNAL):
        return match[0]
    label = html.unescape(attrs.get("alt") or attrs.get("title") or src)
    # The serialiser leaves < and > unescaped inside attribute values: escape for text.
    return f'<a href="{src}" rel="noopener noreferrer" target="_blank">{esc(label)}</a>'


def prepare(fragment: str, renames: Mapping[str, str]) -> str:
    """Authored HTML as a package page shows it.

    Links open in a new tab (leaving the SCO's page would end the LMS session), images from
    other sites become links (a package loads nothing from outside), and files renamed to
    safe ASCII names are linked by their new names.
    """
    if "<a" in fragment:
        fragment = _A.sub(_open_in_new_tab, fragment)
    if "<img" in fragment:
        fragment = _IMG.sub(_image_as_link, fragment)
    if renames:

        def rename(match: re.Match[str]) -> str:
            path, hash_, fragment_id = html.unescape(match[2]).partition("#")
            new = renames.get(unquote(path))
            if new is None:
                return match[0]
            return f'{match[1]}="{esc(new + hash_ + fragment_id)}"'

        fragment = _URL_ATTR.sub(rename, fragment)
    return fragment
