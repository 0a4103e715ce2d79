"""Sign-up, login and logout: sessions, the safe `next` redirect and the login rate limits."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from forum.account_forms import LoginForm, SignupForm
from forum.accounts import UsernameTaken, authenticate, create_user, normalize_username
from forum.extensions import db, limiter
from forum.htmx import is_htmx
from forum.limits import only_when_done, setting
from forum.models import User
from forum.sessions import end_login, logged_in_member, open_login

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "That username and password do not match any account."
USERNAME_TAKEN = "That username is taken."
LOGIN_LIMITED = "Too many login attempts."
SIGNUP_LIMITED = "Too many new accounts from this network."


# The session key that holds the id of this browser's login (forum/sessions.py).
LOGIN_ID_KEY = "_login_id"


def load_user(session_token: str) -> User | None:
    """Flask-Login's loader: the member whose token the cookie holds, if its login still lasts."""
    return logged_in_member(
        session_token, session.get(LOGIN_ID_KEY), current_app.permanent_session_lifetime
    )


def safe_next(url: str | None) -> str | None:
    """`url` when it is a path on this site to return to after login, else None.

    Only a path starting with exactly one "/" passes. Anything a browser could read as another
    host is refused: absolute and scheme-relative URLs, backslashes (browsers treat them as "/"),
    whitespace and control characters (browsers drop tabs and newlines inside URLs), and the same
    tricks hidden behind percent-encoding.
    """
    if not url or not isinstance(url, str) or len(url) > 2000:
        return None
    # As sent: no whitespace at all. Decoded ("/%2F%2Fevil", "/%252F..."): no control characters.
    if not _is_local_path(url, refused_categories="CZ"):
        return None
    candidate = url
    for _ in range(3):
        decoded = unquote(candidate)
        if decoded == candidate:
            return url
        if not _is_local_path(decoded, refused_categories="C"):
            return None
        candidate = decoded
    return None


def _is_local_path(url: str, refused_categories: str) -> bool:
    if not url.startswith("/") or url.startswith(("//", "/\\")) or "\\" in url:
        return False
    # C: control and invisible format characters; Z: spaces and line separators.
    if any(unicodedata.category(ch)[0] in refused_categories for ch in url):
        return False
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc


def referring_page() -> str | None:
    """The path and query of the page this request came from (htmx's HX-Current-URL, else the
    Referer) when that page is on this site and safe to return to, else None."""
    parts = urlsplit(request.headers.get("HX-Current-URL") or request.referrer or "")
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


def _return_path() -> str:
    """Where a visitor sent to log in should come back to: the page they were looking at."""
    if request.method == "GET" and not is_htmx():
        return safe_next(request.full_path.rstrip("?")) or "/"
    # An htmx or form POST (a vote, a join) came from a page: return to that page, not the POST.
    return referring_page() or "/"


def unauthorized():
    """Send a logged-out visitor to the login page and back; htmx gets an HX-Redirect."""
    target = url_for("auth.login", next=_return_path())
    if is_htmx():
        return "", 401, {"HX-Redirect": target}
    return redirect(target, 303)


def go_to(target: str, status: int = 303):
    """Leave for `target` after a change of who is logged in: a full page load, even for htmx.

    A full load matters: the page's CSRF token for htmx (on <body>) belongs to the old session.
    """
    if is_htmx():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, status)


def start_session(user: User) -> None:
    """Log `user` in on a brand-new session: nothing from before the login carries over.

    Any login this browser had before ends on the server too. Commits.
    """
    end_login(session.get(LOGIN_ID_KEY))
    login_id = open_login(user, current_app.permanent_session_lifetime)
    db.session.commit()
    session.clear()
    login_user(user)
    session[LOGIN_ID_KEY] = login_id
    session.permanent = True


def end_session() -> None:
    """Log this browser out; a kept copy of its cookie is useless, other browsers stay in."""
    if current_user.is_authenticated:
        end_login(session.get(LOGIN_ID_KEY))
        db.session.commit()
    logout_user()
    session.clear()


def _login_account_key() -> str:
    """The per-account login limit's key: the username as submitted, normalized."""
    return "login-account:" + normalize_username(request.form.get("username", ""))[:64]


def _form_page(template: str, form, error: str | None = None):
    """A form page again with its errors: 200 for htmx (so it is swapped in), else 422."""
    status = 200 if is_htmx() or request.method != "POST" else 422
    return render_template(template, form=form, error=error), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(setting("RATELIMIT_LOGIN_IP"), methods=["POST"], error_message=LOGIN_LIMITED)
@limiter.limit(
    setting("RATELIMIT_LOGIN_ACCOUNT"),
    key_func=_login_account_key,
    methods=["POST"],
    error_message=LOGIN_LIMITED,
)
def login():
    """Show the login form; log the member in and send them back where they came from."""
    form = LoginForm()
    if request.method != "POST":  # GET, and HEAD like GET
        form.next.data = safe_next(request.args.get("next")) or ""
        if current_user.is_authenticated:
            return redirect(form.next.data or url_for("home.index"), 303)
        return _form_page("auth/login.html", form)
    error = None
    if form.validate_on_submit():
        user = authenticate(form.username.data, form.password.data)
        if user is not None:
            db.session.commit()  # keeps a hash upgraded by authenticate()
            start_session(user)
            flash(f"Welcome back, {user.username}.", "success")
            return go_to(safe_next(form.next.data) or url_for("home.index"))
        error = LOGIN_FAILED
    form.password.data = ""
    return _form_page("auth/login.html", form, error)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(
    setting("RATELIMIT_SIGNUP"),
    methods=["POST"],
    error_message=SIGNUP_LIMITED,
    deduct_when=only_when_done,  # only accounts actually created count
)
def signup():
    """Show the sign-up form; create the account, log it in and return where the visitor was."""
    form = SignupForm()
    if request.method != "POST":  # GET, and HEAD like GET
        form.next.data = safe_next(request.args.get("next")) or ""
        return _form_page("auth/signup.html", form)
    if form.validate_on_submit():
        try:
            user = create_user(form.username.data, form.password.data, form.email.data)
            db.session.commit()
        except (UsernameTaken, IntegrityError):
            db.session.rollback()
            form.username.errors.append(USERNAME_TAKEN)
        else:
            start_session(user)
            flash(f"Welcome to RareCircle, {user.username}. Your account is ready.", "success")
            return go_to(safe_next(form.next.data) or url_for("home.index"))
    form.password.data = ""
    return _form_page("auth/signup.html", form)


@bp.post("/logout")
def logout():
    """Log this browser out; a copy of its cookie kept by someone logs nobody in."""
    # CSRFProtect has already refused a POST without a valid token (a forced logout).
    end_session()
    flash("You are logged out.", "info")
    return go_to(url_for("home.index"))


@bp.app_context_processor
def _account_links():
    """What the header's account links need: where "Log in" should bring the visitor back to."""
    if not has_request_context():
        return {"login_next": None}
    here = (
        request.full_path.rstrip("?")
        if request.endpoint not in ("auth.login", "auth.signup", None)
        else None
    )
    return {"login_next": safe_next(here) if here else None}
