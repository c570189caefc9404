"""Parts of the learner pages that depend only on the programme and the page's language.

The programme never changes while the app runs, so these are made once per app, language
and URL root (the request's script root), never per request:

* each row of the programme home (title, link, level or kind, minutes, points, status
  label), rendered by the `_items.html` macro in every status with a marker where its
  link's query goes; a request only joins the two halves around its own `?s=<token>`, so a
  row is exactly what the macro renders, autoescaped the same way;
* the URLs of the programme's files, and each module's sections with their authored HTML
  adapted to the frame (`view.sections`); a request only marks the blocks its learner saw;
* whole pages for a learner state (`page`: the programme home of every learner who has
  done the same, with no diploma yet), where a request only puts in its session token.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Set
from typing import Any, TypeVar, cast
from urllib.parse import urlencode

from flask import current_app, g, request, url_for
from markupsafe import Markup, escape

from capacity_lti.awards.points import Status
from capacity_lti.content import Module, Programme
from capacity_lti.web import learner_view as view
from capacity_lti.web.session import FIELD, session_token

_MARK = Markup("<query>")  # autoescaped text cannot hold it: an authored "<" is "&lt;"
_MOST = 1024  # entries per cache: keys include the URL root, which comes from the request

Halves = dict[tuple[str, Status], tuple[str, str]]
T = TypeVar("T")


def _cached(name: str, key: Hashable, build: Callable[[], T]) -> T:
    """`build()`, made once per app for `key` and this request's URL root."""
    cache: dict[Hashable, T] = current_app.extensions.setdefault(f"capacity_lti.{name}", {})
    full = (key, request.script_root)
    found = cache.get(full)
    if found is None:
        found = build()
        if len(cache) < _MOST:
            cache[full] = found
    return found


def _halves(programme: Programme, language: view.Language) -> Halves:
    """Every item's row in every status, split where the link's query goes."""
    template = current_app.jinja_env.get_template("learner/_items.html")
    macro = cast(Any, template.make_module({"labels": view.LABELS})).item
    halves: Halves = {}
    for item in programme.items():
        if item.id in programme.modules:
            path = url_for("learner.module", module_id=item.id)
        else:
            path = url_for("learner.event", event_id=item.id)
        for status in Status:
            row = view.item_row(programme, language, item.id, status)
            before, mark, after = str(macro(row, escape(path) + _MARK)).partition(_MARK)
            if not mark or _MARK in after:
                raise RuntimeError(f"the row of {item.id!r} must hold its link's query once")
            halves[item.id, status] = (before, after)
    return halves


def rows(programme: Programme, language: view.Language) -> view.RowHtml:
    """This request's row renderer: the cached halves around its own session query."""
    halves = _cached("rows", language, lambda: _halves(programme, language))
    # The query exactly as url_for builds it (werkzeug's urlencode), then autoescaped.
    query = str(escape("?" + urlencode({FIELD: session_token()}, safe="!$'()*,/:;?@")))

    def row(item_id: str, status: Status) -> Markup:
        before, after = halves[item_id, status]
        return Markup(before + query + after)  # noqa: S704 (autoescaped parts)

    return row


def asset_urls(programme: Programme) -> Mapping[str, str]:
    """The tool's URL of every file the programme's content links to."""
    return _cached(
        "assets", None, lambda: {a: url_for("learner.asset", asset=a) for a in programme.assets}
    )


def sections(
    programme: Programme, module: Module, language: view.Language, seen: Set[str]
) -> list[view.SectionView]:
    """The module's sections for a learner who saw the blocks `seen`."""
    prepared = _cached(
        "sections",
        (module.id, language),
        lambda: view.sections(module, language, asset_urls(programme)),
    )
    return view.with_seen(prepared, seen)


_PAGES = 64  # whole pages kept per app, least recently used dropped first (~35 KB each)
_STAND_IN = secrets.token_hex(24)  # the session token's place in a kept page
_pages_lock = threading.Lock()


def page(key: Hashable, render: Callable[[], str]) -> str:
    """`render()`'s page, kept for `key`: with this request's URL root, the key must fix
    everything on the page but the session token. Made once with a stand-in token, then
    served with each request's own token in its place.

    The stand-in is hex and a token is base64url and ".", which escaping and URL quoting
    both leave as they are, so the page served is byte for byte what `render()` makes.
    """
    pages: OrderedDict[Hashable, str] = current_app.extensions.setdefault(
        "capacity_lti.pages", OrderedDict()
    )
    full = (key, request.script_root)
    with _pages_lock:
        found = pages.get(full)
        if found is not None:
            pages.move_to_end(full)
    if found is None:
        own = g.get("capacity_token")
        g.capacity_token = _STAND_IN
        try:
            found = render()
        finally:
            g.capacity_token = own
        with _pages_lock:
            pages[full] = found
            if len(pages) > _PAGES:
                pages.popitem(last=False)
    return found.replace(_STAND_IN, session_token())
