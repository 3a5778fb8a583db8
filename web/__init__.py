"""The Flask portal and APIs: ``create_app(test_config=None)`` builds the app."""

from __future__ import annotations

from flask import Flask

from library.settings import Settings


def create_app(test_config: dict | None = None, *, settings: Settings | None = None) -> Flask:
    from library.container import build_platform
    from web import api, errors, iiif, iiif_search, monuments, pages, security, staff

    app = Flask(__name__)
    settings = settings or Settings.from_env()
    app.config.from_mapping(
        HERITAGE_SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.limits.max_file_bytes,
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update(test_config)
    app.json.ensure_ascii = False  # Vietnamese stays readable in JSON answers
    app.extensions["heritage"] = build_platform(settings)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(monuments.bp)
    app.register_blueprint(iiif_search.bp)
    app.register_blueprint(iiif.bp)
    errors.init_app(app)
    security.init_app(app, settings.data_dir)
    security.csrf.exempt(api.bp)  # the JSON API authenticates every request (HTTP Basic), no cookies
    security.csrf.exempt(iiif_search.bp)
    security.csrf.exempt(iiif.bp)
    return app
