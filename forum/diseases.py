"""A disease's page: overview, top questions and the map block."""

from flask import Blueprint, current_app, render_template

from forum.extensions import db
from forum.models import Disease
from forum.models.questions import top_questions
from forum.voting import vote_states_for_page

bp = Blueprint("diseases", __name__, url_prefix="/diseases")


def disease_or_404(slug: str) -> Disease:
    """The disease with this slug, or a 404."""
    return db.first_or_404(db.select(Disease).filter_by(slug=slug))


@bp.get("/<slug>")
def show(slug: str):
    """Show a disease with its top questions."""
    disease = disease_or_404(slug)
    questions = top_questions(disease, current_app.config["TOP_QUESTIONS_SHOWN"])
    return render_template(
        "diseases/show.html",
        disease=disease,
        questions=questions,
        votes=vote_states_for_page(questions),
    )
