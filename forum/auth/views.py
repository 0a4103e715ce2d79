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
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

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
from forum.htmx import is_htmx
from forum.limits import only_when_done, setting
from forum.mail.service import queue_verification
from forum.redirects import go_to, safe_next
from forum.security import no_store

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "That username and password do not match any account."
USERNAME_TAKEN = "That username is taken."
LOGIN_LIMITED = "Too many login attempts."
SIGNUP_LIMITED = "Too many new accounts from this network."
RESET_LIMITED = "Too many password reset requests."
RESET_SENT = (
    "If an account has this address, and the address was confirmed, a link to choose a new "
    "password is on its way. It works once, within an hour."
)


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
            queue_verification(user)  # an address given at sign-up is confirmed by its link
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
