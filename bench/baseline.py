"""The limit of this stack: Flask, SQLAlchemy and Jinja rendering the same thread, minimally.

    DATABASE_URL=sqlite:////tmp/bench.db COMMENTS_PER_PAGE=51 gunicorn bench.baseline:app

It answers the question page's path with the comments that page shows first (the first
COMMENTS_PER_PAGE top-level comments and every reply under them), read with one query and
rendered by one flat template: no layout, no forms, no sessions, no permissions. A page of the
forum is compared with it in the same run, on the same database, so the ratio says how close
the forum comes to what the stack itself can do on this machine.
"""

from __future__ import annotations

import os

from flask import Flask, abort
from sqlalchemy import create_engine, text

THREAD = text(
    """
    WITH question AS (
        SELECT questions.id FROM questions JOIN diseases ON diseases.id = questions.disease_id
        WHERE diseases.slug = :slug AND questions.slug = :question_slug
    ), roots AS (
        SELECT id FROM comments
        WHERE question_id = (SELECT id FROM question) AND parent_id IS NULL
        ORDER BY created_at, id LIMIT :per_page
    )
    SELECT comments.id, comments.depth, comments.body_html, comments.created_at,
           comments.guest_name, users.username
    FROM comments LEFT JOIN users ON users.id = comments.author_id
    WHERE comments.root_id IN (SELECT id FROM roots)
    ORDER BY comments.root_id, comments.created_at, comments.id
    """
)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Comments</title></head><body>
<section id="comments">
{% for c in comments %}
<article id="comment-{{ c.id }}" class="comment depth-{{ c.depth }}">
<p class="comment-meta">{{ c.username or c.guest_name }} ·
<time datetime="{{ c.created_at }}">{{ c.created_at }}</time></p>
<div class="comment-body">{{ c.body_html | safe }}</div>
</article>
{% endfor %}
</section>
</body></html>
"""


def create_app() -> Flask:
    app = Flask(__name__)
    engine = create_engine(os.environ["DATABASE_URL"])
    per_page = int(os.environ.get("COMMENTS_PER_PAGE", "50"))
    template = app.jinja_env.from_string(PAGE)

    @app.get("/diseases/<slug>/questions/<question_slug>")
    def thread(slug: str, question_slug: str):
        """The first page of a question's comments, flat, from one query."""
        with engine.connect() as conn:
            comments = conn.execute(
                THREAD, {"slug": slug, "question_slug": question_slug, "per_page": per_page}
            ).all()
        if not comments:
            abort(404)
        return template.render(comments=comments)

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app


app = create_app() if "DATABASE_URL" in os.environ else None
