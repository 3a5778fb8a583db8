"""Users and roles. Passwords are stored only as salted hashes (werkzeug's scrypt)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from library.errors import Conflict, InputRejected, NotFound
from library.models import Role, User

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10


class UserService:
    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def create(self, username: str, password: str, role: str | Role, display_name: str | None = None) -> User:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise InputRejected("username", f"{username!r}: use 2–64 letters a–z, digits, '.', '_' or '-'")
        if len(password) < MIN_PASSWORD:
            raise InputRejected("password", f"must have at least {MIN_PASSWORD} characters")
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
            return user

    def authenticate(self, username: str, password: str) -> User | None:
        with self.sessions() as s:
            user = s.scalars(select(User).where(User.username == username.strip().lower())).first()
            if user is None or not user.active:
                # same work either way, so timing does not tell which names exist
                check_password_hash(generate_password_hash("x"), password)
                return None
            return user if check_password_hash(user.password_hash, password) else None

    def get(self, username: str) -> User:
        with self.sessions() as s:
            user = s.scalars(select(User).where(User.username == username.strip().lower())).first()
            if user is None:
                raise NotFound(f"no user {username!r}")
            return user
