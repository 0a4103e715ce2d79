"""The footer's pages: who runs the forum, its rules, what it stores, how to reach us."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("pages", __name__)


@bp.get("/about")
def about():
    """What RareCircle is, who writes its articles, and what it is not."""
    return render_template("pages/about.html")


@bp.get("/guidelines")
def guidelines():
    """The community guidelines: what may be posted and what moderators remove."""
    return render_template("pages/guidelines.html")


@bp.get("/privacy")
def privacy():
    """What the forum stores about members and visitors, and what it never does."""
    return render_template("pages/privacy.html")


@bp.get("/contact")
def contact():
    """How to reach the people who run the forum."""
    return render_template("pages/contact.html", email=current_app.config["CONTACT_EMAIL"])
