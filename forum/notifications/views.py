"""/notifications: the list, the header's unread count (polled), opening one, email settings."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from forum import htmx
from forum.extensions import db
from forum.notifications import service
from forum.notifications.forms import settings_form
from forum.redirects import safe_next
from forum.security import no_store

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def _unread():
    """`unread_notifications()` for the header: computed only when a page shows it."""

    def unread_notifications() -> int:
        if not current_user.is_authenticated:
            return 0
        return service.unread_state(current_user.id)[0]

    return {
        "unread_notifications": unread_notifications,
        "notifications_poll_seconds": current_app.config["NOTIFICATIONS_POLL_SECONDS"],
    }


@bp.get("/notifications")
@login_required
def index():
    """The member's notifications, newest first, unread ones marked."""
    rows = service.recent(current_user.id)
    return no_store(make_response(render_template("notifications/index.html", rows=rows)))


@bp.get("/notifications/count")
@login_required
def count():
    """The header's unread count, polled by htmx: 304 when nothing changed since last time.

    The ETag names the unread count and the newest unread notification; the browser keeps the
    answer privately (`private, no-cache`) and asks again with If-None-Match each time.
    """
    unread, newest = service.unread_state(current_user.id)
    response = make_response(render_template("notifications/_count.html", unread=unread))
    response.set_etag(f"n{current_user.id}-{unread}-{newest}", weak=True)
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Cookie")
    return response.make_conditional(request)


@bp.post("/notifications/<int:notification_id>/open", endpoint="open")
@login_required
def open_one(notification_id: int):
    """Mark a notification read and go where it leads."""
    target = service.open_notification(current_user.id, notification_id)
    if target is None:
        abort(404)
    db.session.commit()
    target = safe_next(target) or url_for(".index")
    if htmx.wants_fragment():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, 303)


@bp.post("/notifications/read")
@login_required
def read_all():
    """Mark every notification read."""
    service.mark_all_read(current_user.id)
    db.session.commit()
    if htmx.wants_fragment():
        return "", 204, {"HX-Redirect": url_for(".index")}
    flash("All notifications are marked read.", "success")
    return redirect(url_for(".index"), 303)


@bp.route("/notifications/settings", methods=["GET", "POST"])
@login_required
def settings():
    """Choose, per event, whether it comes by email at once, in a daily digest, or not."""
    current = service.settings_for(current_user.id)
    form = settings_form(current, request.form if request.method == "POST" else None)
    if request.method == "POST":
        if form.validate():
            service.save_settings(current_user.id, form.deliveries())
            db.session.commit()
            flash("Your email settings are saved.", "success")
            return redirect(url_for(".settings"), 303)
        status = 422
    else:
        status = 200
    response = make_response(render_template("notifications/settings.html", form=form), status)
    return no_store(response)
