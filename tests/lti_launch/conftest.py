"""The tool on a real HTTP server (werkzeug, 127.0.0.1, port 0) and a Moodle-like platform.

A test-only probe page echoes the session a request carries, so a launch can be followed to
whatever page it opens.
"""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Blueprint, Flask, request, url_for
from markupsafe import Markup
from werkzeug.serving import BaseWSGIServer, make_server

from capacity_lti.settings import Settings
from capacity_lti.storage.platforms import add_platform
from capacity_lti.web import create_app
from capacity_lti.web.services import services
from capacity_lti.web.session import current_session, session_url
from tests.lti_launch.platforms import MoodleLike, query_of, read_form

MODULE = "ghg-inventory-beginner"


def _echo(page: str, **extra: Any) -> str:
    session = current_session()
    data = {
        "page": page,
        "session": asdict(session),
        "cookie": request.headers.get("Cookie"),
        **extra,
    }
    link = session_url("learner.module", module_id=MODULE)
    return str(
        Markup(
            '<!doctype html><html lang="{}"><title>{}</title>'
            '<script type="application/json" id="echo">{}</script>'
            '<a id="next" href="{}">next</a></html>'
        ).format(session.locale, page, Markup(json.dumps(data).replace("<", "\\u003c")), link)
    )


def echoed(page: str) -> dict[str, Any]:
    start = page.index('id="echo">') + len('id="echo">')
    return json.loads(page[start : page.index("</script>", start)])  # type: ignore[no-any-return]


def probe(app: Flask) -> None:
    """A test-only page that shows the session a request carries (whatever page a launch opens)."""
    blueprint = Blueprint("probe", __name__)
    blueprint.add_url_rule("/probe/session", "session", lambda: _echo("probe"))
    app.register_blueprint(blueprint)


def address_of(result: requests.Response) -> str:
    """The address a launch's page puts in place of /launch (static/address.js): the page's
    own URL, session token attached. The launch answers with the page itself (200)."""
    assert result.status_code == 200, result.text
    found = re.search(r'<script src="[^"]*/address\.js" data-address="([^"]+)"', result.text)
    assert found, "the launched page names no address"
    return html.unescape(found.group(1))


def lands_on(tool: Tool, result: requests.Response, endpoint: str, **values: str) -> bool:
    """Whether a launch shows `endpoint`'s page (wherever its area mounts it), token attached."""
    with tool.app.test_request_context():
        path = url_for(endpoint, **values)
    address = address_of(result)
    return address.startswith(path + "?") and "s" in query_of(address)


def session_of(tool: Tool, result: requests.Response) -> dict[str, Any]:
    """The session a launch's page carries, read back through the probe page."""
    token = query_of(address_of(result))["s"]
    page = requests.get(tool.url + "/probe/session", params={"s": token}, timeout=10)
    assert page.status_code == 200, page.text
    return echoed(page.text)["session"]  # type: ignore[no-any-return]


@dataclass
class Tool:
    app: Flask
    url: str
    server: BaseWSGIServer

    def db(self) -> Any:
        with self.app.app_context():
            return services().db


def serve(app: Flask, host: str = "127.0.0.1") -> Tool:
    server = make_server(host, 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return Tool(app, f"http://{host}:{server.server_port}", server)


@pytest.fixture
def moodle() -> Iterator[MoodleLike]:
    platform = MoodleLike()
    yield platform
    platform.close()


def make_tool(
    tmp_path: Path, database_url: str, moodle: MoodleLike, **settings: Any
) -> Iterator[Tool]:
    app = create_app(
        Settings(instance_path=tmp_path / "instance", database_url=database_url, **settings)
    )
    probe(app)
    tool = serve(app)
    add_platform(
        tool.db(),
        issuer=moodle.issuer,
        client_id=moodle.client_id,
        auth_login_url=moodle.auth_url,
        auth_token_url=moodle.token_url,
        key_set_url=moodle.keyset_url,
        deployment_ids=(moodle.deployment_id,),
        name="Moodle 4.5",
    )
    moodle.tool_login = tool.url + "/lti/login"
    moodle.redirect_uri = tool.url + "/launch"
    moodle.target = tool.url + "/launch"
    yield tool
    tool.server.shutdown()
    tool.server.server_close()


@pytest.fixture
def tool(tmp_path: Path, database_url: str, moodle: MoodleLike) -> Iterator[Tool]:
    yield from make_tool(tmp_path, database_url, moodle)


@dataclass
class Launch:
    """What one launch went through: the tool's login answer, the form posted, the result."""

    login: requests.Response
    form: dict[str, str]
    result: requests.Response


def launch(tool: Tool, moodle: MoodleLike, http: requests.Session | None = None) -> Launch:
    """Moodle's flow: POST the initiation, follow to the platform, post its form to /launch."""
    http = http or requests.Session()
    login = http.post(
        tool.url + "/lti/login", data=moodle.initiation(), allow_redirects=False, timeout=10
    )
    assert login.status_code == 302, login.text
    auth = http.get(login.headers["Location"], timeout=10)
    assert auth.status_code == 200, auth.text
    action, form = read_form(auth.text)
    assert action == tool.url + "/launch"
    result = http.post(action, data=form, allow_redirects=False, timeout=10)
    return Launch(login, form, result)


def follow(tool: Tool, response: requests.Response) -> requests.Response:
    """The launched page asked for again at its own address (as a reload does): no cookie."""
    return requests.get(tool.url + address_of(response), timeout=10)
