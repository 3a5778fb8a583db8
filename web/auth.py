"""API authentication: HTTP Basic against the catalogue's users (the portal's
session login comes with the portal)."""

from __future__ import annotations

from flask import current_app, request

from library.errors import PermissionDenied
from library.models import User


def current_user() -> User | None:
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        return None
    return current_app.extensions["heritage"].users.authenticate(auth.username, auth.password or "")


def require_user() -> User:
    user = current_user()
    if user is None:
        raise PermissionDenied("sign in with a staff account (HTTP Basic) to do this")
    return user
