"""Sign-up, login and logout, and the login rate limits."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    has_request_context,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from forum.auth import devices
from forum.auth.forms import ForgotPasswordForm, LoginForm, ResetPasswordForm, SignupForm
from forum.auth.service import (
    UsernameTaken,
    authenticate,
    change_password,
    create_user,
    normalize_username,
    request_password_reset,
    user_for_reset,
)
from forum.auth.sessions import end_session, start_session
from forum.extensions import db, limiter
from forum.limits import only_when_done, setting
from forum.mail.service import queue_verification
from forum.redirects import go_to, login_reason, safe_next
from forum.security import no_store

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "That username and password do not match any account."
USERNAME_TAKEN = "That username is taken."
LOGIN_LIMITED = "Too many login attempts."
ACCOUNT_LIMITED = (
    "Too many failed logins to this account from browsers that have not logged in to it. "
    "A browser you have logged in with before can still log in."
)
SIGNUP_LIMITED = "Too many new accounts from this network."
RESET_LIMITED = "Too many password reset requests."
RESET_SENT = (
    "If an account has this address, and the address was confirmed, a link to choose a new "
    "password is on its way. It works once, within an hour."
)


# -- login limits: failed logins of one account are counted three ways (forum.auth.devices) ---


def _username_key() -> str:
    return normalize_username(request.form.get("username", ""))[:64]


def _account_and_address_key() -> str:
    """One address guessing one account."""
    return f"login-account:{_username_key()}|{get_remote_address()}"


def _account_key() -> str:
    """One account guessed from anywhere, by browsers that never logged in to it."""
    return f"login-account-untrusted:{_username_key()}"


def _device_key() -> str:
    """One browser that has logged in to the account before."""
    return f"login-device:{devices.trusted_device()}"


def _from_trusted_device() -> bool:
    return devices.trusted_device() is not None


def _from_untrusted_browser() -> bool:
    return devices.trusted_device() is None


def _login_failed(response) -> bool:
    """For deduct_when: only failed logins count, so a member logging in often is never held
    back by their own successes."""
    return devices.login_failed()


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
    key_func=_account_and_address_key,
    methods=["POST"],
    exempt_when=_from_trusted_device,
    deduct_when=_login_failed,
    error_message=LOGIN_LIMITED,
)
@limiter.limit(
    setting("RATELIMIT_LOGIN_ACCOUNT_UNTRUSTED"),
    key_func=_account_key,
    methods=["POST"],
    exempt_when=_from_trusted_device,
    deduct_when=_login_failed,
    error_message=ACCOUNT_LIMITED,
)
@limiter.limit(
    setting("RATELIMIT_LOGIN_DEVICE"),
    key_func=_device_key,
    methods=["POST"],
    exempt_when=_from_untrusted_browser,
    deduct_when=_login_failed,
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
            response = make_response(go_to(safe_next(form.next.data) or url_for("home.index")))
            return devices.remember(response, user)
        error = LOGIN_FAILED
    devices.mark_failed_login()
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
            queue_verification(user)  # an address given at sign-up is confirmed by its link
            db.session.commit()
        except (UsernameTaken, IntegrityError):
            db.session.rollback()
            form.username.errors.append(USERNAME_TAKEN)
        else:
            start_session(user)
            flash(f"Welcome to RareCircle, {user.username}. Your account is ready.", "success")
            response = make_response(go_to(safe_next(form.next.data) or url_for("home.index")))
            return devices.remember(response, user)
    form.password.data = ""
    return _form_page("auth/signup.html", form)


def _reset_address_key() -> str:
    """The per-address reset limit's key: the address as submitted, normalized."""
    return "reset-address:" + request.form.get("email", "").strip().lower()[:254]


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(setting("RATELIMIT_PASSWORD_RESET"), methods=["POST"], error_message=RESET_LIMITED)
@limiter.limit(
    setting("RATELIMIT_PASSWORD_RESET"),
    key_func=_reset_address_key,
    methods=["POST"],
    error_message=RESET_LIMITED,
)
def forgot_password():
    """Ask for a reset link by email; the answer is the same whether the address exists."""
    form = ForgotPasswordForm()
    if request.method != "POST":
        return render_template("auth/forgot.html", form=form, sent=False)
    if not form.validate_on_submit():
        return render_template("auth/forgot.html", form=form, sent=False), 422
    request_password_reset(form.email.data)
    db.session.commit()
    return render_template("auth/forgot.html", form=form, sent=True)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from an emailed link; every other login of the member ends."""
    user = user_for_reset(token)
    if user is None:
        return no_store(current_app_response("auth/reset.html", 404, form=None))
    form = ResetPasswordForm()
    form.account_username = user.username
    if request.method == "POST":
        if form.validate_on_submit():
            change_password(user, form.new_password.data)
            db.session.commit()
            start_session(user)
            flash("Your new password is set. You are logged out everywhere else.", "success")
            return go_to(url_for("home.index"))
        return no_store(current_app_response("auth/reset.html", 422, form=form, user=user))
    return no_store(current_app_response("auth/reset.html", 200, form=form, user=user))


def current_app_response(template: str, status: int, **context):
    return make_response(render_template(template, **context), status)


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
