"""A disease's member map. (Placeholder: the map issue builds joining and the map itself.)"""

from flask import Blueprint, render_template

from forum.diseases import disease_or_404

bp = Blueprint("maps", __name__, url_prefix="/diseases/<slug>/map")


@bp.get("")
def show(slug: str):
    """Show the disease's member map."""
    disease = disease_or_404(slug)
    return render_template("maps/show.html", disease=disease)


@bp.get("/join")
def join(slug: str):
    """Show the form to join the disease's community on the map."""
    disease = disease_or_404(slug)
    return render_template("maps/show.html", disease=disease)
