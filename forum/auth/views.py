"""Sign-up, login and logout, and the login rate limits."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from forum.auth.forms import LoginForm, SignupForm
from forum.auth.service import UsernameTaken, authenticate, create_user, normalize_username
from forum.auth.sessions import end_session, start_session
from forum.extensions import db, limiter
from forum.limits import only_when_done, setting
from forum.redirects import go_to, login_reason, safe_next

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "That username and password do not match any account."
USERNAME_TAKEN = "That username is taken."
LOGIN_LIMITED = "Too many login attempts."
SIGNUP_LIMITED = "Too many new accounts from this network."


def _login_account_key() -> str:
    """The per-account login limit's key: the username as submitted, normalized."""
    return "login-account:" + normalize_username(request.form.get("username", ""))[:64]


def _form_page(template: str, form, error: str | None = None):
    """The form page: 200 when asked for, 422 when a post was refused (htmx alike).

    The page says why an account is needed when the visitor came from an action ("Log in to
    ask a question"); the reason's key rides along in the form, so an error keeps it.
    """
    status = 422 if request.method == "POST" else 200
    if request.method != "POST":
        form.why.data = request.args.get("why") if login_reason(request.args.get("why")) else ""
    reason = login_reason(form.why.data)
    return render_template(template, form=form, error=error, reason=reason), status


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
