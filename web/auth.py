"""Who is signing in: password checks with their rate limits (the portal's form and HTTP Basic on the
API count failures alike), the API's HTTP Basic user, and the same-site check of ``next=``.

Failed sign-ins are counted by Flask-Limiter's strategy on the storage every web process shares
(:mod:`web.rate_limits`), under three keys: the user name (normalised: NFC, no surrounding white
space, case-folded, so ``Thu.Thu`` and `` thu.thu`` are one name) from one address, the address
alone (one client trying many names), and the name alone (many clients trying one name). While any
of them is over its limit, even the right password is refused with 429.
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

from flask import current_app, request
from werkzeug.exceptions import TooManyRequests

from library.errors import PermissionDenied, Unavailable
from library.catalogue.models import User
from library.access.users import normalised_username

# (what is counted, limit in the notation of Flask-Limiter)
SIGN_IN_LIMITS = (
    ("name-at-address", "5 per 5 minutes"),
    ("address", "20 per 5 minutes"),
    ("name", "50 per hour"),
)
BASIC_REALM = 'Basic realm="Hanoi heritage library API", charset="UTF-8"'


class CredentialsRequired(PermissionDenied):
    """No (or wrong) credentials on a route that needs a staff account: answered 401 with
    ``WWW-Authenticate`` (a signed-in account without the right role is 403)."""


class TooManySignIns(TooManyRequests):
    """Too many failed sign-ins for this name or from this address (429, ``Retry-After``)."""

    description = "too many failed sign-ins; please try again in a few minutes"


def _limits() -> list[tuple[object, str]]:
    from limits import parse

    return [(parse(spec), kind) for kind, spec in SIGN_IN_LIMITS]


def _keys(name: str) -> list[tuple[object, str]]:
    """``(limit item, key)`` for every count a sign-in attempt with ``name`` belongs to."""
    address = request.remote_addr or "-"
    who = normalised_username(name)
    values = {"name-at-address": f"{address}|{who}", "address": address, "name": who}
    return [(item, f"sign-in/{kind}/{values[kind]}") for item, kind in _limits()]


def _strategy():
    return current_app.extensions["heritage_limiter"].limiter


def check_password(name: str, password: str) -> User | None:
    """The active user ``name`` whose password is ``password``, else ``None`` (the failure is counted).

    Raises :class:`TooManySignIns` without checking anything while a count is over its limit."""
    keys = _keys(name)
    strategy = _strategy()
    with _limiter_answers():
        over = [(item, key) for item, key in keys if not strategy.test(item, key)]
    if over:
        item, key = over[0]
        reset_s = max(1, int(strategy.get_window_stats(item, key).reset_time - _now()))
        raise TooManySignIns(retry_after=reset_s)
    platform = current_app.extensions["heritage"]
    user = platform.users.authenticate(name, password)
    if user is None:
        with _limiter_answers():
            for item, key in keys:
                strategy.hit(item, key)
        # in the audit trail: only attempts that were counted (those over a limit are refused unread)
        platform.audit.sign_in_refused(platform.access.actor(None, request.remote_addr), normalised_username(name))
        return None
    with _limiter_answers():
        strategy.storage.clear(keys[0][0].key_for(keys[0][1]))  # this name from this address starts afresh
    return user


SIGN_IN_DOWN = ("Đăng nhập tạm thời không hoạt động; xin thử lại sau ít phút / "
                "signing in is not available right now; please try again in a few minutes")


@contextlib.contextmanager
def _limiter_answers():
    """The sign-in counts live in Redis on a cluster: while it does not answer (a restart), signing in
    answers 503 with a reason — never a 500, and never unlimited guessing."""
    try:
        yield
    except (ConnectionError, TimeoutError, OSError) as exc:
        raise Unavailable(SIGN_IN_DOWN) from exc
    except Exception as exc:
        if type(exc).__module__.startswith(("redis", "limits")) and "Error" in type(exc).__name__:
            raise Unavailable(SIGN_IN_DOWN) from exc
        raise


def _now() -> float:
    import time

    return time.time()


def current_user() -> User | None:
    """The user of the request's HTTP Basic credentials; ``None`` without them or when they are wrong."""
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        return None
    return check_password(auth.username, auth.password or "")


def require_user() -> User:
    user = current_user()
    if user is None:
        raise CredentialsRequired("sign in with a staff account (HTTP Basic) to do this")
    return user


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site (``/staff/items/3?x=1``), else ``None``.

    Refuses what a browser would take to another host: ``//host``, ``/\\host``, a scheme
    (``https:``, ``javascript:``), and control characters or white space anywhere (``/%09/host``
    decoded, line breaks that would split the ``Location`` header)."""
    if not target or len(target) > 2000 or not target.startswith("/"):
        return None
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in target):
        return None
    if target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
