"""The LTI endpoints: OIDC login, the one launch URL, and the tool's JWKS."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from capacity_lti.web.services import services

blueprint = Blueprint("lti", __name__)


@blueprint.get("/.well-known/jwks.json")
@blueprint.get("/lti/jwks")
def jwks() -> tuple[dict[str, Any], int, dict[str, str]]:
    """The tool's public keys (current and recently retired), for platforms to verify us."""
    return services().keys.jwks(), 200, {"Cache-Control": "public, max-age=300"}
