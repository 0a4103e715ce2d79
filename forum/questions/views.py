"""Questions of a disease: the list, each one's page, upvotes, and asking a new one."""

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
from sqlalchemy import select

from forum import errors
from forum.extensions import db, limiter
from forum.htmx import is_htmx, wants_fragment
from forum.limits import member_or_address, only_when_done, setting
from forum.models import Disease, Question
from forum.models.diseases import disease_or_404
from forum.models.questions import SORTS, question_by_slug, ranked_questions
from forum.questions.forms import AskQuestionForm
from forum.questions.pages import render_question_page
from forum.questions.service import DuplicateQuestion, ask_question
from forum.questions.voting import (
    TOO_FAST,
    QuestionGone,
    VoteRefused,
    VoteState,
    toggle_vote,
    vote_states,
    vote_states_for_page,
)
from forum.redirects import referring_page, safe_next

bp = Blueprint("questions", __name__, url_prefix="/diseases/<slug>/questions")

ASK_TOO_FAST = "You have asked several questions in a short time. Please try again later."
LOG_IN_TO_VOTE = "Log in to upvote questions. You will come straight back to where you were."


def _question_or_404(disease: Disease, question_slug: str) -> Question:
    question = question_by_slug(disease, question_slug)
    if question is None:
        abort(404)
    return question


def _question_url(disease: Disease, question: Question) -> str:
    return url_for("questions.show", slug=disease.slug, question_slug=question.slug)


def _return_path(disease: Disease, question: Question) -> str:
    """Where a plain vote post goes back to: the posted `next`, the Referer, or the question."""
    path = (
        safe_next(request.form.get("next")) or referring_page() or _question_url(disease, question)
    )
    return f"{path.split('#', 1)[0]}#question-{question.id}"


@bp.get("")
def index(slug: str):
    """List all of a disease's questions, sorted by top or new, a page at a time."""
    disease = disease_or_404(slug)
    sort = request.args.get("sort", "top")
    if sort not in SORTS:
        sort = "top"
    page = db.paginate(
        ranked_questions(disease, sort),
        per_page=current_app.config["QUESTIONS_PER_PAGE"],
        max_per_page=100,
        error_out=True,
    )
    return render_template(
        "questions/index.html",
        disease=disease,
        page=page,
        sort=sort,
        votes=vote_states_for_page(page.items),
    )


@bp.route("/ask", methods=["GET", "POST"])
@limiter.limit(
    setting("RATELIMIT_QUESTION"),
    key_func=member_or_address,
    methods=["POST"],
    # Only questions actually posted count.
    deduct_when=only_when_done,
)
@login_required
def ask(slug: str):
    """Show the form for a new question of the disease, and add the question when it is sent."""
    disease = disease_or_404(slug)
    form = AskQuestionForm()
    duplicate = None
    if form.validate_on_submit():
        try:
            question = ask_question(disease, current_user, form.title.data, form.prompt.data)
        except DuplicateQuestion as exc:
            db.session.rollback()
            duplicate = exc.existing
        else:
            db.session.commit()
            flash("Your question is posted. Members can now upvote it.", "success")
            target = _question_url(disease, question)
            if is_htmx():
                return "", 204, {"HX-Redirect": target}
            return redirect(target, 303)
    return _ask_response(disease, form, duplicate=duplicate)


def _ask_response(disease, form, duplicate=None, error=None, status=None):
    """The ask form with its errors: a fragment for htmx (200, so htmx swaps it), else a page."""
    posted = request.method == "POST"
    duplicate_url = _question_url(disease, duplicate) if duplicate else None
    context = dict(
        disease=disease, form=form, duplicate=duplicate, duplicate_url=duplicate_url, error=error
    )
    if wants_fragment():
        return render_template("questions/_ask_form.html", **context)
    failed = posted and (form.errors or duplicate or error)
    code = status or (422 if failed else 200)
    return render_template("questions/ask.html", **context), code


@bp.post("/<question_slug>/vote")
@limiter.limit(setting("RATELIMIT_VOTE"), key_func=member_or_address)
def vote(slug: str, question_slug: str):
    """Toggle the current member's upvote on a question."""
    disease = disease_or_404(slug)
    question = _question_or_404(disease, question_slug)
    back = _return_path(disease, question)
    if not current_user.is_authenticated:
        # Back to the question's place on the page after logging in, not to this POST-only URL.
        target = url_for("auth.login", next=back)
        flash(LOG_IN_TO_VOTE, "info")
        if is_htmx():
            return "", 401, {"HX-Redirect": target}
        return redirect(target, 303)
    try:
        result = toggle_vote(question, current_user)
    except QuestionGone:
        db.session.rollback()
        abort(404)
    except VoteRefused as refused:
        db.session.rollback()
        state = VoteState(count=question.vote_count, reason=str(refused), next=back)
        return _vote_response(disease, question, state, notice=str(refused))
    db.session.commit()
    state = VoteState(count=result.count, voted=result.voted, next=back)
    return _vote_response(disease, question, state)


def _vote_response(disease, question, state: VoteState, notice: str | None = None, status=200):
    """The vote button fragment for htmx; otherwise back to the page (303), or an error page."""
    if wants_fragment():
        return render_template(
            "questions/_votes.html", disease=disease, question=question, votes={question.id: state}
        )
    if status >= 400:
        return render_template(
            "errors/page.html", code=status, title="Slow down", message=notice
        ), status
    if notice:
        flash(notice, "error")
    return redirect(state.next, 303)


@bp.errorhandler(429)
def too_many_requests(exc):
    """Say clearly which limit was met: next to the vote button, or above the ask form.

    The limit is checked before the view looks anything up, so the disease or question may
    not exist: that is a 404 (an exception raised inside an error handler would be a 500).
    """
    args = request.view_args or {}
    if request.endpoint not in ("questions.ask", "questions.vote"):
        return exc
    disease = db.session.scalar(select(Disease).where(Disease.slug == args.get("slug", "")))
    question = disease and question_by_slug(disease, args.get("question_slug", ""))
    if disease is None or (request.endpoint == "questions.vote" and question is None):
        return errors.render_error(404)
    if request.endpoint == "questions.ask":
        return _ask_response(disease, AskQuestionForm(), error=ASK_TOO_FAST, status=429)
    state = vote_states([question], current_user, "")[question.id]
    state = VoteState(
        count=state.count,
        voted=state.voted,
        reason=state.reason,
        message=TOO_FAST,
        next=_return_path(disease, question),
    )
    # The message belongs beside the button the member pressed, not in the page's alert region
    # (where forum.errors would put a 429), so the button fragment answers with it.
    return make_response(_vote_response(disease, question, state, TOO_FAST, status=429))


@bp.get("/<question_slug>")
def show(slug: str, question_slug: str):
    """Show a question with its article, beside the disease's other top questions."""
    disease = disease_or_404(slug)
    return render_question_page(_question_or_404(disease, question_slug))
