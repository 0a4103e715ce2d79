"""A disease's member map: the map page, a country's members, and joining, editing, leaving."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from forum import htmx
from forum.contacts.service import standings_for_ids
from forum.extensions import db, limiter
from forum.limits import member_or_address, setting
from forum.maps import geo, service
from forum.maps.forms import MapEntryForm
from forum.models.diseases import disease_or_404
from forum.security import no_store

bp = Blueprint("maps", __name__, url_prefix="/diseases/<slug>/map")


map_rate_limit = limiter.shared_limit(
    setting("RATELIMIT_MAP"),
    scope="map-entry",
    key_func=member_or_address,
    methods=["POST"],
)


@bp.after_request
def _noindex(response):
    # Where members with a rare disease live is health data: no search engine keeps it.
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("")
def show(slug: str):
    """Show the disease's world map of members, the counts per country and per role."""
    disease = disease_or_404(slug)
    counts = service.country_counts(disease)
    return render_template(
        "maps/show.html",
        disease=disease,
        block=service.map_block(disease),
        world=geo.world_map(),
        countries=service.map_countries(disease, counts),
        legend=service.legend(),
        table=service.count_table(disease, counts),
        roles=service.role_counts(disease),
    )


@bp.get("/small.svg")
def small_map(slug: str):
    """The disease's map as a small SVG image (for the map block beside its pages)."""
    disease = disease_or_404(slug)
    svg = service.small_map_svg(disease, service.country_counts(disease))
    response = current_app.response_class(svg, mimetype="image/svg+xml")
    # Counts change when members join or leave: browsers ask again each time (a 304 when
    # nothing changed), and the counts it shows are the ones visitors see anyway.
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/countries/<code>")
@htmx.may_answer_fragment
def country(slug: str, code: str):
    """Show a country's members: names for logged-in members, the count alone for visitors."""
    disease = disease_or_404(slug)
    code = code.upper()
    if not geo.is_country(code):
        abort(404)
    total = service.country_counts(disease).get(code, 0)
    show_names = current_user.is_authenticated
    members = service.named_members(disease, code) if show_names else []
    name = geo.country_name(code)
    hidden = total - len(members) if show_names else 0
    context = {
        "disease": disease,
        "country_name": name,
        "heading": service.country_heading(name, total, hidden, show_names),
        "total": total,
        "members": members,
        "anonymous_note": service.anonymous_note(name, hidden),
        "show_names": show_names,
        # The Connect button beside each named member, where they allow it (never anonymous
        # entries: they are not listed at all).
        "connect": standings_for_ids(current_user, [m.user_id for m in members]),
    }
    template = "maps/_country_members.html" if htmx.wants_fragment() else "maps/country.html"
    response = current_app.make_response(render_template(template, **context))
    # Names and regions shown to a member must not outlive their session in a shared browser.
    return no_store(response) if current_user.is_authenticated else response


@bp.route("/join", methods=["GET", "POST"])
@htmx.may_answer_fragment
@login_required
@map_rate_limit
def join(slug: str):
    """Show the form to join the disease's map, and put the member on it."""
    disease = disease_or_404(slug)
    if service.member_entry(disease, current_user) is not None:
        if request.method != "POST":
            return redirect(url_for(".edit", slug=slug), 303)
        return _form(
            disease,
            MapEntryForm(),
            "join",
            409,
            "You are already on this map. Change your entry below instead.",
        )
    form = MapEntryForm()
    if form.validate_on_submit():
        try:
            service.join(disease, current_user, form.entry_fields())
        except service.AlreadyOnMap:
            return _form(disease, form, "join", 409, "You are already on this map.")
        db.session.commit()
        flash(f"You are on the {disease.name} map.", "success")
        return _to_map(disease)
    return _form(disease, form, "join", 422 if form.is_submitted() else 200)


@bp.route("/entry", methods=["GET", "POST"])
@htmx.may_answer_fragment
@login_required
@map_rate_limit
def edit(slug: str):
    """Show the member's entry on the map for editing, and save the changes."""
    disease = disease_or_404(slug)
    entry = service.member_entry(disease, current_user)
    if entry is None:
        return redirect(url_for(".join", slug=slug), 303)
    form = MapEntryForm()
    if form.validate_on_submit():
        service.update_entry(entry, form.entry_fields())
        db.session.commit()
        flash("Your entry on the map is saved.", "success")
        return _to_map(disease)
    if not form.is_submitted():
        form.fill_from(entry)
    return _form(disease, form, "edit", 422 if form.is_submitted() else 200)


@bp.post("/leave")
@htmx.may_answer_fragment
@login_required
def leave(slug: str):
    """Take the member off the disease's map at once."""
    disease = disease_or_404(slug)
    if service.leave(disease, current_user):
        db.session.commit()
        flash(f"You have left the {disease.name} map; your entry is deleted.", "success")
    return _to_map(disease)


def _form(disease, form, mode: str, status: int, error: str | None = None):
    """The join or edit form with `status` (422 refused, 409 already on the map): the page, or
    for htmx the form alone."""
    context = {
        "disease": disease,
        "form": form,
        "editing": mode == "edit",
        "action": url_for(f".{mode}", slug=disease.slug),
        "submit_label": "Save my entry" if mode == "edit" else "Join the map",
        "form_error": error,
    }
    template = "maps/_entry_form.html" if htmx.wants_fragment() else "maps/entry.html"
    return render_template(template, **context), status


def _to_map(disease):
    target = url_for(".show", slug=disease.slug)
    if htmx.wants_fragment():
        return "", 204, {"HX-Redirect": target}
    return redirect(target, 303)
