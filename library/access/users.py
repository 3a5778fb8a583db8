"""Users and roles. Passwords are stored only as salted hashes (werkzeug's scrypt); a new password
must be long enough and hard to guess (zxcvbn, which knows the common passwords and patterns).

Every change to an account is made by an explicit :class:`library.access.Actor` that may
``manage_accounts`` (:data:`library.access.PERMISSIONS`): an administrator in the portal, or the
system — ``Actor.system("cli")`` for the machine's operator, who creates the first administrator."""

from __future__ import annotations

import functools
import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from library import audit
from library.access import Actor, require_permission
from library.errors import Conflict, InputRejected, NotFound
from library.catalogue.models import Role, User

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1000
MIN_PASSWORD_SCORE = 3  # zxcvbn's 0–4: 3 is "safely unguessable" (about 10^8 guesses and more)


def normalised_username(name: str) -> str:
    """The one spelling of a user name that lookups and sign-in counts use: NFC, stripped, case-folded."""
    return unicodedata.normalize("NFC", name).strip().casefold()


@functools.cache
def _dummy_hash() -> str:
    """A hash checked when the name is unknown, so that a sign-in costs one hash either way."""
    return generate_password_hash("not a password: the account does not exist")


class LastAdmin(Conflict):
    """The change would leave no active administrator, and nobody could manage accounts any more."""


class UserService:
    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def create(self, actor: Actor, username: str, password: str, role: str | Role,
               display_name: str | None = None) -> User:
        """A new account, made by ``actor`` (an administrator, or the system: the first administrator is
        made by ``Actor.system("cli")``, test fixtures by ``Actor.system("tests")``)."""
        require_permission(actor, "manage_accounts")
        display_name = (display_name or "").strip() or None
        if display_name is not None and len(display_name) > 200:
            raise InputRejected("display_name", "must have at most 200 characters")
        username = normalised_username(username)
        if not USERNAME.match(username):
            raise InputRejected("username", f"{username!r}: use 2–64 letters a–z, digits, '.', '_' or '-'")
        _check_password(password, username, display_name)
        try:
            role = Role(role)
        except ValueError:
            raise InputRejected("role", f"{role!r} is not one of {', '.join(r.value for r in Role)}") from None
        with self.sessions.begin() as s:
            if s.scalars(select(User).where(User.username == username)).first():
                raise Conflict(f"user {username!r} exists already")
            user = User(username=username, password_hash=generate_password_hash(password), role=role,
                        display_name=display_name)
            s.add(user)
            s.flush()
            audit.record(s, actor, "user_create", record_id=user.id, detail={"username": username, "role": role.value})
            return user

    def authenticate(self, username: str, password: str) -> User | None:
        with self.sessions() as s:
            user = s.scalars(select(User).where(User.username == normalised_username(username))).first()
            if user is None or not user.active:
                # one hash checked either way, so the time taken does not tell which names exist
                check_password_hash(_dummy_hash(), password)
                return None
            return user if check_password_hash(user.password_hash, password) else None

    def get(self, username: str) -> User:
        with self.sessions() as s:
            user = s.scalars(select(User).where(User.username == normalised_username(username))).first()
            if user is None:
                raise NotFound(f"no user {username!r}")
            return user

    # ------------------------------------------------------------ administration
    def accounts(self) -> list[User]:
        with self.sessions() as s:
            return list(s.scalars(select(User).order_by(User.username)))

    def by_id(self, user_id: int) -> User:
        with self.sessions() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound(f"no user {user_id}")
            return user

    def set_role(self, actor: Actor, user_id: int, role: str | Role) -> User:
        require_permission(actor, "manage_accounts")
        try:
            role = Role(role)
        except ValueError:
            raise InputRejected("role", f"{role!r} is not one of {', '.join(r.value for r in Role)}") from None
        with self.sessions.begin() as s:
            user = self._locked(s, user_id)
            if user.role == Role.admin and role != Role.admin and user.active:
                self._keep_an_admin(s, user)
            audit.record(s, actor, "user_role", record_id=user.id,
                         detail={"username": user.username, "role": [user.role.value, role.value]})
            user.role = role
            return user

    def set_active(self, actor: Actor, user_id: int, active: bool) -> User:
        """Deactivate (the account can no longer sign in; its sessions end) or reactivate an account."""
        require_permission(actor, "manage_accounts")
        with self.sessions.begin() as s:
            user = self._locked(s, user_id)
            if not active and user.active and user.role == Role.admin:
                self._keep_an_admin(s, user)
            if user.active != bool(active):
                audit.record(s, actor, "user_reactivate" if active else "user_deactivate", record_id=user.id,
                             detail={"username": user.username})
            user.active = bool(active)
            return user

    def end_sessions(self, user_id: int) -> int:
        """End every portal session of the account (sign-out): its session generation goes up by one.

        Returns the new generation. An unknown account is not an error (a session may outlive it).
        No actor: this is the account's own sign-out, proven by its session (see ``web.staff.logout``);
        nothing in the catalogue changes."""
        with self.sessions.begin() as s:
            user = s.get(User, user_id, with_for_update=True)
            if user is None:
                return 0
            user.session_generation = (user.session_generation or 0) + 1
            return user.session_generation

    def reset_password(self, actor: Actor, user_id: int, password: str) -> User:
        """Set a new password; the account's open sessions end (see the portal's session stamp)."""
        require_permission(actor, "manage_accounts")
        with self.sessions.begin() as s:
            user = self._locked(s, user_id)
            _check_password(password, user.username, user.display_name)
            user.password_hash = generate_password_hash(password)
            audit.record(s, actor, "user_password", record_id=user.id, detail={"username": user.username})
            return user

    def _locked(self, s: Session, user_id: int) -> User:
        user = s.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(f"no user {user_id}")
        return user

    def _keep_an_admin(self, s: Session, leaving: User) -> None:
        # lock every active admin's row, so two admins demoting each other at once cannot both succeed
        admins = s.scalars(select(User.id).where(User.role == Role.admin, User.active.is_(True))
                           .with_for_update()).all()
        if not [a for a in admins if a != leaving.id]:
            raise LastAdmin(f"{leaving.username!r} is the last active administrator: make another account "
                            "administrator first")


class WeakPassword(InputRejected):
    """A password that is common or easy to guess. ``str()`` is bilingual (Vietnamese / English)."""

    def __init__(self, warning: str):
        self.warning = warning
        detail = f" ({warning})" if warning else ""
        super().__init__("password", "mật khẩu quá phổ biến hoặc quá dễ đoán; hãy dùng một câu dài hơn, ít gặp hơn"
                                     f" / the password is too common or too easy to guess{detail}: "
                                     "use a longer, less common phrase")


def _check_password(password: str, username: str = "", display_name: str | None = None) -> None:
    """Long enough, not too long, and not common or easy to guess (zxcvbn, knowing the account's name)."""
    if len(password) < MIN_PASSWORD:
        raise InputRejected("password", f"phải có ít nhất {MIN_PASSWORD} ký tự / "
                                        f"must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InputRejected("password", f"must have at most {MAX_PASSWORD} characters")
    from zxcvbn import zxcvbn

    hints = [h for h in (username, display_name or "", *re.split(r"[._-]", username)) if h]
    verdict = zxcvbn(password[:100], user_inputs=hints)  # zxcvbn slows down on long inputs; 100 say enough
    if verdict["score"] < MIN_PASSWORD_SCORE:
        raise WeakPassword(verdict["feedback"].get("warning") or "")
