"""The web tool: `create_app()` builds the Flask app; each area adds its blueprint below."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from flask import Blueprint, Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from capacity_lti.content.loader import load_programme
from capacity_lti.content.model import Programme
from capacity_lti.lti.idtoken import KeySets
from capacity_lti.settings import Settings
from capacity_lti.storage import open_database
from capacity_lti.storage.keys import KeyStore, ensure_key
from capacity_lti.storage.launches import tool_secret
from capacity_lti.web import (
    canvas,
    deep_linking,
    errors,
    instructor,
    learner,
    lti,
    registration,
    session,
    verify,
)
from capacity_lti.web.services import EXTENSION, Services, fetch_json

# One line per area: the blueprints the app serves.
BLUEPRINTS: list[Blueprint] = [
    lti.blueprint,
    registration.blueprint,
    deep_linking.blueprint,
    learner.blueprint,
    verify.blueprint,
    instructor.blueprint,
    canvas.blueprint,
]

_CHECKOUT_EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "climate-action"


def programme_folder(settings: Settings) -> Path:
    """The programme to serve: the setting, else the checkout's example, else the starter."""
    if settings.programme_dir is not None:
        return settings.programme_dir
    if (_CHECKOUT_EXAMPLE / "programme.yaml").is_file():
        return _CHECKOUT_EXAMPLE
    return Path(str(resources.files("capacity_lti.content") / "starter"))


def create_app(settings: Settings | None = None, *, programme: Programme | None = None) -> Flask:
    """The Flask app: database migrated, tool key made on first start, programme loaded once."""
    settings = settings or Settings()
    if programme is None:
        programme = load_programme(programme_folder(settings))
    db = open_database(settings)
    ensure_key(db)
    keys = KeyStore.from_settings(db, settings)
    keys.ring()  # the signing key is parsed at start, not on the first signature
    app = Flask(__name__, instance_path=str(settings.instance_path.resolve()))
    app.extensions[EXTENSION] = Services(
        db=db,
        settings=settings,
        programme=programme,
        keys=keys,
        keysets=KeySets(fetch_json),
        session_secret=tool_secret(db),
    )
    if settings.proxy_count:
        n = settings.proxy_count
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n
        )
    session.init_app(app)
    errors.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app
