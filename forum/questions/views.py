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
    session,
    url_for,
)
from flask_login import current_user, login_required, logout_user
from sqlalchemy import select

from forum import errors
from forum.extensions import db, limiter
from forum.htmx import is_htmx, may_answer_fragment, vary_on_htmx, wants_fragment
from forum.limits import member_or_address, only_when_done, retry_after, setting
from forum.models import Disease, Question
from forum.models.diseases import disease_or_404
from forum.models.questions import SORTS, question_by_slug, ranked_questions
from forum.questions.forms import AskQuestionForm
from forum.questions.pages import render_question_page
from forum.questions.service import DuplicateQuestion, ask_question
from forum.questions.voting import (
    TOO_FAST,
    VOTER_GONE,
    QuestionGone,
    VoteRefused,
    VoteState,
    set_vote,
    vote_states,
    vote_states_for_page,
    wanted_vote,
)
from forum.redirects import referring_page, safe_next, unauthorized

bp = Blueprint("questions", __name__, url_prefix="/diseases/<slug>/questions")

ASK_TOO_FAST = "You have asked several questions in a short time. Please try again later."
LOG_IN_TO_VOTE = "Log in to upvote questions."


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
@may_answer_fragment
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
    """The ask form, with its errors: the fragment for htmx, else the page.

    200 when asked for; a refused post 422, a title another question has 409 (htmx alike).
    """
    duplicate_url = _question_url(disease, duplicate) if duplicate else None
    context = dict(
        disease=disease, form=form, duplicate=duplicate, duplicate_url=duplicate_url, error=error
    )
    if status is None:
        status = 409 if duplicate else 422 if request.method == "POST" else 200
    template = "questions/_ask_form.html" if wants_fragment() else "questions/ask.html"
    return render_template(template, **context), status


@bp.post("/<question_slug>/vote")
@may_answer_fragment
@limiter.limit(setting("RATELIMIT_VOTE"), key_func=member_or_address)
def vote(slug: str, question_slug: str):
    """Add (vote=up) or take back (vote=down) the member's upvote; answers the true state."""
    disease = disease_or_404(slug)
    question = _question_or_404(disease, question_slug)
    back = _return_path(disease, question)
    if not current_user.is_authenticated:
        # Back to the question's place on the page after logging in, not to this POST-only URL.
        return unauthorized(next_url=back, why="vote")
    try:
        result = set_vote(question, current_user, wanted_vote(request.form.get("vote")))
    except QuestionGone:
        db.session.rollback()
        abort(404)
    except VoteRefused as refused:
        db.session.rollback()
        if str(refused) == VOTER_GONE:
            # The account was deleted while this vote waited: this browser is logged out now,
            # and nothing below may read the member's row again.
            logout_user()
            session.clear()
        state = VoteState(
            count=question.vote_count, reason=str(refused), message=str(refused), next=back
        )
        return _vote_response(disease, question, state, notice=str(refused), status=403)
    state = VoteState(count=result.count, voted=result.voted, next=back)
    # Answered before the commit: after it, SQLite would queue for the write lock again (a POST
    # begins IMMEDIATE, forum.database) only to read the question back for the fragment.
    response = _vote_response(disease, question, state)
    db.session.commit()
    return response


def _vote_response(disease, question, state: VoteState, notice: str | None = None, status=200):
    """The vote button fragment for htmx (with `status`); otherwise back to the page (303), or
    for a refusal (403, 429) the error page saying why."""
    if wants_fragment():
        html = render_template("questions/_vote_state.html", question=question, vote=state)
        return html, status
    if status >= 400:
        title = "Slow down" if status == 429 else "Not allowed"
        return render_template("errors/page.html", code=status, title=title, message=notice), status
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
        response = make_response(
            _ask_response(disease, AskQuestionForm(), error=ASK_TOO_FAST, status=429)
        )
        response.headers["Retry-After"] = str(retry_after())
        return vary_on_htmx(response)
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
    response = make_response(_vote_response(disease, question, state, TOO_FAST, status=429))
    response.headers["Retry-After"] = str(retry_after())
    return vary_on_htmx(response)


@bp.get("/<question_slug>")
def show(slug: str, question_slug: str):
    """Show a question with its article, beside the disease's other top questions."""
    disease = disease_or_404(slug)
    return render_question_page(_question_or_404(disease, question_slug))
