"""Device cookies (OWASP's pattern against account lockout): a browser that has logged in to an
account carries a signed cookie saying so, and its login attempts for that account are counted
on a limit of its own instead of the account's.

So a stranger failing to guess a member's password, from however many addresses, locks out
only browsers that never logged in to that account; the member's own browsers still get in.
The cookie names the accounts by id and carries a random device id that its own limit counts;
it is signed with the secret key, so it cannot be made up, and is sent to /login only.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

from forum.auth.service import user_by_username
from forum.models import User

COOKIE = "rc_device"
LIFETIME = timedelta(days=365)
# The accounts one browser is trusted for: the most recent logins win.
MAX_ACCOUNTS = 10
_SALT = "device-cookie"
_DEVICE_KEY = "forum.login_device"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=_SALT)


def _read() -> dict | None:
    """The request's device cookie, checked: {"d": device id, "u": [user ids]}, or None."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw)
    except BadSignature:
        return None
    if not (
        isinstance(data, dict)
        and isinstance(data.get("d"), str)
        and isinstance(data.get("u"), list)
        and all(isinstance(uid, int) for uid in data["u"])
    ):
        return None
    return data


def trusted_device() -> str | None:
    """The device id when this browser has logged in before to the account being logged in to
    (the form's username), else None. Looked up once per request."""
    # Kept on the request itself (`g` can outlive a request where an app context is shared).
    if _DEVICE_KEY not in request.environ:
        data = _read()
        device = None
        if data is not None:
            user = user_by_username(request.form.get("username", ""))
            if user is not None and user.id in data["u"]:
                device = data["d"]
        request.environ[_DEVICE_KEY] = device
    return request.environ[_DEVICE_KEY]


def mark_failed_login() -> None:
    """Note that this request's login failed: the account limits count only failures."""
    request.environ["forum.login_failed"] = True


def login_failed() -> bool:
    return bool(request.environ.get("forum.login_failed"))


def remember(response: Response, user: User) -> Response:
    """Set the cookie that trusts this browser for `user` (after a login or a sign-up)."""
    data = _read() or {"d": secrets.token_urlsafe(16), "u": []}
    accounts = [uid for uid in data["u"] if uid != user.id] + [user.id]
    value = _serializer().dumps({"d": data["d"], "u": accounts[-MAX_ACCOUNTS:]})
    response.set_cookie(
        COOKIE,
        value,
        max_age=int(LIFETIME.total_seconds()),
        path="/login",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response
