"""Authored Markdown to sanitised HTML.

CommonMark (with tables) rendered by markdown-it-py, then cleaned by nh3 (the
maintained Rust `ammonia` sanitiser) with an allow-list: formatting tags only, no
scripts, styles, event handlers, forms or frames, and URLs limited to http(s),
mailto and tel. Relative links and images must name a file inside the programme
folder; they are rewritten relative to the folder root.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h4", "h5",
    "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
}
_SCHEMES = {"http", "https", "mailto", "tel"}

_md = MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough")


@dataclass
class LinkProblem:
    line: int  # 1-based within the rendered text
    message: str


@dataclass
class Rendered:
    html: str
    assets: set[str] = field(default_factory=set)
    problems: list[LinkProblem] = field(default_factory=list)


def sanitise(html: str) -> str:
    """Clean HTML with the allow-list above (also used for any HTML from elsewhere)."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render(text: str, source: Path, root: Path) -> Rendered:
    """Render Markdown written in file `source` of the programme folder `root`."""
    result = Rendered(html="")
    lines = text.splitlines()
    tokens = _md.parse(text)
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        start, end = token.map if token.map else (0, len(lines))
        for child in token.children:
            attr = {"link_open": "href", "image": "src"}.get(child.type)
            if attr:
                target = str(child.attrs.get(attr, ""))
                line = next((n + 1 for n in range(start, end) if target in lines[n]), start + 1)
                _rewrite(child, attr, line, source, root, result)
    result.html = sanitise(_md.renderer.render(tokens, _md.options, {}))
    return result


def _rewrite(token: Token, attr: str, line: int, source: Path, root: Path, out: Rendered) -> None:
    target = str(token.attrs.get(attr, ""))
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path or target.startswith(("#", "/")):
        if target.startswith("/"):
            out.problems.append(
                LinkProblem(
                    line, f"link '{target}' starts with '/': write it relative to this file"
                )
            )
        return
    relative = PurePosixPath(
        posixpath.normpath(
            posixpath.join(source.parent.relative_to(root).as_posix(), unquote(parts.path))
        )
    )
    if relative.parts and relative.parts[0] == "..":
        out.problems.append(
            LinkProblem(line, f"link '{target}' points outside the programme folder")
        )
        return
    if not (root / relative).is_file():
        out.problems.append(
            LinkProblem(line, f"link '{target}' names a file that does not exist ({relative})")
        )
        return
    out.assets.add(relative.as_posix())
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    token.attrs[attr] = relative.as_posix() + fragment
