"""Account administration (administrators only): list the staff accounts, create one
(hashed password), change its role, deactivate or reactivate it, reset its password.
The last active administrator can be neither demoted nor deactivated. Every action is
a CSRF-protected form that answers with a redirect, or with the page and the reason."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from library.access import roles_for
from library.errors import Conflict, InputRejected, NotFound
from library.catalogue.models import Role
from library.access.users import LastAdmin, WeakPassword
from web import i18n
from web.i18n import current_lang, words
from web.staff import _platform, login_required, session_stamp, signed_in_user
from web.viewer import current_actor

bp = Blueprint("admin", __name__, url_prefix="/staff/admin")

ADMIN_ROLES = roles_for("manage_accounts")

i18n.add(
    vi={
        "admin_users": "Tài khoản",
        "admin_new": "Tạo tài khoản",
        "admin_display_name": "Tên hiển thị",
        "admin_role": "Vai trò",
        "admin_active": "đang hoạt động",
        "admin_inactive": "đã khoá",
        "admin_created_at": "Ngày tạo",
        "admin_change_role": "Đổi vai trò",
        "admin_deactivate": "Khoá",
        "admin_reactivate": "Mở khoá",
        "admin_new_password": "Mật khẩu mới",
        "admin_reset_password": "Đặt lại mật khẩu",
        "admin_create": "Tạo",
        "admin_you": "(bạn)",
        "role_librarian": "thủ thư",
        "role_archivist": "lưu trữ viên",
        "role_curator": "người phụ trách di tích",
        "role_admin": "quản trị viên",
        "admin_created": "Đã tạo tài khoản {u} ({r}).",
        "admin_role_changed": "{u} giờ là {r}.",
        "admin_deactivated": "Đã khoá tài khoản {u}; các phiên đăng nhập của tài khoản này đã kết thúc.",
        "admin_reactivated": "Đã mở khoá tài khoản {u}.",
        "admin_password_reset": "Đã đặt lại mật khẩu của {u}; các phiên đăng nhập cũ đã kết thúc.",
        "admin_bad_username": ("Tên đăng nhập “{v}” không hợp lệ: dùng 2–64 chữ a–z, số, dấu chấm, gạch dưới hoặc"
                               " gạch ngang."),
        "admin_short_password": "Mật khẩu phải có ít nhất 10 và nhiều nhất 1000 ký tự.",
        "admin_weak_password": "Mật khẩu quá phổ biến hoặc quá dễ đoán; hãy dùng một câu dài hơn, ít gặp hơn.",
        "admin_bad_role": ("Vai trò “{v}” không có; chọn thủ thư, lưu trữ viên, người phụ trách di tích hoặc quản trị"
                           " viên."),
        "admin_bad_display": "Tên hiển thị dài quá 200 ký tự.",
        "admin_exists": "Đã có tài khoản tên “{v}”.",
        "admin_no_user": "Không có tài khoản số {v}.",
        "admin_last_admin": ("{v} là quản trị viên cuối cùng còn hoạt động: hãy cho một tài khoản khác làm quản trị"
                             " viên trước."),
    },
    en={
        "admin_users": "Accounts",
        "admin_new": "New account",
        "admin_display_name": "Display name",
        "admin_role": "Role",
        "admin_active": "active",
        "admin_inactive": "deactivated",
        "admin_created_at": "Created",
        "admin_change_role": "Change role",
        "admin_deactivate": "Deactivate",
        "admin_reactivate": "Reactivate",
        "admin_new_password": "New password",
        "admin_reset_password": "Reset password",
        "admin_create": "Create",
        "admin_you": "(you)",
        "role_librarian": "librarian",
        "role_archivist": "archivist",
        "role_curator": "curator",
        "role_admin": "administrator",
        "admin_created": "Account {u} ({r}) created.",
        "admin_role_changed": "{u} is now {r}.",
        "admin_deactivated": "Account {u} deactivated; its sessions have ended.",
        "admin_reactivated": "Account {u} reactivated.",
        "admin_password_reset": "{u}'s password was reset; its earlier sessions have ended.",
        "admin_bad_username": "The user name “{v}” is not valid: use 2–64 letters a–z, digits, '.', '_' or '-'.",
        "admin_short_password": "A password must have at least 10 and at most 1000 characters.",
        "admin_weak_password": "The password is too common or too easy to guess; use a longer, less common phrase.",
        "admin_bad_role": "There is no role “{v}”: choose librarian, archivist, curator or administrator.",
        "admin_bad_display": "The display name is longer than 200 characters.",
        "admin_exists": "An account named “{v}” exists already.",
        "admin_no_user": "There is no account {v}.",
        "admin_last_admin": "{v} is the last active administrator: make another account administrator first.",
    },
)

_INPUT_WORDS = {"username": "admin_bad_username", "password": "admin_short_password", "role": "admin_bad_role",
                "display_name": "admin_bad_display"}


@bp.app_context_processor
def _admin_link():
    """``is_admin`` for the navigation (looked up only for signed-in visitors)."""
    def is_admin() -> bool:
        if not session.get("user_id"):
            return False
        user = signed_in_user()
        return user is not None and user.role == Role.admin

    return {"is_admin": is_admin}


def _page(code: int = 200, error: str | None = None, form: dict | None = None):
    t = words()
    return render_template("admin_users.html", t=t, lang=current_lang(), error=error, form=form or {},
                           users=_platform().users.accounts(), roles=[r.value for r in Role],
                           me=signed_in_user()), code


def _back():
    return redirect(url_for("admin.users", lang=current_lang()))


def _refused(exc: Exception, value: str = ""):
    """The page again with the reason in the reader's language, and the fitting status."""
    t = words()
    if isinstance(exc, LastAdmin):
        return _page(409, t["admin_last_admin"].format(v=value))
    if isinstance(exc, NotFound):
        return _page(404, t["admin_no_user"].format(v=value))
    if isinstance(exc, Conflict):
        return _page(409, t["admin_exists"].format(v=value))
    if isinstance(exc, WeakPassword):
        return _page(422, t["admin_weak_password"], form=request.form)
    if isinstance(exc, InputRejected):
        key = _INPUT_WORDS.get(exc.source)
        return _page(422, t[key].format(v=value) if key else exc.problem, form=request.form)
    raise exc


@bp.get("/users")
@login_required(ADMIN_ROLES)
def users():
    return _page()


@bp.post("/users")
@login_required(ADMIN_ROLES)
def create():
    t = words()
    f = request.form
    username, role = f.get("username", "")[:200], f.get("role", "")
    try:
        user = _platform().users.create(current_actor(), username, f.get("password", ""), role,
                                        f.get("display_name"))
    except (InputRejected, Conflict) as exc:
        value = role if getattr(exc, "source", None) == "role" else username.strip().lower()
        return _refused(exc, value)
    flash(t["admin_created"].format(u=user.username, r=t[f"role_{user.role.value}"]))
    return _back()


def _target_name(user_id: int) -> str:
    try:
        return _platform().users.by_id(user_id).username
    except NotFound:
        return str(user_id)


@bp.post("/users/<int:user_id>/role")
@login_required(ADMIN_ROLES)
def change_role(user_id: int):
    t = words()
    role = request.form.get("role", "")
    try:
        user = _platform().users.set_role(current_actor(), user_id, role)
    except InputRejected as exc:
        return _refused(exc, role[:40])
    except (LastAdmin, NotFound) as exc:
        return _refused(exc, _target_name(user_id) if isinstance(exc, LastAdmin) else str(user_id))
    flash(t["admin_role_changed"].format(u=user.username, r=t[f"role_{user.role.value}"]))
    return _back()


def _set_active(user_id: int, active: bool):
    t = words()
    try:
        user = _platform().users.set_active(current_actor(), user_id, active)
    except (LastAdmin, NotFound) as exc:
        return _refused(exc, _target_name(user_id) if isinstance(exc, LastAdmin) else str(user_id))
    flash(t["admin_reactivated" if active else "admin_deactivated"].format(u=user.username))
    return _back()


@bp.post("/users/<int:user_id>/deactivate")
@login_required(ADMIN_ROLES)
def deactivate(user_id: int):
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/reactivate")
@login_required(ADMIN_ROLES)
def reactivate(user_id: int):
    return _set_active(user_id, True)


@bp.post("/users/<int:user_id>/password")
@login_required(ADMIN_ROLES)
def reset_password(user_id: int):
    t = words()
    me = signed_in_user()
    try:
        user = _platform().users.reset_password(current_actor(), user_id, request.form.get("password", ""))
    except (InputRejected, NotFound) as exc:
        return _refused(exc, str(user_id))
    if user.id == me.id:
        session["stamp"] = session_stamp(user)  # an administrator who resets their own password stays signed in
    flash(t["admin_password_reset"].format(u=user.username))
    return _back()
