"""Moderation views: reports, the queue, each item's page, the actions, bans, roles and the log.

Only moderators and administrators see the queue (anyone else: 404) and act (anyone else:
403). Each action answers a plain form post with a redirect (303) and an htmx request with the
part of the page it changed (forum.moderation.answers). Any logged-in member may report.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from forum import htmx
from forum.auth.service import user_by_username
from forum.extensions import db, limiter
from forum.limits import member_or_address, setting
from forum.models.comments import Comment
from forum.models.diseases import Disease
from forum.models.moderation import COMMENT
from forum.models.questions import Question
from forum.models.users import User
from forum.moderation import bans, queue, roles, service
from forum.moderation.answers import action_answer, card, posted_item_ref, refusal, refuse
from forum.moderation.forms import BanForm, HideForm, ReportForm, RoleForm
from forum.moderation.log import log_page
from forum.moderation.rules import (
    HIDE_REASONS,
    REPORT_REASONS,
    hide_reason_text,
    is_admin,
    is_moderator,
)
from forum.moderation.service import ModerationRefused, Target, load_target
from forum.security import no_store

bp = Blueprint("moderation", __name__, url_prefix="/moderation")

KIND = "<any(comment, question):kind>"
QUEUE_PER_PAGE = 30
LOG_PER_PAGE = 30
THANKS = "Thank you. Moderators will look at it; the author is never told who reported it."


def _moderator_or_404() -> None:
    if not is_moderator(current_user):
        abort(404)


def _moderator_or_403() -> None:
    if not is_moderator(current_user):
        refuse(403, "Only moderators can do that.")


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    return max(1, min(int(raw), 100_000)) if raw.isascii() and raw.isdigit() else 1


def _target_or_404(kind: str, item_id: int) -> Target:
    target = load_target(kind, item_id)
    if target is None:
        abort(404)
    return target


def _run(ref, message: str, action, *args):
    """Run a service action and commit it with its log entry, or roll back and say why."""
    try:
        action(current_user._get_current_object(), *args)
    except ModerationRefused as refused:
        db.session.rollback()
        return action_answer(ref, refused.message, refused.status)
    db.session.commit()
    return action_answer(ref, message)


def _form_errors(form, prefix: str) -> dict[str, str]:
    return {f"{prefix}_{name}": " ".join(messages) for name, messages in form.errors.items()}


# -- reports (any member) --------------------------------------------------------------------


def _target_url(target: Target) -> str:
    if target.kind == COMMENT:
        return url_for("comments.show", comment_id=target.id, _anchor=f"comment-{target.id}")
    disease = db.session.get(Disease, target.question.disease_id)
    return url_for("questions.show", slug=disease.slug, question_slug=target.question.slug)


def _report_form(target: Target, form: ReportForm, message=None, status=200, done=False):
    context = {
        "target": target,
        "form": form,
        "message": message,
        "done": done,
        "slot": f"#{target.kind}-{target.id}-{'reply' if target.kind == COMMENT else 'report'}",
        "back_url": _target_url(target),
    }
    if htmx.wants_fragment():
        template = "moderation/_reported.html" if done else "moderation/_report_form.html"
        return htmx.vary_on_htmx(make_response(render_template(template, **context), status))
    page = render_template("moderation/report.html", **context)
    return htmx.vary_on_htmx(make_response(page, status))


def _counted(response) -> bool:
    # Only reports actually filed count toward the limit, not a form sent back with an error.
    return response.status_code in (200, 303)


@bp.route(f"/report/{KIND}/<int:item_id>", methods=["GET", "POST"])
@limiter.limit(
    setting("RATELIMIT_REPORT"), key_func=member_or_address, methods=["POST"], deduct_when=_counted
)
@login_required
def report(kind: str, item_id: int):
    """Report a comment or a question to the moderators: the form, and the report once sent."""
    target = _target_or_404(kind, item_id)
    if htmx.wants_fragment() and request.args.get("cancel"):
        return htmx.vary_on_htmx(make_response(""))
    form = ReportForm()
    if request.method == "POST":
        if not form.validate():
            return _report_form(target, form, status=422)
        try:
            service.report_item(current_user, target, form.reason.data, form.note.data or "")
        except ModerationRefused as refused:
            db.session.rollback()
            return _report_form(target, form, refused.message, refused.status, done=True)
        db.session.commit()
        if htmx.wants_fragment():
            return _report_form(target, form, THANKS, done=True)
        flash(THANKS, "success")
        return redirect(_target_url(target), 303)
    refused = service.report_refusal(current_user, target)
    if refused:
        return _report_form(target, form, refused.message, refused.status, done=True)
    return _report_form(target, form)


# -- pages for moderators ------------------------------------------------------------------


@bp.get("")
def queue_page():
    """The queue: reported items, urgent first, and guests' comments awaiting review."""
    _moderator_or_404()
    page = _page_arg()
    targets, has_more = queue.reported_targets(page, QUEUE_PER_PAGE)
    html = render_template(
        "moderation/queue.html",
        items=queue.queue_items(targets, current_user),
        held=queue.held_comments(),
        total=queue.open_report_total(),
        page=page,
        has_more=has_more,
    )
    return no_store(make_response(html))


@bp.get(f"/items/{KIND}/<int:item_id>")
def item(kind: str, item_id: int):
    """One comment or question with every action, reported or not (its card, for htmx)."""
    _moderator_or_404()
    found = card((kind, item_id))
    if found is None:
        abort(404)
    template = "moderation/_item.html" if htmx.wants_fragment() else "moderation/item.html"
    response = make_response(render_template(template, item=found, values=None))
    return no_store(htmx.vary_on_htmx(response))


@bp.get("/bans")
def bans_page():
    """Every ban in force, with a button to lift each."""
    _moderator_or_404()
    html = render_template("moderation/bans.html", bans=bans.active_bans())
    return no_store(make_response(html))


@bp.get("/log")
def log():
    """The public moderation log, a page at a time."""
    pagination, lines = log_page(_page_arg(), LOG_PER_PAGE)
    return render_template("moderation/log.html", page=pagination, lines=lines)


# -- actions on an item ----------------------------------------------------------------------


@bp.post(f"/items/{KIND}/<int:item_id>/dismiss")
def dismiss(kind: str, item_id: int):
    """Close the item's open reports as unfounded (an item the reports hid comes back)."""
    _moderator_or_403()
    target = _target_or_404(kind, item_id)
    return _run((kind, item_id), "Reports dismissed.", service.dismiss_reports, target)


@bp.post(f"/items/{KIND}/<int:item_id>/hide")
def hide(kind: str, item_id: int):
    """Hide the item, with the reason everyone will read in its place."""
    _moderator_or_403()
    target = _target_or_404(kind, item_id)
    form = HideForm()
    if not form.validate():
        errors = _form_errors(form, "hide")
        return action_answer((kind, item_id), "Not hidden.", 422, errors, {"hide": form.data})
    reason = hide_reason_text(form.reason.data, form.detail.data)
    return _run(
        (kind, item_id),
        f"Hidden: {reason}. The public log records it.",
        service.hide_item,
        target,
        reason,
    )


@bp.post(f"/items/{KIND}/<int:item_id>/restore")
def restore(kind: str, item_id: int):
    """Bring a hidden item back exactly as it was."""
    _moderator_or_403()
    target = _target_or_404(kind, item_id)
    return _run((kind, item_id), "Restored: everyone sees it again.", service.restore_item, target)


@bp.post("/questions/<int:question_id>/lock")
def lock(question_id: int):
    """Lock the question's discussion: no new comments or replies."""
    _moderator_or_403()
    question = db.get_or_404(Question, question_id)
    ref = posted_item_ref(("question", question_id))
    return _run(
        ref, "Discussion locked: no new comments or replies.", service.lock_question, question
    )


@bp.post("/questions/<int:question_id>/unlock")
def unlock(question_id: int):
    """Open a locked discussion again."""
    _moderator_or_403()
    question = db.get_or_404(Question, question_id)
    return _run(
        posted_item_ref(("question", question_id)),
        "Discussion unlocked.",
        service.unlock_question,
        question,
    )


@bp.post("/comments/<int:comment_id>/approve")
def approve(comment_id: int):
    """Publish a guest's comment that awaited review."""
    _moderator_or_403()
    comment = db.get_or_404(Comment, comment_id)
    return _held_answer(
        comment, "Approved: everyone sees it now.", service.approve_comment, comment
    )


@bp.post("/comments/<int:comment_id>/reject")
def reject(comment_id: int):
    """Delete a guest's comment that awaited review, unseen."""
    _moderator_or_403()
    comment = db.get_or_404(Comment, comment_id)
    return _held_answer(comment, "Rejected: nobody will see it.", service.reject_comment, comment)


def _held_answer(comment: Comment, done: str, action, *args):
    try:
        action(current_user._get_current_object(), *args)
    except ModerationRefused as refused:
        db.session.rollback()
        return refusal(refused.status, refused.message)
    db.session.commit()
    if htmx.wants_fragment():
        return render_template("moderation/_held_done.html", held_id=comment.id, message=done)
    flash(done, "success")
    return redirect(url_for(".queue_page"), 303)


# -- bans ----------------------------------------------------------------------------------


@bp.post("/members/<int:user_id>/ban")
def ban(user_id: int):
    """Ban a member for a day, a week or until lifted, with a reason."""
    _moderator_or_403()
    member = db.get_or_404(User, user_id)
    ref = posted_item_ref()
    form = BanForm()
    if not form.validate():
        errors = _form_errors(form, "ban")
        return action_answer(ref, "Nobody was banned.", 422, errors, {"ban": form.data})
    words = bans.BAN_LENGTHS[form.length.data][0]
    return _run(
        ref,
        f"{member.username} is banned {words}.",
        service.ban_member,
        member,
        form.length.data,
        form.reason.data,
    )


@bp.post("/members/<int:user_id>/unban")
def unban(user_id: int):
    """Lift a member's ban now."""
    _moderator_or_403()
    member = db.get_or_404(User, user_id)
    return _run(
        posted_item_ref(), f"The ban on {member.username} is lifted.", service.lift_ban, member
    )


# -- roles (administrators) ----------------------------------------------------------------


def _roles_page(form: RoleForm | None = None, message: str | None = None, status: int = 200):
    staff = db.session.scalars(
        db.select(User).where(User.role != "member").order_by(User.role, User.username_key)
    ).all()
    context = {"staff": staff, "form": form or RoleForm(formdata=None), "message": message}
    template = "moderation/_roles.html" if htmx.wants_fragment() else "moderation/roles.html"
    response = make_response(render_template(template, **context), status)
    return no_store(htmx.vary_on_htmx(response))


@bp.get("/roles")
def roles_page():
    """The moderators and administrators; administrators appoint them here."""
    if not is_admin(current_user):
        abort(404)
    return _roles_page()


@bp.post("/roles")
def set_role():
    """Give a member a role (administrators only)."""
    if not is_admin(current_user):
        refuse(403, "Only administrators can change roles.")
    form = RoleForm()
    if not form.validate():
        return _roles_page(form, status=422)
    member = user_by_username(form.username.data)
    if member is None:
        form.username.errors = [f"There is no member called {form.username.data}."]
        return _roles_page(form, status=422)
    try:
        changed = roles.set_role(current_user, member, form.role.data)
    except ModerationRefused as refused:
        db.session.rollback()
        form.username.errors = [refused.message]
        return _roles_page(form, status=refused.status)
    db.session.commit()
    article = "an" if member.role == "admin" else "a"
    message = (
        f"{member.username} is now {article} {member.role}."
        if changed
        else f"{member.username} already is {article} {member.role}."
    )
    if htmx.wants_fragment():
        return _roles_page(message=message)
    flash(message, "success")
    return redirect(url_for(".roles_page"), 303)


@bp.context_processor
def _choices():
    """The choices the moderation forms offer, for the templates that write their inputs."""
    return {
        "hide_reasons": HIDE_REASONS,
        "ban_lengths": {key: words for key, (words, _) in bans.BAN_LENGTHS.items()},
        "report_reasons": REPORT_REASONS,
    }
