"""The actor of the current request, for :mod:`library.access`: the signed-in staff member (portal
session or HTTP Basic on the API), else an anonymous reader, with the client address that decides the
reading room (``X-Forwarded-For`` is trusted only through ``HERITAGE_PROXY_HOPS``)."""

from __future__ import annotations

from flask import current_app, g, request

from library.access import Actor


def current_actor() -> Actor:
    """Who is asking, computed once per request. Every route that shows an item's record or content
    passes this to ``platform.access`` (never a bare ``None``)."""
    if "actor" not in g:
        from web.auth import current_user as basic_user
        from web.staff import signed_in_user

        user = signed_in_user()
        if user is None and request.authorization is not None:
            user = basic_user()
        g.actor = current_app.extensions["heritage"].access.actor(user, request.remote_addr)
    return g.actor
