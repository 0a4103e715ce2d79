"""The question page, rendered in one place for the questions and comments features."""

from __future__ import annotations

from flask import current_app, render_template

from forum.comments.forms import CommentForm
from forum.comments.section import OpenForm, comment_section
from forum.extensions import db
from forum.maps.service import map_block
from forum.models import Disease, Question
from forum.models.questions import top_questions
from forum.moderation.display import question_moderation
from forum.questions.voting import vote_states_for_page


def render_question_page(
    question: Question,
    comment_form: CommentForm | None = None,
    status: int = 200,
    open_form: OpenForm | None = None,
    problem: str | None = None,
):
    """The question page with its article, comments and the disease's other top questions.

    `comment_form` is a posted comment form to show again in the comment box (its text and
    errors), `open_form` a posted reply or edit form to show again in its thread, `problem`
    the summary of what went wrong, with `status` (422 when it was refused).
    """
    disease = db.session.get(Disease, question.disease_id)
    moderation = question_moderation(question)
    if moderation.concealed:
        # A hidden question: its page says why, and shows nothing of it but its community.
        html = render_template(
            "moderation/removed_question.html", disease=disease, moderation=moderation
        )
        return html, status
    others = top_questions(disease, current_app.config["TOP_QUESTIONS_SHOWN"], question.id)
    html = render_template(
        "questions/show.html",
        disease=disease,
        question=question,
        others=others,
        # Others exclude this question: more exist when the disease has more than shown + 1.
        more_questions=disease.question_count > len(others) + 1,
        votes=vote_states_for_page([question, *others]),
        map_block=map_block(disease),
        comment_section=comment_section(question, comment_form, open_form, problem),
        moderation=moderation,
    )
    return html, status
