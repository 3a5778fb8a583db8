"""One account per role, and the portal app that has them: shared by the staff-page tests."""

from __future__ import annotations

import base64
from library.access import Actor

from tests.web.test_portal import sign_in
from web import create_app

ACCOUNTS = {"librarian": ("thu.thu", "mat-khau-thu-thu"), "archivist": ("luu.tru", "mat-khau-luu-tru"),
            "curator": ("bao.tang", "mat-khau-bao-tang"), "admin": ("quan.tri", "mat-khau-quan-tri")}


def staffed_app(settings):
    """Yields the app with :data:`ACCOUNTS` created; closes its platform afterwards."""
    app = create_app({"TESTING": True}, settings=settings)
    users = app.extensions["heritage"].users
    for role, (name, password) in ACCOUNTS.items():
        users.create(Actor.system("tests"), name, password, role)
    yield app
    app.extensions["heritage"].close()


def client_as(app, role):
    client = app.test_client()
    if role is not None:
        r = sign_in(client, *ACCOUNTS[role])
        assert r.status_code == 302, role
    return client


def basic(role):
    name, password = ACCOUNTS[role]
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}
