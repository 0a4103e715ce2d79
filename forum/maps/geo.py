"""The world map's country shapes: TopoJSON decoded, projected and turned into SVG paths once.

The boundaries are Natural Earth 1:110m (public domain) as packaged by world-atlas 2.0.2
(static/data/countries-110m.json; ISC licence in static/data/world-atlas-LICENSE.txt).
Features carry ISO 3166-1 numeric ids; pycountry turns them into alpha-2 codes and names.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pycountry

ATLAS = Path(__file__).resolve().parents[2] / "static" / "data" / "countries-110m.json"

# Features without an ISO numeric id, drawn as part of the country ISO 3166 places them in
# (Kosovo has the user-assigned code XK, which pycountry does not know).
UNCODED_FEATURES = {"N. Cyprus": "CY", "Somaliland": "SO", "Kosovo": "XK"}
# Codes offered to members beyond pycountry's list, with their names.
EXTRA_COUNTRIES = {"XK": "Kosovo"}
# Everyday names where pycountry has only the formal one.
SHORT_NAMES = {
    "RU": "Russia",
    "CD": "DR Congo",
    "FM": "Micronesia",
    "PS": "Palestine",
    "VA": "Vatican City",
    "FK": "Falkland Islands",
    "VG": "British Virgin Islands",
    "VI": "U.S. Virgin Islands",
}
# Names people type that pycountry does not know (older, everyday or constituent-country names).
# Matching also ignores accents, so "Turkiye", "Cote d'Ivoire" and "Reunion" need no entry.
ALIASES = {
    "Turkey": "TR",
    "Ivory Coast": "CI",
    "USA": "US",
    "U.S.A.": "US",
    "America": "US",
    "UK": "GB",
    "U.K.": "GB",
    "Great Britain": "GB",
    "Britain": "GB",
    "England": "GB",
    "Scotland": "GB",
    "Wales": "GB",
    "Northern Ireland": "GB",
    "Holland": "NL",
    "Czech Republic": "CZ",
    "Burma": "MM",
    "Swaziland": "SZ",
    "Cape Verde": "CV",
    "Macedonia": "MK",
    "Brunei": "BN",
    "East Timor": "TL",
    "Vatican": "VA",
    "Holy See": "VA",
    "Congo-Kinshasa": "CD",
    "Congo-Brazzaville": "CG",
    "UAE": "AE",
}
# Left off the map: nobody lives there, and it would take a fifth of the map's height.
EXCLUDED_CODES = {"AQ"}

# The map shows the whole north, up to the pole line (Greenland, the Canadian Arctic and
# Svalbard with sea above them), and the south down to 60°S, below Tierra del Fuego.
SOUTH, NORTH = -60.0, 90.0
WIDTH = 960.0


@dataclass(frozen=True)
class CountryShape:
    code: str  # ISO 3166-1 alpha-2
    name: str
    path: str  # SVG path data in the map's viewBox


@dataclass(frozen=True)
class WorldMap:
    width: int
    height: int
    outline: str  # the projected globe's edge, between the map's southern and northern limits
    shapes: tuple[CountryShape, ...]

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"


def natural_earth(lon: float, lat: float) -> tuple[float, float]:
    """The Natural Earth projection (Šavrič, Patterson, Jenny, 2011): the compromise most
    public world maps use, so Greenland and the Arctic look as people know them (an equal-area
    projection squashes them flat). Polynomials as published; x, y in radians of the globe."""
    lam, phi = math.radians(lon), math.radians(lat)
    p2 = phi * phi
    p4 = p2 * p2
    x = lam * (0.8707 - 0.131979 * p2 + p4 * (-0.013791 + p4 * (0.003971 * p2 - 0.001529 * p4)))
    y = phi * (1.007226 + p2 * (0.015085 + p4 * (-0.044475 + 0.028874 * p2 - 0.005916 * p4)))
    return x, y


def _decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """Every arc as absolute longitude/latitude points (arcs are delta-encoded integers)."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def _ring(arcs: list, indexes: list[int]) -> list[tuple[float, float]]:
    """A closed ring from arc indexes; ~i is arc i reversed, and joined arcs share a point."""
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def _unwrap(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The ring with longitude jumps over 180° removed, so it may run past ±180."""
    out = [ring[0]]
    shift = 0.0
    for (lon0, _), (lon, lat) in zip(ring, ring[1:], strict=False):
        step = lon - lon0
        if step > 180:
            shift -= 360
        elif step < -180:
            shift += 360
        out.append((lon + shift, lat))
    return out


def _clip(ring: list[tuple[float, float]], limit: float, keep_below: bool):
    """Sutherland-Hodgman: the part of the ring on one side of the meridian `limit`."""

    def inside(point):
        return point[0] <= limit if keep_below else point[0] >= limit

    out = []
    for i, current in enumerate(ring):
        previous = ring[i - 1]
        if inside(current):
            if not inside(previous):
                out.append(_crossing(previous, current, limit))
            out.append(current)
        elif inside(previous):
            out.append(_crossing(previous, current, limit))
    return out


def _crossing(a, b, lon):
    t = (lon - a[0]) / (b[0] - a[0])
    return (lon, a[1] + t * (b[1] - a[1]))


def _split_at_antimeridian(ring):
    """The ring as pieces that each stay within [-180, 180]: overflow is moved a world over."""
    ring = _unwrap(ring)
    lons = [lon for lon, _ in ring]
    if max(lons) > 180:
        pieces = [_clip(ring, 180, True), _clip([(x - 360, y) for x, y in ring], -180, False)]
    elif min(lons) < -180:
        pieces = [_clip(ring, -180, False), _clip([(x + 360, y) for x, y in ring], 180, True)]
    else:
        pieces = [ring]
    return [piece for piece in pieces if len(piece) >= 3]


def _ring_points(ring, to_screen, digits: int) -> list[tuple[float, float]]:
    """The ring's screen points rounded to `digits` decimals, repeats and closing point dropped."""
    points: list[tuple[float, float]] = []
    for lon, lat in ring:
        x, y = to_screen(lon, lat)
        point = (round(x, digits), round(y, digits)) if digits else (round(x), round(y))
        if not points or point != points[-1]:
            points.append(point)
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    return points


def _number(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _path(rings, to_screen) -> str:
    """SVG path data: integer relative commands, repeated points dropped.

    A ring smaller than a unit of the map (like Fiji's sliver east of 180°) would shrink to a
    point at whole units; it is drawn to a tenth of a unit instead, so no land drops out.
    """
    parts = []
    for ring in rings:
        points = _ring_points(ring, to_screen, 0)
        if len(points) < 3:
            points = _ring_points(ring, to_screen, 1)
        if len(points) < 3:
            continue
        x0, y0 = points[0]
        steps = []
        for x, y in points[1:]:
            steps += (_number(x - x0), _number(y - y0))
            x0, y0 = x, y
        parts.append(f"M{_number(points[0][0])} {_number(points[0][1])}l{_numbers(steps)}z")
    return "".join(parts)


def _numbers(numbers: list[str]) -> str:
    """Numbers as SVG path data writes them shortest: one `l` carries every pair after it,
    and a minus sign separates as well as a space does ("2 1-3-3")."""
    text = numbers[0]
    for number in numbers[1:]:
        text += number if number[0] == "-" else " " + number
    return text


def country_name(code: str) -> str:
    """A country's everyday English name from its alpha-2 code (the code itself if unknown)."""
    name = EXTRA_COUNTRIES.get(code) or SHORT_NAMES.get(code)
    if name:
        return name
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


@cache
def country_choices() -> tuple[tuple[str, str], ...]:
    """(alpha-2, name) of every country a member may choose, sorted by name."""
    codes = [c.alpha_2 for c in pycountry.countries if c.alpha_2 not in EXCLUDED_CODES]
    codes.extend(EXTRA_COUNTRIES)
    return tuple(sorted(((code, country_name(code)) for code in codes), key=lambda c: c[1]))


def is_country(code: str) -> bool:
    """True for an alpha-2 code a member may choose."""
    return code in _country_codes()


@cache
def _country_codes() -> frozenset[str]:
    return frozenset(code for code, _ in country_choices())


def _fold(text: str) -> str:
    """Text for matching names: accents dropped, letter case and spacing ignored."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.replace("\u2019", "'").casefold().split())


def country_code(text: str) -> str | None:
    """The alpha-2 code for a country's code, name or everyday alias, or None.

    Names match whatever their letter case or accents; a code must be in capitals (AT, not at).
    """
    text = text.strip()
    if len(text) == 2 and text.isupper() and is_country(text):
        return text
    return _codes_by_name().get(_fold(text))


@cache
def _codes_by_name() -> dict[str, str]:
    names = {}
    for code, name in country_choices():
        names[_fold(name)] = code
        country = pycountry.countries.get(alpha_2=code)
        for attribute in ("name", "official_name", "common_name"):
            other = getattr(country, attribute, None) if country else None
            if other:
                names.setdefault(_fold(other), code)
    for alias, code in ALIASES.items():
        names.setdefault(_fold(alias), code)
    return names


def _feature_code(feature: dict) -> str | None:
    numeric = feature.get("id")
    if numeric is None:
        return UNCODED_FEATURES.get(feature.get("properties", {}).get("name", ""))
    country = pycountry.countries.get(numeric=numeric)
    return country.alpha_2 if country else None


@cache
def world_map(width: float = WIDTH) -> WorldMap:
    """The projected country shapes, `width` units wide, decoded from the atlas once per process
    and width (a small map is drawn at a small width, so its paths have fewer points)."""
    topology = json.loads(ATLAS.read_text())
    arcs = _decode_arcs(topology)

    left, top = natural_earth(-180, 0)[0], natural_earth(0, NORTH)[1]
    bottom = natural_earth(0, SOUTH)[1]
    scale = width / (2 * -left)
    height = round((top - bottom) * scale)

    def to_screen(lon: float, lat: float) -> tuple[float, float]:
        x, y = natural_earth(lon, lat)
        return (x - left) * scale, (top - y) * scale

    rings_by_code: dict[str, list] = {}
    for feature in topology["objects"]["countries"]["geometries"]:
        code = _feature_code(feature)
        if code is None or code in EXCLUDED_CODES:
            continue
        polygons = feature["arcs"] if feature["type"] == "MultiPolygon" else [feature["arcs"]]
        rings = rings_by_code.setdefault(code, [])
        for polygon in polygons:
            for indexes in polygon:
                rings.extend(_split_at_antimeridian(_ring(arcs, indexes)))

    edge = [(-180, lat) for lat in range(int(SOUTH), int(NORTH) + 1)]
    edge += [(180, lat) for lat in range(int(NORTH), int(SOUTH) - 1, -1)]
    outline = _path([edge], to_screen)

    shapes = (
        CountryShape(code, country_name(code), _path(rings, to_screen))
        for code, rings in rings_by_code.items()
    )
    ordered = sorted((s for s in shapes if s.path), key=lambda s: s.name)
    return WorldMap(int(width), height, outline, tuple(ordered))
