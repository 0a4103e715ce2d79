"""The member map: joining, editing and leaving, the counts, the map page and privacy."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Disease, MapEntry, User
from tests.conftest import HTMX, login
from tests.factories import PASSWORD, make_comment
from tests.html import attr, elements, one, text

MAP = "/diseases/scleromyxedema/map"
JOIN = MAP + "/join"
EDIT = MAP + "/entry"
LEAVE = MAP + "/leave"
GOOD = {
    "role": "patient",
    "country": "FR",
    "region": "Lyon",
    "since_year": "2015",
    "visibility": "named",
}


def entries() -> list[MapEntry]:
    return list(db.session.scalars(select(MapEntry)))


def member_count(disease: Disease) -> int:
    db.session.expire_all()
    return db.session.get(Disease, disease.id).member_count


def true_count(disease: Disease) -> int:
    return db.session.scalar(
        select(func.count()).select_from(MapEntry).where(MapEntry.disease_id == disease.id)
    )


def client_for(app, user):
    client = app.test_client()
    login(client, user)
    return client


# Joining -----------------------------------------------------------------------------------------


def test_join_form_shows_every_field_with_a_label(member_client, disease):
    html = member_client.get(JOIN).get_data(as_text=True)

    for field in ("role", "country", "region", "since_year"):
        assert elements(html, f'label[for="{field}"]'), field
    assert "<legend>How you appear on the map</legend>" in html
    assert 'list="country-names"' in html and '<option value="France">' in html
    assert 'value="Antarctica"' not in html


def test_join_puts_the_member_on_the_map(member_client, member, disease):
    response = member_client.post(JOIN, data=GOOD)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(MAP)
    [entry] = entries()
    assert (
        entry.user_id,
        entry.role,
        entry.country,
        entry.region,
        entry.since_year,
        entry.anonymous,
    ) == (member.id, "patient", "FR", "Lyon", 2015, False)
    assert member_count(disease) == 1 == true_count(disease)


@pytest.mark.parametrize("typed", ["new zealand", "New Zealand", "NZ", "  New Zealand "])
def test_join_takes_a_country_by_name_or_code(member_client, disease, typed):
    assert member_client.post(JOIN, data=GOOD | {"country": typed}).status_code == 303
    assert entries()[0].country == "NZ"


@pytest.mark.parametrize(("typed", "code"), [("Turkey", "TR"), ("UK", "GB"), ("Reunion", "RE")])
def test_join_takes_everyday_and_unaccented_names(member_client, disease, typed, code):
    # pycountry says "Türkiye" and "Réunion"; people type what they know.
    assert member_client.post(JOIN, data=GOOD | {"country": typed}).status_code == 303
    assert entries()[0].country == code


def test_join_with_htmx_redirects_to_the_map(member_client, disease):
    response = member_client.post(JOIN, data=GOOD | {"visibility": "anonymous"}, headers=HTMX)

    assert response.status_code == 204
    assert response.headers["HX-Redirect"].endswith(MAP)
    [entry] = entries()
    assert entry.anonymous is True
    assert member_count(disease) == 1


def test_join_needs_a_login(client, disease):
    assert client.get(JOIN).status_code == 303
    response = client.post(JOIN, data=GOOD, headers=HTMX)
    assert response.status_code == 401 and "HX-Redirect" in response.headers
    assert entries() == []


def test_join_needs_the_csrf_token(member_client, disease):
    response = member_client.post(JOIN, data=GOOD, csrf=False)

    assert response.status_code == 400
    assert entries() == [] and member_count(disease) == 0


BAD_INPUT = [
    ({"country": "ZZ"}, "We do not know a country called &#34;ZZ&#34;. Choose a country from"),
    ({"country": "fr"}, "Choose a country from the list."),
    ({"country": ""}, "Choose your country."),
    ({"region": "x" * 81}, "Keep the region to 80 characters or fewer."),
    ({"role": "king"}, "Choose one of the roles in the list."),
    ({"since_year": "1850"}, "Give a year between 1900 and"),
    ({"since_year": "soon"}, "Give the year as a number"),
    ({"visibility": "invisible"}, "Choose whether you appear by your username or anonymously."),
    ({"country": "   "}, "Choose your country."),
]


@pytest.mark.parametrize(("change", "error"), BAD_INPUT)
def test_join_refuses_bad_input_and_stores_nothing(member_client, disease, change, error):
    response = member_client.post(JOIN, data=GOOD | change)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error in html and "<html" in html
    assert 'aria-invalid="true"' in html or 'class="error"' in html
    assert entries() == [] and member_count(disease) == 0


@pytest.mark.parametrize(("change", "error"), BAD_INPUT[:4])
def test_join_with_htmx_returns_the_form_with_the_error(member_client, disease, change, error):
    response = member_client.post(JOIN, data=GOOD | change, headers=HTMX)

    # The form comes back whole, with the member's text, as a 422 (htmx swaps it).
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="map-entry-form"' in html
    assert error in html
    assert entries() == [] and member_count(disease) == 0


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_a_refused_form_keeps_what_was_typed(member_client, disease, headers):
    typed = GOOD | {"country": "Frnace", "region": "Lyon 3e", "since_year": "2011"}

    html = member_client.post(JOIN, data=typed, headers=headers).get_data(as_text=True)

    assert "We do not know a country called &#34;Frnace&#34;." in html
    country = one(html, 'input[name="country"]')
    assert country["value"] == "Frnace" and country["aria-invalid"] == "true"
    assert attr(html, 'input[name="region"]', "value") == "Lyon 3e"
    assert attr(html, 'input[name="since_year"]', "value") == "2011"
    assert attr(html, 'select[name="role"] option[selected]', "value") == "patient"
    assert entries() == []


def test_a_long_unknown_country_is_shortened_in_the_error(member_client, disease):
    html = member_client.post(JOIN, data=GOOD | {"country": "q" * 300}).get_data(as_text=True)
    assert text(html, "#country-error") == f'We do not know a country called "{"q" * 59}…". ' + (
        "Choose a country from the list."
    )
    # The box still holds all that was typed.
    assert attr(html, 'input[name="country"]', "value") == "q" * 300


def test_a_region_of_exactly_80_characters_is_fine(member_client, disease):
    assert member_client.post(JOIN, data=GOOD | {"region": "y" * 80}).status_code == 303
    assert entries()[0].region == "y" * 80


def test_a_second_join_is_refused(member_client, member, make, disease):
    make.make_map_entry(disease, member, country="DE")

    response = member_client.post(JOIN, data=GOOD)

    assert response.status_code == 409
    assert "You are already on this map" in response.get_data(as_text=True)
    [entry] = entries()
    assert entry.country == "DE" and member_count(disease) == 1

    fragment = member_client.post(JOIN, data=GOOD, headers=HTMX)
    assert fragment.status_code == 409
    assert "<html" not in fragment.get_data(as_text=True)
    assert "You are already on this map" in fragment.get_data(as_text=True)
    assert len(entries()) == 1 and member_count(disease) == 1


def test_the_join_page_sends_a_member_already_on_the_map_to_the_edit_page(
    member_client, member, make, disease
):
    make.make_map_entry(disease, member)
    response = member_client.get(JOIN)
    assert response.status_code == 303 and response.headers["Location"].endswith(EDIT)


def test_joins_and_edits_are_rate_limited(app, member_client, disease):
    app.config["RATELIMIT_MAP"] = "2 per hour"
    assert member_client.post(JOIN, data=GOOD).status_code == 303
    assert member_client.post(EDIT, data=GOOD | {"region": "Nice"}).status_code == 303

    response = member_client.post(EDIT, data=GOOD | {"region": "Paris"})

    assert response.status_code == 429
    assert entries()[0].region == "Nice"


# Editing and leaving ----------------------------------------------------------------------------


def test_edit_page_shows_the_entry(member_client, member, make, disease):
    make.make_map_entry(disease, member, country="IT", region="Bologna", anonymous=True)

    html = member_client.get(EDIT).get_data(as_text=True)

    assert attr(html, 'input[name="country"]', "value") == "Italy"
    assert attr(html, 'input[name="region"]', "value") == "Bologna"
    assert attr(html, 'input[name="visibility"][checked]', "value") == "anonymous"
    assert "Leave the Scleromyxedema map" in html


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_edit_changes_the_entry_and_not_the_count(member_client, member, make, disease, headers):
    make.make_map_entry(disease, member, country="IT")

    response = member_client.post(
        EDIT,
        data=GOOD | {"country": "ES", "region": "", "visibility": "anonymous"},
        headers=headers,
    )

    assert response.status_code == (204 if headers else 303)
    [entry] = entries()
    assert (entry.country, entry.region, entry.anonymous) == ("ES", None, True)
    assert member_count(disease) == 1 == true_count(disease)


def test_edit_refuses_bad_input(member_client, member, make, disease):
    make.make_map_entry(disease, member, country="IT")

    response = member_client.post(EDIT, data=GOOD | {"country": "XX"})

    assert response.status_code == 422
    assert entries()[0].country == "IT"


def test_edit_without_an_entry_sends_to_the_join_form(member_client, disease):
    response = member_client.get(EDIT)
    assert response.status_code == 303 and response.headers["Location"].endswith(JOIN)


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_leave_removes_the_entry_at_once(member_client, member, make, disease, headers):
    make.make_map_entry(disease, member)
    make.make_map_entry(disease)

    response = member_client.post(LEAVE, headers=headers)

    assert response.status_code == (204 if headers else 303)
    assert len(entries()) == 1 and entries()[0].user_id != member.id
    assert member_count(disease) == 1 == true_count(disease)


def test_leaving_twice_changes_nothing(member_client, member, make, disease):
    make.make_map_entry(disease, member)
    member_client.post(LEAVE)
    member_client.post(LEAVE)
    assert member_count(disease) == 0 == true_count(disease)


def test_the_count_follows_joins_edits_and_leaves(app, make, disease):
    clients = [client_for(app, make.make_user()) for _ in range(3)]
    for client in clients:
        client.post(JOIN, data=GOOD)
    clients[0].post(EDIT, data=GOOD | {"country": "DE"})
    clients[1].post(LEAVE)

    assert member_count(disease) == 2 == true_count(disease)


# The map block on disease and question pages ----------------------------------------------------


def test_map_block_invites_a_member_to_join(member_client, make, disease):
    question = make.make_question(disease, "Is it hereditary?")
    make.make_map_entry(disease)
    for url in ("/diseases/scleromyxedema", f"/diseases/scleromyxedema/questions/{question.slug}"):
        html = member_client.get(url).get_data(as_text=True)
        assert "There is 1 person in the map" in html
        assert "Join the Scleromyxedema community" in html
        assert "You are on the map" not in html


def test_map_block_tells_a_member_on_the_map(member_client, member, make, disease):
    question = make.make_question(disease, "Is it hereditary?")
    member_client.post(JOIN, data=GOOD)
    for url in ("/diseases/scleromyxedema", f"/diseases/scleromyxedema/questions/{question.slug}"):
        html = member_client.get(url).get_data(as_text=True)
        assert "There is 1 person in the map" in html
        assert "You are on the map" in html and f'href="{EDIT}"' in html
        assert "Join the Scleromyxedema community" not in html


# The map page ----------------------------------------------------------------------------------


@pytest.fixture
def europe(make, disease):
    """Three members in France (one anonymous), one in Germany, six in Italy."""
    make.make_map_entry(disease, make.make_user("amelie"), "FR", region="Lyon")
    make.make_map_entry(disease, make.make_user("bruno"), "FR", role="relative", region="Nice")
    make.make_map_entry(
        disease,
        make.make_user("secret_sam"),
        "FR",
        region="Hidden Valley",
        anonymous=True,
        role="caregiver",
    )
    make.make_map_entry(disease, make.make_user("dieter"), "DE", role="professional")
    for i in range(6):
        make.make_map_entry(disease, make.make_user(f"italia{i}"), "IT")
    return disease


def test_map_page_shades_countries_with_titles(client, europe):
    html = client.get(MAP).get_data(as_text=True)

    assert "There are 10 people in the map, in 3 countries." in html
    # A country with members is a link (it carries the code) over a shaded shape.
    shapes = {path.parent["data-country"]: path for path in elements(html, "svg a path.country")}
    for code, shade, title in [
        ("FR", 2, "France: 3 members"),
        ("DE", 1, "Germany: 1 member"),
        ("IT", 3, "Italy: 6 members"),
    ]:
        assert shapes[code]["class"] == f"country shade-{shade}" and shapes[code]["d"]
        assert text(shapes[code]) == title
    # One without is a bare shape in the unshaded group, hidden from screen readers.
    [empty] = elements(html, "svg g.country")
    assert empty["class"] == "country shade-0" and empty["aria-hidden"] == "true"
    spain = [path for path in empty.find_all("path") if text(path) == "Spain: no members"]
    assert len(spain) == 1 and spain[0]["d"]
    assert f'href="{MAP}/countries/FR" hx-get="{MAP}/countries/FR"' in html
    for label in ("None", "2–4", "25 or more"):
        assert f"</span>{label}</li>" in html


def test_map_links_name_their_country_and_bring_its_list_into_view(client, europe):
    html = client.get(MAP).get_data(as_text=True)
    links = elements(html, 'a[hx-get*="/countries/"]')

    # Three countries on the map and three in the table: the list sits below both.
    assert len(links) == 6
    # The target and swap come from the svg or the table around them (htmx inherits them).
    assert all(
        link.find_parent(attrs={"hx-swap": True})["hx-swap"] == "innerHTML show:top"
        and link.find_parent(attrs={"hx-target": True})["hx-target"] == "#country-panel"
        for link in links
    )
    assert 'data-country="FR" aria-label="France: 3 members"' in html
    # Only countries with members are read out; the rest are drawn for the eye alone.
    svg = html[html.index('<svg id="world-map"') :]
    svg = svg[: svg.index("</svg>")]
    assert svg.count("<a ") == 3 and 'class="country shade-0" aria-hidden="true"' in svg


def test_map_page_obeys_the_content_security_policy(client, europe):
    # style-src 'self' and script-src 'self': no inline styles, scripts or event handlers.
    html = client.get(MAP).get_data(as_text=True)
    assert " style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\son[a-z]+=", html)


def test_map_page_table_lists_countries_by_count(client, europe):
    html = client.get(MAP).get_data(as_text=True)
    rows = [
        (text(row, 'th[scope="row"] a'), text(row, "td"))
        for row in elements(html, "table.country-table tbody tr")
    ]
    assert rows == [("Italy", "6"), ("France", "3"), ("Germany", "1")]


def test_map_page_counts_roles(client, europe):
    html = client.get(MAP).get_data(as_text=True)
    assert (
        "<li>7 people with the disease</li><li>Fewer than 3 relatives or friends</li>"
        "<li>Fewer than 3 caregivers</li><li>Fewer than 3 health care professionals</li>"
    ) in html


def test_map_page_of_an_empty_map(client, disease):
    html = client.get(MAP).get_data(as_text=True)
    assert "Nobody is on this map yet." in html and "Be the first to join" in html
    assert "shade-1" not in html.split("<figcaption>")[0]


def test_map_page_runs_the_same_queries_however_many_members(client, make, disease, count_queries):
    make.make_map_entry(disease, country="FR")
    client.get(MAP)
    with count_queries() as few:
        client.get(MAP)
    for code in ("DE", "IT", "ES", "US", "JP", "BR"):
        make.make_map_entry(disease, country=code)
    with count_queries() as many:
        client.get(MAP)
    assert many.count == few.count <= 4


def test_unknown_map_or_country_is_404(client, disease):
    assert client.get("/diseases/nope/map").status_code == 404
    assert client.get(MAP + "/countries/ZZ").status_code == 404
    assert client.get(MAP + "/countries/france").status_code == 404


# A country's members ---------------------------------------------------------------------------


def test_country_page_lists_named_members_for_members(member_client, europe):
    response = member_client.get(MAP + "/countries/FR")

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    # One of the three is anonymous: the total would give that away, so the heading has none.
    assert '<h2 id="country-members-title">France</h2>' in html
    assert 'href="/members/amelie">amelie</a>' in html
    assert "Person with the disease · Lyon" in html
    assert 'href="/members/bruno">bruno</a>' in html and "Relative or friend · Nice" in html
    assert "Fewer than 3 members in France chose to appear anonymously" in html
    assert "HX-Request" in response.headers["Vary"]


def test_country_fragment_for_htmx(member_client, europe):
    response = member_client.get(MAP + "/countries/fr", headers=HTMX)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<section id="country-members"')
    assert 'id="country-members"' in html and "amelie" in html and "bruno" in html
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_visitors_see_only_the_count(client, europe, headers):
    html = client.get(MAP + "/countries/FR", headers=headers).get_data(as_text=True)

    assert "France: 3 members" in html
    for private in ("amelie", "bruno", "Lyon", "Nice", "Person with the disease"):
        assert private not in html
    assert "Log in" in html


def test_visitors_see_no_names_or_regions_on_the_map_page(client, europe):
    html = client.get(MAP).get_data(as_text=True)
    for private in ("amelie", "bruno", "dieter", "italia0", "Lyon", "Nice"):
        assert private not in html


def test_a_country_without_members(member_client, europe):
    html = member_client.get(MAP + "/countries/PT", headers=HTMX).get_data(as_text=True)
    assert "Portugal: 0 members" in html and "Nobody in Portugal is on this map yet" in html


# Anonymity ---------------------------------------------------------------------------------------


def test_an_anonymous_member_is_named_nowhere(app, client, make, europe):
    question = make.make_question(europe, "Is it hereditary?")
    # secret_sam comments under their own name: the thread must not tie that name to the map.
    make_comment(question, db.session.scalar(select(User).filter_by(username="secret_sam")))
    other = client_for(app, make.make_user("olga_other"))
    urls = [
        MAP,
        MAP + "/countries/FR",
        "/diseases/scleromyxedema",
        MAP + "/join",
        "/account/export",
    ]
    for viewer in (client, other):
        for url in urls:
            for headers in ({}, HTMX):
                response = viewer.get(url, headers=headers, follow_redirects=True)
                html = response.get_data(as_text=True)
                assert "secret_sam" not in html, (url, headers)
                assert "Hidden Valley" not in html, (url, headers)
        # Where their name does appear, nothing says they are on the map or in what role.
        thread = viewer.get(f"/diseases/scleromyxedema/questions/{question.slug}")
        html = thread.get_data(as_text=True)
        assert "secret_sam" in html
        assert "Caregiver" not in html and "Hidden Valley" not in html
        profile = viewer.get("/members/secret_sam").get_data(as_text=True)
        assert "Scleromyxedema" not in profile and "Hidden Valley" not in profile


def test_the_export_of_an_anonymous_member_is_theirs_alone(app, client, make, europe):
    sam = db.session.scalar(select(User).filter_by(username="secret_sam"))
    own = client_for(app, sam).get("/account/export")
    assert json.loads(own.get_data())["map_entries"][0]["region"] == "Hidden Valley"
    assert "no-store" in own.headers["Cache-Control"]

    assert client.get("/account/export").status_code == 303
    theirs = client_for(app, make.make_user("nosy_nick")).get("/account/export")
    assert "Hidden Valley" not in theirs.get_data(as_text=True)


def test_an_anonymous_member_leaves_no_trace_after_deleting_their_account(
    app, client, make, europe
):
    sam = db.session.scalar(select(User).filter_by(username="secret_sam"))
    response = client_for(app, sam).post("/account/delete", data={"password": PASSWORD})

    assert response.status_code == 303
    assert member_count(europe) == 9 == true_count(europe)
    assert "France: 2 members" in client.get(MAP).get_data(as_text=True)


def test_an_anonymous_member_is_still_counted(client, europe):
    html = client.get(MAP).get_data(as_text=True)
    assert "France: 3 members" in html


# Search engines ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [MAP, MAP + "/countries/FR", JOIN, EDIT])
def test_map_pages_are_noindex(member_client, member, make, disease, url):
    make.make_map_entry(disease, member)
    response = member_client.get(url, follow_redirects=True)

    assert response.status_code == 200
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in response.get_data(as_text=True)


def test_country_fragment_is_noindex(client, disease):
    response = client.get(MAP + "/countries/FR", headers=HTMX)
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_the_disease_page_is_not_noindex(client, disease):
    assert "X-Robots-Tag" not in client.get("/diseases/scleromyxedema").headers


def test_country_list_shown_to_a_member_is_never_stored(client, make):
    from tests.conftest import login

    disease = make.make_disease("Scleromyxedema")
    make.make_map_entry(disease, make.make_user("named_nina"), country="FR")
    login(client, make.make_user("reader"))

    for headers in ({}, {"HX-Request": "true"}):
        response = client.get("/diseases/scleromyxedema/map/countries/FR", headers=headers)
        assert "named_nina" in response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-store"
