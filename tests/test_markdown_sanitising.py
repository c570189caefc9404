"""Authored Markdown never yields HTML that can run code, whatever the author writes."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from capacity_lti.content.markdown import render

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" OnErRoR="alert(1)">',
    "<svg onload=alert(1)><circle r=1></svg>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href=" JaVaScRiPt:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](javascript&#58;alert(1))",
    "![img](javascript:alert(1))",
    "<javascript:alert(1)>",
    "[ref][1]\n\n[1]: javascript:alert(1)",
    '[x](https://ok.example "title" onclick="alert(1)")',
    "<details open ontoggle=alert(1)>x</details>",
    "<body onload=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>*{background:url(javascript:alert(1))}</style>",
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<input autofocus onfocus="alert(1)">',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<link rel="stylesheet" href="javascript:alert(1)">',
    "<!--><script>alert(1)</script>-->",
    '<a href="https://ok.example" target="_blank">x</a>',
    "```html\n<script>alert(1)</script>\n```",
    "`<img src=x onerror=alert(1)>`",
]

SAFE_SCHEMES = ("http:", "https:", "mailto:", "tel:")
FORBIDDEN_TAGS = {
    "script", "style", "iframe", "object", "embed", "svg", "math", "form", "input", "button",
    "base", "meta", "link", "body", "details",
}  # fmt: skip


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Collect()
    parser.feed(html)
    return parser.tags


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_renders_harmless(payload: str, tmp_path: Path) -> None:
    html = render(payload, tmp_path / "modules" / "m.en.md", tmp_path).html
    for tag, attrs in _tags(html):
        assert tag not in FORBIDDEN_TAGS, html
        for name, value in attrs:
            assert not name.startswith("on"), html
            assert name not in ("style", "target", "action", "formaction"), html
            if name in ("href", "src"):
                assert value is not None
                cleaned = "".join(value.split()).lower()
                assert cleaned.startswith(SAFE_SCHEMES) or ":" not in cleaned.split("/")[0], html


def test_code_shows_markup_as_text_not_elements(tmp_path: Path) -> None:
    html = render("`<img src=x onerror=alert(1)>`", tmp_path / "m.en.md", tmp_path).html
    assert html == "<p><code>&lt;img src=x onerror=alert(1)&gt;</code></p>\n"


def test_formatting_survives_sanitising(tmp_path: Path) -> None:
    text = "**Bold** and *it*, [site](https://example.org), a<sup>2</sup>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    html = render(text, tmp_path / "m.en.md", tmp_path).html
    assert '<a href="https://example.org" rel="noopener noreferrer">site</a>' in html
    assert "<strong>Bold</strong>" in html
    assert "<em>it</em>" in html
    assert "<sup>2</sup>" in html
    assert "<td>2</td>" in html


def test_relative_link_is_rewritten_to_the_programme_root(tmp_path: Path) -> None:
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "plan.pdf").write_bytes(b"%PDF")
    rendered = render(
        "[plan](../media/plan.pdf#page=2)", tmp_path / "modules" / "m.en.md", tmp_path
    )
    assert rendered.problems == []
    assert rendered.assets == {"media/plan.pdf"}
    assert 'href="media/plan.pdf#page=2"' in rendered.html
