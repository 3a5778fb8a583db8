"""Account administration, for administrators only: list, create (hashed passwords),
change a role, deactivate and reactivate, reset a password — each taking effect on
open sessions at once; the last active administrator stays; CSRF on every form;
every route refused to every other role."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from library.access import Actor
from library.errors import PermissionDenied
from library.catalogue.models import Role, User
from library.access.users import LastAdmin
from tests.web.test_portal import csrf_of, sign_in
from tests.web.staff_accounts import ACCOUNTS, client_as, staffed_app


@pytest.fixture
def app(settings):
    yield from staffed_app(settings)


def user_id(app, name):
    return app.extensions["heritage"].users.get(name).id


def admin_form(client, path, **fields):
    token = csrf_of(client.get("/staff/admin/users").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **fields})


def test_an_admin_lists_and_creates_accounts_with_hashed_passwords(app):
    admin = client_as(app, "admin")
    html = admin.get("/staff/admin/users").get_data(as_text=True)
    assert ">Tài khoản</a>" in html  # in the admin's navigation
    for name, _ in ACCOUNTS.values():
        assert f"<td>{name}" in html
    assert "quan.tri (bạn)" in html and "người phụ trách di tích" in html
    assert ">Tài khoản</a>" not in client_as(app, "librarian").get("/staff/").get_data(as_text=True)

    assert admin.post("/staff/admin/users", data={"username": "x.y", "password": "mat-khau-dai-lam",
                                                  "role": "librarian"}).status_code == 400  # no CSRF token
    r = admin_form(admin, "/staff/admin/users", username="Thu.Thu2", password="mat-khau-moi-dai", role="archivist",
                   display_name="<script>alert(1)</script> Nguyễn Văn A")
    assert r.status_code == 302
    html = admin.get(r.headers["Location"]).get_data(as_text=True)
    assert "Đã tạo tài khoản thu.thu2 (lưu trữ viên)." in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Nguyễn Văn A" in html and "<script>alert(1)" not in html
    with app.extensions["heritage"].sessions() as s:
        stored = s.scalars(select(User).where(User.username == "thu.thu2")).one()
        assert stored.role == Role.archivist and stored.password_hash.startswith("scrypt:")
        assert "mat-khau-moi-dai" not in stored.password_hash
    assert sign_in(app.test_client(), "thu.thu2", "mat-khau-moi-dai").status_code == 302

    bad = admin_form(admin, "/staff/admin/users", username="a b<", password="mat-khau-dai-lam", role="librarian")
    assert bad.status_code == 422 and "Tên đăng nhập “a b&lt;” không hợp lệ" in bad.get_data(as_text=True)
    short = admin_form(admin, "/staff/admin/users?lang=en", username="ngan", password="ngan", role="librarian")
    assert short.status_code == 422 and "at least 10" in short.get_data(as_text=True)
    assert 'value="ngan"' in short.get_data(as_text=True)  # the form keeps what was typed (but no password)
    role = admin_form(admin, "/staff/admin/users?lang=vi", username="vai.tro", password="mat-khau-dai-lam",
                      role="superuser")
    assert role.status_code == 422 and "Vai trò “superuser” không có" in role.get_data(as_text=True)
    dup = admin_form(admin, "/staff/admin/users", username="thu.thu", password="mat-khau-dai-lam", role="librarian")
    assert dup.status_code == 409 and "Đã có tài khoản tên “thu.thu”." in dup.get_data(as_text=True)
    with app.extensions["heritage"].sessions() as s:
        assert not s.scalars(select(User).where(User.username.in_(["ngan", "vai.tro"]))).all()


def test_role_changes_deactivation_and_password_resets_reach_open_sessions(app):
    admin = client_as(app, "admin")
    librarian = client_as(app, "librarian")
    assert librarian.get("/staff/upload").status_code == 200
    lib_id = user_id(app, "thu.thu")

    r = admin_form(admin, f"/staff/admin/users/{lib_id}/role", role="curator")
    assert "thu.thu giờ là người phụ trách di tích." in admin.get(r.headers["Location"]).get_data(as_text=True)
    assert librarian.get("/staff/upload").status_code == 403  # at once, in the session already open
    bad = admin_form(admin, f"/staff/admin/users/{lib_id}/role", role="root")
    assert bad.status_code == 422 and "Vai trò “root” không có" in bad.get_data(as_text=True)
    assert admin_form(admin, "/staff/admin/users/999999/role", role="curator").status_code == 404

    r = admin_form(admin, f"/staff/admin/users/{lib_id}/deactivate")
    assert "Đã khoá tài khoản thu.thu" in admin.get(r.headers["Location"]).get_data(as_text=True)
    assert librarian.get("/staff/").status_code == 302  # signed out
    assert sign_in(app.test_client(), *ACCOUNTS["librarian"]).status_code == 401
    assert 'id="user-%d" class="inactive"' % lib_id in admin.get("/staff/admin/users").get_data(as_text=True)
    r = admin_form(admin, f"/staff/admin/users/{lib_id}/reactivate")
    assert "Đã mở khoá tài khoản thu.thu." in admin.get(r.headers["Location"]).get_data(as_text=True)
    librarian = client_as(app, "librarian")

    short = admin_form(admin, f"/staff/admin/users/{lib_id}/password", password="ngan")
    assert short.status_code == 422 and "ít nhất 10" in short.get_data(as_text=True)
    assert librarian.get("/staff/").status_code == 200  # a refused reset changes nothing
    r = admin_form(admin, f"/staff/admin/users/{lib_id}/password", password="mat-khau-moi-cua-thu-thu")
    assert "Đã đặt lại mật khẩu của thu.thu" in admin.get(r.headers["Location"]).get_data(as_text=True)
    assert librarian.get("/staff/").status_code == 302  # the session opened with the old password ended
    assert sign_in(app.test_client(), *ACCOUNTS["librarian"]).status_code == 401
    assert sign_in(app.test_client(), "thu.thu", "mat-khau-moi-cua-thu-thu").status_code == 302

    me = user_id(app, "quan.tri")
    admin_form(admin, f"/staff/admin/users/{me}/password", password="mat-khau-quan-tri-moi")
    assert admin.get("/staff/admin/users").status_code == 200  # resetting one's own password keeps one signed in


def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated(app):
    admin = client_as(app, "admin")
    me = user_id(app, "quan.tri")
    r = admin_form(admin, f"/staff/admin/users/{me}/role", role="librarian")
    assert r.status_code == 409
    assert "quan.tri là quản trị viên cuối cùng còn hoạt động" in r.get_data(as_text=True)
    r = admin_form(admin, f"/staff/admin/users/{me}/deactivate?lang=en")
    assert r.status_code == 409 and "quan.tri is the last active administrator" in r.get_data(as_text=True)
    users = app.extensions["heritage"].users
    me_user = users.get("quan.tri")
    assert me_user.role == Role.admin and me_user.active
    me_actor = Actor.for_user(me_user)

    second = users.create(Actor.system("tests"), "quan.tri.2", "mat-khau-quan-tri-2", "admin")
    users.set_active(me_actor, second.id, False)  # an inactive admin does not count
    with pytest.raises(LastAdmin):
        users.set_role(me_actor, me_user.id, "curator")
    users.set_active(me_actor, second.id, True)
    r = admin_form(admin, f"/staff/admin/users/{me}/role", role="librarian")  # now someone else can manage accounts
    assert r.status_code == 302 and users.get("quan.tri").role == Role.librarian
    assert admin.get("/staff/admin/users").status_code == 403  # no longer an admin
    with pytest.raises(LastAdmin):
        users.set_active(Actor.for_user(users.get("quan.tri.2")), second.id, False)
    with pytest.raises(PermissionDenied, match="thu.thu"):  # only admins manage accounts
        users.create(Actor.for_user(users.get("thu.thu")), "khach", "mat-khau-dai-lam", "admin")


ADMIN_ROUTES = [("get", "/staff/admin/users"), ("post", "/staff/admin/users"), ("post", "/staff/admin/users/1/role"),
                ("post", "/staff/admin/users/1/deactivate"), ("post", "/staff/admin/users/1/reactivate"),
                ("post", "/staff/admin/users/1/password")]


@pytest.mark.parametrize("method,path", ADMIN_ROUTES)
def test_every_admin_route_refuses_every_other_role(app, method, path):
    anonymous = app.test_client()
    token = csrf_of(anonymous.get("/staff/login").get_data(as_text=True))
    r = getattr(anonymous, method)(path, data={"csrf_token": token})
    assert r.status_code == 302 and "/staff/login" in r.headers["Location"]
    before = {(u.username, u.role, u.active, u.password_hash) for u in app.extensions["heritage"].users.accounts()}
    for role in ("librarian", "archivist", "curator"):
        client = client_as(app, role)
        token = csrf_of(client.get("/staff/login").get_data(as_text=True))
        r = getattr(client, method)(path, data={"csrf_token": token, "role": "admin", "username": "ke.gian",
                                                "password": "mat-khau-ke-gian"})
        assert r.status_code == 403, (role, method, path)
        assert "Tài khoản của bạn không có quyền này." in r.get_data(as_text=True)
    after = {(u.username, u.role, u.active, u.password_hash) for u in app.extensions["heritage"].users.accounts()}
    assert after == before  # nothing changed
    client = client_as(app, "admin")
    token = csrf_of(client.get("/staff/login").get_data(as_text=True))
    r = getattr(client, method)(path, data={"csrf_token": token})
    assert r.status_code != 403


def test_the_admin_page_fits_a_phone(app):
    html = client_as(app, "admin").get("/staff/admin/users").get_data(as_text=True)
    assert '<div class="table-scroll">' in html and 'name="viewport"' in html
    assert len(re.findall(r'name="csrf_token"', html)) >= 1 + 3 * len(ACCOUNTS)  # every form carries its token
