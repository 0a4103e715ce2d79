"""The home page with its disease search."""

from flask import Blueprint, make_response, render_template, request

from forum.htmx import vary_on_htmx, wants_fragment
from forum.models.diseases import search_diseases

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    """List the diseases, filtered by the search box (a fragment for htmx as-you-type)."""
    # Spaces alone are no search: the page then shows every disease, without a "matching" line.
    query = request.args.get("q", "").strip()[:100]
    diseases = search_diseases(query)
    fragment = wants_fragment()
    template = "home/_disease_list.html" if fragment else "home/index.html"
    # The fragment also carries the status line, swapped out of band: a live region that is
    # itself replaced is not reliably read out.
    return vary_on_htmx(
        make_response(render_template(template, diseases=diseases, q=query, fragment=fragment))
    )
