"""Questions of a disease: the list of all of them and each one's page."""

from flask import Blueprint, abort, current_app, render_template, request

from forum.diseases import disease_or_404
from forum.extensions import db
from forum.models.questions import SORTS, question_by_slug, ranked_questions, top_questions

bp = Blueprint("questions", __name__, url_prefix="/diseases/<slug>/questions")


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
    return render_template("questions/index.html", disease=disease, page=page, sort=sort)


@bp.get("/<question_slug>")
def show(slug: str, question_slug: str):
    """Show a question with its article, beside the disease's other top questions."""
    disease = disease_or_404(slug)
    question = question_by_slug(disease, question_slug)
    if question is None:
        abort(404)
    others = top_questions(disease, current_app.config["TOP_QUESTIONS_SHOWN"], question.id)
    return render_template(
        "questions/show.html", disease=disease, question=question, others=others
    )
