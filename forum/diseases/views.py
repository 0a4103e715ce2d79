"""A disease's page: overview, top questions and the map block."""

from flask import Blueprint, current_app, render_template

from forum.maps.service import map_block
from forum.models.diseases import disease_or_404
from forum.models.questions import top_questions
from forum.questions.voting import vote_states_for_page

bp = Blueprint("diseases", __name__, url_prefix="/diseases")


@bp.get("/<slug>")
def show(slug: str):
    """Show a disease with its top questions."""
    disease = disease_or_404(slug)
    questions = top_questions(disease, current_app.config["TOP_QUESTIONS_SHOWN"])
    return render_template(
        "diseases/show.html",
        disease=disease,
        questions=questions,
        more_questions=disease.question_count > len(questions),
        votes=vote_states_for_page(questions),
        map_block=map_block(disease),
    )
