"""The Flask portal and APIs: ``create_app(test_config=None)`` builds the app."""

from __future__ import annotations

from flask import Flask

from library.settings import Settings


def create_app(test_config: dict | None = None, *, settings: Settings | None = None) -> Flask:
    from library.container import build_platform
    from web import api, browse, errors, iiif, iiif_search, monuments, pages, security, staff
    from web import static_files
    from web import admin, mirador, openapi  # accounts, an item in Mirador, the API's description
    from web import feedback  # readers' reports, comments, ratings; the staff's queue
    from web import curator  # monuments, 3D builds, points of interest and tours
    from web import exports  # whole items as searchable PDF, text, ALTO
    from web import serials  # newspapers and magazines by title, year and a calendar of issues
    from web import item_edit  # staff: edit, read again, access and withdrawal of an item
    from web import oai  # OAI-PMH 2.0 for harvesters
    from web import audit  # the audit trail for administrators (read-only)
    from web import findable  # robots.txt, sitemaps, stable page URLs, the item's record and citation

    app = Flask(__name__)
    app.url_map.converters["int"] = security.CatalogueId  # before any route: ids past 2⁶³−1 are 404, not 500
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
    app.register_blueprint(browse.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(mirador.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(monuments.bp)
    app.register_blueprint(monuments.api_bp)
    app.register_blueprint(curator.bp)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(feedback.api_bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(serials.bp)
    app.register_blueprint(iiif_search.bp)
    app.register_blueprint(iiif.bp)
    app.register_blueprint(item_edit.bp)
    app.register_blueprint(oai.bp)
    app.register_blueprint(findable.bp)
    app.register_blueprint(audit.bp)
    from web import metadata_export  # a collection's or a search's records as CSV and Dublin Core XML
    from web import item_pages  # staff and API: reorder, turn, replace, remove, add pages; delete; collection reread

    app.register_blueprint(item_pages.bp)
    app.register_blueprint(item_pages.api_bp)
    security.csrf.exempt(item_pages.api_bp)  # HTTP Basic, like api.bp

    app.register_blueprint(metadata_export.bp)
    from web import reader  # one page of an item at a time: /items/<id>/pages/<n>

    app.register_blueprint(reader.bp)
    from web import metrics  # /metrics (Prometheus) and /health/live, /health/ready

    app.register_blueprint(metrics.bp)
    from web import offline  # the monument guide without signal: manifest, service worker, icons

    offline.init_app(app)
    if settings.proxy_hops > 0:  # the client's address and scheme as the proxy saw them
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops,
                                x_host=settings.proxy_hops)
    if settings.public_url:  # absolute URLs (IIIF ids, manifests, API links) from the setting, never the Host header
        app.wsgi_app = security.PublicURL(app.wsgi_app, settings.public_url)
    errors.init_app(app)
    static_files.init_app(app)
    static_files.init_compression(app)
    security.init_app(app, settings.data_dir)
    security.csrf.exempt(api.bp)  # the JSON API authenticates every request (HTTP Basic), no cookies
    security.csrf.exempt(iiif_search.bp)
    security.csrf.exempt(iiif.bp)
    security.csrf.exempt(openapi.bp)  # read-only
    security.csrf.exempt(oai.bp)  # read-only, for harvesters (POST is a form of the same query)
    security.csrf.exempt(feedback.api_bp)  # JSON only (a cross-site form cannot send it); staff reads use HTTP Basic
    return app
