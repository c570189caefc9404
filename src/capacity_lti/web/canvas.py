"""`/lti/canvas.json`: the tool's Canvas developer-key configuration ("Enter URL").

Canvas compares the login's redirect_uri byte for byte with the key's redirect URIs, which
"Paste JSON" fills from `target_link_uri`; so every URL here sits on the address the login
uses (`public_url` when set, as in web/lti.py's launch_url), not merely the request's.
"""

from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import urlsplit

from flask import Blueprint, Response

from capacity_lti.lti.canvas import developer_key_configuration
from capacity_lti.lti.registration import ToolDescription
from capacity_lti.web.registration import tool_description
from capacity_lti.web.services import services

blueprint = Blueprint("canvas", __name__)


def _rebased(url: str, base: str) -> str:
    """`url`'s path under `base`, joined as launch_url joins public_url and url_for."""
    return base.rstrip("/") + urlsplit(url).path


def canvas_tool() -> ToolDescription:
    """The Dynamic Registration description, on the `public_url` address when one is set."""
    tool = tool_description()
    base = services().settings.public_url
    if not base:
        return tool
    return replace(
        tool,
        login_url=_rebased(tool.login_url, base),
        launch_url=_rebased(tool.launch_url, base),
        jwks_url=_rebased(tool.jwks_url, base),
        logo_url=_rebased(tool.logo_url, base) if tool.logo_url else None,
    )


@blueprint.get("/lti/canvas.json")
def configuration() -> Response:
    """The JSON Canvas reads at "Enter URL", indented for admins who paste it instead."""
    body = json.dumps(developer_key_configuration(canvas_tool()), indent=2, ensure_ascii=False)
    response = Response(body + "\n", mimetype="application/json")
    response.headers["Cache-Control"] = "no-cache"  # the programme title may change
    return response
