"""`/lti/canvas.json`: the tool's Canvas developer-key configuration ("Enter URL").

Canvas compares the login's redirect_uri byte for byte with the key's redirect URIs, which
"Paste JSON" fills from `target_link_uri`; the URLs are Dynamic Registration's, built by
web/urls.py on the same address the login uses.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response

from capacity_lti.lti.canvas import developer_key_configuration
from capacity_lti.web.registration import tool_description

blueprint = Blueprint("canvas", __name__)


@blueprint.get("/lti/canvas.json")
def configuration() -> Response:
    """The JSON Canvas reads at "Enter URL", indented for admins who paste it instead."""
    body = json.dumps(developer_key_configuration(tool_description()), indent=2, ensure_ascii=False)
    response = Response(body + "\n", mimetype="application/json")
    response.headers["Cache-Control"] = "no-cache"  # the programme title may change
    return response
