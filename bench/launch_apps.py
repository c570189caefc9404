"""The comparison tools bench/launch.py serves with gunicorn (bench-only code).

    gunicorn --chdir bench 'launch_apps:pylti("docs")'    # (a) as PyLTI1p3's docs set it up
    gunicorn --chdir bench 'launch_apps:pylti("shared")'  # (a') the same, cache shared by workers
    gunicorn --chdir bench 'launch_apps:pylti("tuned")'   # (b) FileSystemCache, threshold 0
    gunicorn --chdir bench 'launch_apps:floor()'          # (c) two trivial responses + RS256

Each is configured from the environment that bench/launch.py sets: BENCH_ISSUER,
BENCH_CLIENT_ID, BENCH_DEPLOYMENT_ID, BENCH_AUTH_URL, BENCH_KEYSET_URL, BENCH_TOOL_KEY
(PEM), BENCH_PLATFORM_PUBLIC_KEY (PEM) and BENCH_CACHE_DIR.

(a) follows the PyLTI1p3 Flask example: Flask-Caching's in-process ``SimpleCache`` (its
``simple``) with a 600 s default timeout, ``FlaskCacheDataStorage`` for login and launch, a ``ToolConfDict``
and no public-key caching (so the library fetches the platform's keyset on each launch, its
documented default). SimpleCache lives in one worker process: a launch works only when its
login reached the same worker (a keep-alive connection usually does; a new connection
often does not). (a') is the docs' setup with a cache all workers share: Flask-Caching's
``FileSystemCache`` with its defaults (``CACHE_THRESHOLD`` 500: past 500 entries every write
scans the whole folder). (b) tunes that: ``CACHE_THRESHOLD=0`` (no counting or pruning).
Both answer the launch with a small page naming the learner; neither writes a database.
"""

from __future__ import annotations

import os
import secrets
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask import Flask, redirect, request
from flask_caching import Cache
from markupsafe import Markup
from pylti1p3.contrib.flask import (
    FlaskCacheDataStorage,
    FlaskMessageLaunch,
    FlaskOIDCLogin,
    FlaskRequest,
)
from pylti1p3.tool_config import ToolConfDict
from werkzeug.wrappers import Response

PAGE = Markup("<!doctype html><title>Launched</title><p>Hello {}</p>")


def _env(name: str) -> str:
    return os.environ[name]


def _tool_conf() -> ToolConfDict:
    issuer, client_id = _env("BENCH_ISSUER"), _env("BENCH_CLIENT_ID")
    conf = ToolConfDict(
        {
            issuer: [
                {
                    "default": True,
                    "client_id": client_id,
                    "auth_login_url": _env("BENCH_AUTH_URL"),
                    "auth_token_url": _env("BENCH_AUTH_URL") + "/token",
                    "key_set_url": _env("BENCH_KEYSET_URL"),
                    "key_set": None,
                    "deployment_ids": [_env("BENCH_DEPLOYMENT_ID")],
                }
            ]
        }
    )
    conf.set_private_key(issuer, _env("BENCH_TOOL_KEY"), client_id=client_id)
    return conf


def pylti(variant: str) -> Flask:
    """PyLTI1p3 2.0.0's Flask adapter doing a bare launch; `variant`: docs, shared, tuned."""
    app = Flask("bench-pylti1p3")
    config: dict[str, Any] = {"SECRET_KEY": "bench-only", "CACHE_DEFAULT_TIMEOUT": 600}
    if variant == "docs":
        config["CACHE_TYPE"] = "SimpleCache"  # the example's "simple", as Flask-Caching 2 names it
    elif variant in ("shared", "tuned"):
        config.update(CACHE_TYPE="FileSystemCache", CACHE_DIR=_env("BENCH_CACHE_DIR") + variant)
        if variant == "tuned":
            config["CACHE_THRESHOLD"] = 0
    else:
        raise ValueError(f"unknown variant {variant!r}")
    app.config.from_mapping(config)
    cache = Cache(app)
    tool_conf = _tool_conf()

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Response:
        flask_request = FlaskRequest()
        oidc = FlaskOIDCLogin(
            flask_request, tool_conf, launch_data_storage=FlaskCacheDataStorage(cache)
        )
        response: Response = oidc.redirect(flask_request.get_param("target_link_uri"))
        return response

    @app.post("/launch")
    def launch() -> str:
        launch = FlaskMessageLaunch(
            FlaskRequest(), tool_conf, launch_data_storage=FlaskCacheDataStorage(cache)
        )
        data = launch.get_launch_data()
        return str(PAGE.format(data.get("name", "")))

    return app


def floor() -> Flask:
    """The least a launch can be: a redirect, then one RS256 verification and a small page."""
    app = Flask("bench-floor")
    public_key = load_pem_public_key(_env("BENCH_PLATFORM_PUBLIC_KEY").encode())
    assert isinstance(public_key, RSAPublicKey)
    auth_url, client_id = _env("BENCH_AUTH_URL"), _env("BENCH_CLIENT_ID")

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Response:
        query = {
            "state": secrets.token_urlsafe(32),
            "nonce": secrets.token_urlsafe(32),
            "redirect_uri": request.host_url + "launch",
        }
        return redirect(auth_url + "?" + urlencode(query), 302)

    @app.post("/launch")
    def launch() -> str:
        claims = jwt.decode(
            request.form["id_token"], public_key, algorithms=["RS256"], audience=client_id
        )
        return str(PAGE.format(claims.get("name", "")))

    return app
