"""What every view needs, built once per app: database, settings, programme, keys, key caches."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app

from capacity_lti.content.model import Programme
from capacity_lti.lti.idtoken import KeySets
from capacity_lti.settings import Settings
from capacity_lti.storage import Database
from capacity_lti.storage.keys import KeyStore

EXTENSION = "capacity_lti"
_MAX_KEYSET_BYTES = 1_000_000


@dataclass(frozen=True)
class Services:
    """The app's long-lived parts; reach them with :func:`services` inside a request."""

    db: Database
    settings: Settings
    programme: Programme
    keys: KeyStore  # the tool's signing key and JWKS: `keys.ring()`, never cached elsewhere
    keysets: KeySets
    session_secret: bytes


def services() -> Services:
    """The current app's :class:`Services` (needs a request or app context)."""
    found: Services = current_app.extensions[EXTENSION]
    return found


def fetch_json(url: str) -> Mapping[str, Any]:
    """GET a platform's keyset (5 s timeout, at most 1 MB); errors surface as OSError/ValueError."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        document = json.loads(response.read(_MAX_KEYSET_BYTES + 1)[:_MAX_KEYSET_BYTES])
    if not isinstance(document, dict):
        raise ValueError("the keyset is not a JSON object")
    return document
