"""Absolute URLs of the tool's own pages, as LMSs must see them.

Moodle and Canvas compare the login's redirect_uri byte for byte with the registered one, so
every URL the tool declares or sends (login, launch, keyset, logo, Canvas JSON) is built here:
on `public_url` when it is set, otherwise on the address of the request.
"""

from __future__ import annotations

from typing import Any

from flask import url_for

from capacity_lti.web.services import services


def external_url(endpoint: str, **values: Any) -> str:
    """`endpoint`'s absolute URL: `public_url` + its path when set, else the request's own."""
    base = services().settings.public_url
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)
