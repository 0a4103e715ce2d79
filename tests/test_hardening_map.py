"""Small-cell suppression on the member map: a count of 1 or 2 anonymous members in a country,
or of members in a role, shows as "fewer than 3", as health statistics publish small counts."""

from __future__ import annotations

import pytest

from tests.conftest import HTMX

MAP = "/diseases/scleromyxedema/map"


@pytest.fixture
def disease(make):
    return make.make_disease("Scleromyxedema")


def _anonymous(make, disease, n: int, country: str = "FR") -> None:
    for _ in range(n):
        make.make_map_entry(disease, country=country, anonymous=True)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
@pytest.mark.parametrize("hidden", [1, 2])
def test_one_or_two_anonymous_members_in_a_country_show_as_fewer_than_3(
    member_client, make, disease, hidden, htmx
):
    make.make_map_entry(disease, make.make_user("amelie"), "FR")
    _anonymous(make, disease, hidden)

    html = member_client.get(f"{MAP}/countries/FR", headers=HTMX if htmx else {}).get_data(
        as_text=True
    )

    assert "Fewer than 3 members in France chose to appear anonymously." in html
    # Neither the count nor a total that, less the one named member, would give it away.
    assert f"{hidden} member" not in html and f"France: {hidden + 1} members" not in html


@pytest.mark.parametrize("hidden", [3, 7])
def test_three_or_more_anonymous_members_are_counted_exactly(member_client, make, disease, hidden):
    _anonymous(make, disease, hidden)
    html = member_client.get(f"{MAP}/countries/FR").get_data(as_text=True)
    assert f"{hidden} members in France chose to appear anonymously." in html


def test_no_anonymous_members_means_no_line_about_them(member_client, make, disease):
    make.make_map_entry(disease, make.make_user("amelie"), "FR")
    html = member_client.get(f"{MAP}/countries/FR").get_data(as_text=True)
    assert "anonymously" not in html


def test_role_counts_under_3_show_as_fewer_than_3(client, make, disease):
    for _ in range(4):
        make.make_map_entry(disease, country="FR", role="patient")
    make.make_map_entry(disease, country="DE", role="caregiver")
    for _ in range(2):
        make.make_map_entry(disease, country="IT", role="researcher")

    html = client.get(MAP).get_data(as_text=True)

    assert (
        "<li>4 people with the disease</li><li>Fewer than 3 caregivers</li>"
        "<li>Fewer than 3 researchers</li>"
    ) in html
    assert "1 caregiver" not in html and "2 researchers" not in html
