"""OAI-PMH 2.0 for harvesters (union catalogues, aggregators): ``/oai``, GET or POST
(``application/x-www-form-urlencoded``). The protocol lives in :mod:`library.discovery.oai`; this edge
passes the request's arguments and answers its XML. Errors are part of the protocol (an ``<error>``
element in a 200 answer), never an HTML page.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from library.discovery.oai import OaiProvider, repository_id_of

bp = Blueprint("oai", __name__)


def _provider() -> OaiProvider:
    """One provider per app (it holds no state between requests: tokens carry it)."""
    provider = current_app.extensions.get("heritage_oai")
    if provider is None:
        platform = current_app.extensions["heritage"]
        settings = platform.settings
        repository_id = repository_id_of(settings.oai_repository_id, settings.public_url, request.host)
        provider = OaiProvider(platform.sessions, platform.access, secret_key=current_app.config["SECRET_KEY"],
                               repository_id=repository_id,
                               admin_emails=[settings.oai_admin_email] if settings.oai_admin_email else [],
                               page_size=settings.oai_page_size)
        current_app.extensions["heritage_oai"] = provider
    return provider


@bp.route("/oai", methods=["GET", "POST"])
def endpoint() -> Response:
    if request.method == "POST":
        if request.mimetype != "application/x-www-form-urlencoded":
            return Response("OAI-PMH requests by POST are application/x-www-form-urlencoded\n", status=415,
                            mimetype="text/plain")
        args = list(request.form.items(multi=True))
    else:
        args = list(request.args.items(multi=True))
    body = _provider().respond(args, base_url=request.base_url, portal_url=request.url_root)
    return Response(body, mimetype="text/xml", headers={"Cache-Control": "no-store"})
