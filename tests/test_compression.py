"""Compression of pages and static files, and static files under content-hashed URLs."""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib

import brotli
import pytest

from tests.test_pagecache import token_owner


@pytest.fixture
def app_config():
    return {"PAGE_CACHE_SECONDS": 300}


@pytest.fixture
def disease(make):
    return make.make_disease("Scleromyxedema")


def decoded(response) -> bytes:
    data = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(data)
    if encoding == "gzip":
        return gzip.decompress(data)
    if encoding == "deflate":
        return zlib.decompress(data)
    return data


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_pages_are_compressed_when_the_browser_accepts_it(client, disease, encoding):
    plain = client.get("/diseases/scleromyxedema")
    packed = client.get("/diseases/scleromyxedema", headers={"Accept-Encoding": encoding})

    assert packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.get_data()) < len(plain.get_data()) / 2
    assert b"Scleromyxedema" in decoded(packed)


def test_brotli_is_preferred_and_nothing_is_compressed_unasked(client, disease):
    both = client.get("/", headers={"Accept-Encoding": "gzip, deflate, br"})
    none = client.get("/")

    assert both.headers["Content-Encoding"] == "br"
    assert "Content-Encoding" not in none.headers
    assert b"<html" in none.get_data()


def test_a_cached_page_is_compressed_with_the_visitors_own_token(client, disease):
    client.get("/diseases/scleromyxedema")
    packed = client.get("/diseases/scleromyxedema", headers={"Accept-Encoding": "gzip"})

    assert packed.headers["X-Page-Cache"] == "hit"
    token = re.search(r'"X-CSRFToken": "([^"]+)"', decoded(packed).decode()).group(1)
    assert token_owner(client, token)


def static_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_static_urls_carry_the_files_content_hash(client, disease, app):
    urls = static_urls(client.get("/").get_data(as_text=True))

    assert {u.split("?")[0] for u in urls} >= {
        "/static/css/site.css",
        "/static/vendor/htmx-2.0.11.min.js",
        "/static/favicon.svg",
    }
    for url in urls:
        path, version = url.split("?v=")
        on_disk = (app.static_folder + path.removeprefix("/static")).encode()
        with open(on_disk, "rb") as fh:
            assert version == hashlib.sha256(fh.read()).hexdigest()[:12]


def test_a_hashed_static_url_is_cached_for_a_year(client, disease):
    url = next(u for u in static_urls(client.get("/").get_data(as_text=True)) if "site.css" in u)

    response = client.get(url)

    assert response.status_code == 200
    assert response.cache_control.max_age == 31536000
    assert response.cache_control.immutable
    assert response.cache_control.public
    response.close()


@pytest.mark.parametrize("query", ["", "?v=0123456789ab"])
def test_a_static_url_without_the_current_hash_is_checked_each_time(client, query):
    response = client.get("/static/css/site.css" + query)

    assert response.status_code == 200
    assert response.cache_control.no_cache
    assert not response.cache_control.immutable
    assert response.headers.get("ETag")
    response.close()


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_static_files_are_compressed_when_accepted(client, encoding):
    with open(client.application.static_folder + "/css/site.css", "rb") as fh:
        css = fh.read()

    response = client.get("/static/css/site.css", headers={"Accept-Encoding": encoding})

    assert response.headers["Content-Encoding"] == encoding
    assert decoded(response) == css
    response.close()


def test_a_missing_static_file_is_404(client):
    response = client.get("/static/css/nothing.css")
    assert response.status_code == 404


# -- cached pages: compressed once, the token put in at answer time ------------------------------


@pytest.mark.parametrize(
    "parts",
    [
        (b"only one part, no token",),
        (b"", b""),
        (b"<head>", b"<body>" * 5000, b"</html>"),
        (b"a" * 70_000, b"", b"b" * 3, b"c" * 200_000),
    ],
    ids=["no-token", "only-token", "two-tokens", "large-and-empty-parts"],
)
@pytest.mark.parametrize("token", [b"", b"t", b"IjE2NjE.aBcD-token.signature_" * 3, b"x" * 70_000])
def test_gzip_parts_joined_around_a_token_are_the_page_with_that_token(parts, token):
    from forum.compression import GzipParts

    packed = GzipParts.compress(parts).join(token)

    # gzip.decompress checks the CRC-32 and the length in the trailer.
    assert gzip.decompress(packed) == token.join(parts)
    assert zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(packed) == token.join(parts)


def test_a_cached_page_in_gzip_is_the_same_page_as_uncompressed(client, disease):
    client.get("/diseases/scleromyxedema")
    plain = client.get("/diseases/scleromyxedema")
    packed = client.get("/diseases/scleromyxedema", headers={"Accept-Encoding": "gzip, br"})

    assert plain.headers["X-Page-Cache"] == packed.headers["X-Page-Cache"] == "hit"
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    token = re.compile(rb'"X-CSRFToken": "[^"]+"')
    assert token.sub(b"T", decoded(packed)) == token.sub(b"T", plain.get_data())


def test_a_stored_page_survives_the_trip_through_redis_bytes(app, client, disease):
    from forum.pagecache import Entry

    client.get("/diseases/scleromyxedema")
    ((_, entry),) = app.extensions["pagecache"]._items.values()

    again = Entry.loads(entry.dumps())

    assert again == entry
    assert gzip.decompress(again.gzip.join(b"TOKEN")) == entry.body(b"TOKEN")
