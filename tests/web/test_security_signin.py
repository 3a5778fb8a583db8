"""Security fixes of issue #10 (point 6) around signing in, through the real app and its test client:
name variants and addresses share the failure counts, HTTP Basic failures are counted like sign-ins,
``next=`` stays on the site, sign-out ends the session on the server, an unknown name costs the same
hashing as a known one, common passwords are refused, and the API says 401 (with WWW-Authenticate)
when credentials are missing. Catalogue on a SQLite file in the test's data folder."""

from __future__ import annotations

import base64
import hashlib

import pytest

from library.access import Actor
from library.errors import InputRejected
from tests.conftest import make_settings
from tests.web.test_portal import csrf_of, sign_in
from web import create_app

PASSWORD = "mat-khau-thu-thu"


def _app(data_dir):
    app = create_app({"TESTING": True}, settings=make_settings(data_dir))
    return app


@pytest.fixture
def app(tmp_path):
    app = _app(tmp_path / "data")
    app.extensions["heritage"].users.create(Actor.system("tests"), "thu.thu", PASSWORD, "librarian")
    app.extensions["heritage"].users.create(Actor.system("tests"), "luu.tru", "mat-khau-luu-tru", "archivist")
    yield app
    app.extensions["heritage"].close()


def basic(name: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


# ------------------------------------------------------------------ 1. the sign-in limit
def test_case_and_white_space_variants_of_a_name_share_one_failure_count(app):
    client = app.test_client()
    for variant in ("thu.thu", "THU.THU", " thu.thu", "Thu.Thu\t", "thu.thu\u00a0"):
        r = sign_in(client, variant, "wrong-password")
        assert r.status_code == 401, variant
    r = sign_in(client, "thu.thu", PASSWORD)  # the right password waits too
    assert r.status_code == 429


def test_failures_are_counted_per_address_across_names(app):
    client = app.test_client()
    for n in range(20):  # one client trying many names, each only once
        assert sign_in(client, f"nguoi.{n}", "wrong-password").status_code == 401
    assert sign_in(client, "luu.tru", "mat-khau-luu-tru").status_code == 429
    other = app.test_client()  # another address is not blocked
    r = sign_in(other, "luu.tru", "mat-khau-luu-tru")
    assert r.status_code == 429  # the test client has one address; a different one is shown below
    r = other.post("/staff/login", data={"username": "luu.tru", "password": "mat-khau-luu-tru",
                                         "csrf_token": csrf_of(other.get("/staff/login").get_data(as_text=True))},
                   environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert r.status_code == 302


def test_the_count_is_shared_by_the_processes_of_one_machine(tmp_path):
    """Two apps on one data folder (as two web processes are) see one count."""
    first, second = _app(tmp_path / "data"), _app(tmp_path / "data")
    try:
        first.extensions["heritage"].users.create(Actor.system("tests"), "thu.thu", PASSWORD, "librarian")
        for n in range(5):
            app = (first, second)[n % 2]
            assert sign_in(app.test_client(), "thu.thu", "wrong-password").status_code == 401
        assert sign_in(second.test_client(), "thu.thu", PASSWORD).status_code == 429
        assert sign_in(first.test_client(), "thu.thu", PASSWORD).status_code == 429
    finally:
        first.extensions["heritage"].close()
        second.extensions["heritage"].close()


# ------------------------------------------------------------------ 2. HTTP Basic
def test_failed_http_basic_attempts_are_limited_like_sign_ins(app):
    client = app.test_client()
    for variant in ("thu.thu", "THU.THU", " thu.thu", "thu.thu ", "Thu.thu"):
        r = client.get("/api/v1/jobs", headers=basic(variant, "wrong-password"))
        assert r.status_code == 401, variant
    r = client.get("/api/v1/jobs", headers=basic("thu.thu", PASSWORD))
    assert r.status_code == 429 and r.headers.get("Retry-After")
    # and the portal's form counts the same failures
    assert sign_in(client, "thu.thu", PASSWORD).status_code == 429


# ------------------------------------------------------------------ 3 and 9. next=
@pytest.mark.parametrize("target", [
    "/%09/evil.example", "//evil.example/x", "/\\evil.example", "/%5Cevil.example", "https://evil.example/",
    "javascript:alert(1)", "/staff/%0d%0aSet-Cookie:%20a=b", "/staff/%0aX", "/%0d/evil.example",
    "%2F%2Fevil.example",
])
def test_next_never_leaves_the_site(app, target):
    client = app.test_client()
    token = csrf_of(client.get("/staff/login").get_data(as_text=True))
    r = client.post(f"/staff/login?next={target}", data={"username": "thu.thu", "password": PASSWORD,
                                                         "csrf_token": token})
    assert r.status_code == 302, r.status_code  # a line break is no 500
    assert r.headers["Location"] == "/staff/"


def test_a_path_on_the_site_is_kept_as_next(app):
    client = app.test_client()
    token = csrf_of(client.get("/staff/login").get_data(as_text=True))
    r = client.post("/staff/login?next=/staff/upload%3Flang%3Den", data={"username": "thu.thu",
                                                                          "password": PASSWORD, "csrf_token": token})
    assert r.headers["Location"] == "/staff/upload?lang=en"


# ------------------------------------------------------------------ 6. sign-out
def test_sign_out_ends_the_session_on_the_server(app):
    client = app.test_client()
    assert sign_in(client, "thu.thu", PASSWORD).status_code == 302
    stolen = client.get_cookie("session").value
    assert client.get("/staff/").status_code == 200
    token = csrf_of(client.get("/staff/").get_data(as_text=True))
    client.post("/staff/logout", data={"csrf_token": token})
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    r = replay.get("/staff/")
    assert r.status_code == 302 and "/staff/login" in r.headers["Location"]
    assert sign_in(client, "thu.thu", PASSWORD).status_code == 302  # signing in again works
    assert client.get("/staff/").status_code == 200


# ------------------------------------------------------------------ 7. timing of unknown names
def test_an_unknown_name_costs_the_same_hashing_as_a_known_one(app, monkeypatch):
    users = app.extensions["heritage"].users
    calls = []
    real = hashlib.scrypt

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    users.authenticate("khong.co", "whatever-password")  # first use may prepare what it needs
    monkeypatch.setattr(hashlib, "scrypt", counting)
    assert users.authenticate("khong.co.ai", "whatever-password") is None
    unknown = len(calls)
    calls.clear()
    assert users.authenticate("thu.thu", "wrong-password") is None
    known = len(calls)
    assert unknown == known == 1


# ------------------------------------------------------------------ 8. common passwords
@pytest.mark.parametrize("password", ["password1234", "1234567890", "qwertyuiop", "matkhau123456",
                                      "nguoi.moi.2024", "aaaaaaaaaaaa"])
def test_common_and_guessable_passwords_are_refused(app, password):
    users = app.extensions["heritage"].users
    with pytest.raises(InputRejected) as exc:
        users.create(Actor.system("tests"), "nguoi.moi", password, "librarian")
    assert exc.value.source == "password"
    assert "quá phổ biến" in str(exc.value) and "too common" in str(exc.value)


def test_the_admin_form_says_why_a_password_is_refused(app):
    app.extensions["heritage"].users.create(Actor.system("tests"), "quan.tri", "mat-khau-quan-tri", "admin")
    client = app.test_client()
    assert sign_in(client, "quan.tri", "mat-khau-quan-tri").status_code == 302
    token = csrf_of(client.get("/staff/admin/users").get_data(as_text=True))
    r = client.post("/staff/admin/users?lang=en", data={"username": "nguoi.moi", "password": "password1234",
                                                        "role": "librarian", "csrf_token": token})
    assert r.status_code == 422
    assert "too common" in r.get_data(as_text=True)


# ------------------------------------------------------------------ 13. 401 on the API
def test_the_api_answers_401_with_www_authenticate_without_credentials(app):
    client = app.test_client()
    for headers in ({}, basic("thu.thu", "wrong-password")):
        r = client.get("/api/v1/jobs", headers=headers)
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic realm=")
        assert r.json["message"].startswith("sign in")
    r = client.post("/api/v1/items/1/retry", headers=basic("luu.tru", "mat-khau-luu-tru"))
    assert r.status_code == 403  # signed in, but the role may not: still 403
    assert client.get("/api/v1/jobs", headers=basic("thu.thu", PASSWORD)).status_code == 200


@pytest.mark.integration
def test_with_redis_the_count_lives_in_redis(tmp_path, redis_server):
    """The Redis deployment counts in the broker's Redis: two apps on two data folders (two machines)
    share one count."""
    import redis

    apps = [create_app({"TESTING": True}, settings=make_settings(tmp_path / f"m{n}", broker_url=redis_server))
            for n in (1, 2)]
    try:
        assert apps[0].config["RATELIMIT_STORAGE_URI"] == redis_server
        for app in apps:
            app.extensions["heritage"].users.create(Actor.system("tests"), "thu.thu", PASSWORD, "librarian")
        for n in range(5):
            assert sign_in(apps[n % 2].test_client(), "Thu.Thu", "wrong-password").status_code == 401
        assert sign_in(apps[1].test_client(), "thu.thu", PASSWORD).status_code == 429
        assert any(b"sign-in" in k for k in redis.Redis.from_url(redis_server).keys("*"))
    finally:
        for app in apps:
            app.extensions["heritage"].close()
        redis.Redis.from_url(redis_server).flushdb()
