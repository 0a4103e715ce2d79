"""The world map's shapes: decoded once, projected inside the frame, no streaks, no Antarctica."""

from __future__ import annotations

import re

import pytest

from forum.maps import geo
from forum.maps.service import legend, shade

NUMBER = r"(-?\d+(?:\.\d)?)"


def points(path: str):
    """Absolute points of every ring of a path: each ring is "M x y", then one "l" whose
    numbers are relative pairs (a minus sign may stand for the space between two), then "z"."""
    rings = []
    for start, steps in re.findall(r"M([^Mlz]+)l([^Mlz]+)z", path):
        x, y = (float(n) for n in re.findall(NUMBER, start))
        current = [(x, y)]
        numbers = [float(n) for n in re.findall(NUMBER, steps)]
        for dx, dy in zip(numbers[::2], numbers[1::2], strict=True):
            x, y = x + dx, y + dy
            current.append((round(x, 1), round(y, 1)))
        rings.append(current)
    return rings


def shape(code: str) -> geo.CountryShape:
    [found] = [s for s in geo.world_map().shapes if s.code == code]
    return found


def test_the_atlas_decodes_to_every_country_but_antarctica():
    world = geo.world_map()
    codes = {shape.code for shape in world.shapes}

    assert len(world.shapes) > 170
    assert {"FR", "RU", "FJ", "US", "NZ", "BR"} <= codes
    assert "AQ" not in codes
    assert world.view_box == f"0 0 960 {world.height}"
    assert geo.world_map() is world  # decoded once per process


def test_features_without_iso_codes_join_their_country():
    codes = [shape.code for shape in geo.world_map().shapes]
    assert codes.count("CY") == 1 and codes.count("SO") == 1  # with N. Cyprus and Somaliland
    assert "XK" in codes  # Kosovo


def test_every_ring_stays_in_the_frame_without_streaks():
    world = geo.world_map()
    for shape in world.shapes:
        for ring in points(shape.path):
            assert all(0 <= x <= world.width and 0 <= y <= world.height for x, y in ring), shape
            # A ring wrapped the wrong way round the antimeridian jumps across the map.
            for (x0, _), (x1, _) in zip(ring, ring[1:], strict=False):
                assert abs(x1 - x0) < world.width / 4, shape.name


@pytest.mark.parametrize("code", ["RU", "FJ"])
def test_countries_across_the_antimeridian_are_drawn_on_both_sides(code):
    # Chukotka and the east of Fiji's Vanua Levu lie past 180°E: they are drawn at the map's
    # western edge, not streaked across it. Fiji's piece is thinner than a unit of the map,
    # so it is drawn to a tenth of a unit rather than dropped.
    world = geo.world_map()
    xs = [x for ring in points(shape(code).path) for x, _ in ring]
    centre = world.width / 2
    assert min(xs) < centre - 300 and max(xs) > centre + 300


def test_fijis_sliver_east_of_180_has_an_area():
    west = [ring for ring in points(shape("FJ").path) if max(x for x, _ in ring) < 100]
    assert len(west) == 1 and len(set(west[0])) >= 3


def test_shapes_use_whole_units_except_where_a_ring_would_vanish():
    decimals = [s.code for s in geo.world_map().shapes if "." in s.path]
    assert decimals == ["FJ"]
    assert "." not in geo.world_map().outline


def test_the_world_map_stays_small():
    world = geo.world_map()
    assert sum(len(s.path) for s in world.shapes) < 60_000


def test_ring_split_at_the_antimeridian():
    ring = [(170, 0), (-170, 0), (-170, 10), (170, 10), (170, 0)]
    pieces = geo._split_at_antimeridian(ring)
    assert len(pieces) == 2
    assert all(-180 <= lon <= 180 for piece in pieces for lon, _ in piece)
    assert {max(lon for lon, _ in pieces[0]), min(lon for lon, _ in pieces[1])} == {180, -180}


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("France", "FR"),
        ("FR", "FR"),
        ("  new   zealand ", "NZ"),
        ("Turkey", "TR"),
        ("Turkiye", "TR"),
        ("Türkiye", "TR"),
        ("Cote d'Ivoire", "CI"),
        ("Côte d’Ivoire", "CI"),
        ("Ivory Coast", "CI"),
        ("USA", "US"),
        ("United States of America", "US"),
        ("UK", "GB"),
        ("England", "GB"),
        ("Czech Republic", "CZ"),
        ("Reunion", "RE"),
        ("Korea, Republic of", "KR"),
        ("South Korea", "KR"),
        ("Kosovo", "XK"),
    ],
)
def test_country_code_from_what_people_type(typed, code):
    assert geo.country_code(typed) == code


@pytest.mark.parametrize("typed", ["", "ZZ", "fr", "Frnace", "Atlantis", "Antarctica"])
def test_country_code_refuses_what_is_no_country_in_the_list(typed):
    assert geo.country_code(typed) is None


def test_every_alias_names_a_country_in_the_list():
    assert all(geo.is_country(code) for code in geo.ALIASES.values())


def test_country_choices():
    choices = dict(geo.country_choices())
    assert choices["FR"] == "France" and choices["RU"] == "Russia" and choices["XK"] == "Kosovo"
    assert "AQ" not in choices
    assert geo.is_country("DE") and not geo.is_country("ZZ") and not geo.is_country("de")
    names = [name for _, name in geo.country_choices()]
    assert names == sorted(names)


@pytest.mark.parametrize(
    ("count", "step"), [(0, 0), (1, 1), (2, 2), (4, 2), (5, 3), (9, 3), (10, 4), (25, 5), (900, 5)]
)
def test_shade_steps(count, step):
    assert shade(count) == step


def test_legend_covers_every_step():
    assert [(s.shade, s.label) for s in legend()] == [
        (0, "None"),
        (1, "1"),
        (2, "2–4"),
        (3, "5–9"),
        (4, "10–24"),
        (5, "25 or more"),
    ]
