"""Static files under content-hashed URLs, cached by browsers for a year, compressed once.

`url_for('static', filename='css/site.css')` gives `/static/css/site.css?v=<hash of the file>`.
A request carrying the file's current hash is answered with `Cache-Control: public,
max-age=31536000, immutable`: when the file changes, so does its URL, and browsers fetch the new
one. A request without it (or with an old hash) is answered with `no-cache`, so it is checked
each time against the ETag. The bytes never change with the URL, so a Subresource Integrity
hash (htmx's `integrity` attribute) stays valid.

Files are read once per process and kept with their brotli and gzip forms (made once, at the
highest quality), so no request compresses a static file. Behind nginx, its `gzip_static` or
a `location /static/` with `expires max` can serve them instead (see README).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
from dataclasses import dataclass, field

import brotli
from flask import Flask, Response, abort, current_app, request
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600
# Larger files (none today) are sent from disk as Flask would, uncompressed.
KEPT_BYTES = 2 * 1024 * 1024
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


@dataclass
class StaticFile:
    mtime: float
    digest: str
    mimetype: str
    forms: dict[str, bytes] = field(default_factory=dict)  # "identity", "br", "gzip"


_files: dict[str, StaticFile | None] = {}


def _load(filename: str) -> StaticFile | None:
    """The file as kept in memory, read again when its mtime changes (in debug mode)."""
    path = safe_join(current_app.static_folder, filename)
    if path is None:
        return None
    known = _files.get(path)
    if known is not None and not current_app.debug:
        return known
    try:
        stat = os.stat(path)
    except OSError:
        return None
    if known is not None and known.mtime == stat.st_mtime:
        return known
    if not os.path.isfile(path) or stat.st_size > KEPT_BYTES:
        return None
    with open(path, "rb") as fh:
        data = fh.read()
    mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
    kept = StaticFile(stat.st_mtime, hashlib.sha256(data).hexdigest()[:12], mimetype)
    kept.forms["identity"] = data
    if mimetype.startswith(COMPRESSIBLE) and len(data) > 500:
        kept.forms["br"] = brotli.compress(data, quality=11)
        kept.forms["gzip"] = gzip.compress(data, 9, mtime=0)
    _files[path] = kept
    return kept


def file_hash(filename: str) -> str | None:
    """The first 12 hex digits of the static file's SHA-256, or None if there is no such file."""
    kept = _load(filename)
    return kept.digest if kept else None


def _add_hash(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "v" not in values and "filename" in values:
        digest = file_hash(values["filename"])
        if digest:
            values["v"] = digest


def static_file(filename: str):
    """A static file: for a year when asked for under its current hash, else checked each time."""
    kept = _load(filename)
    if kept is None:
        abort(404)
    encoding = "identity"
    for candidate in ("br", "gzip"):
        if candidate in kept.forms and request.accept_encodings[candidate]:
            encoding = candidate
            break
    response = Response(kept.forms[encoding], mimetype=kept.mimetype)
    if encoding != "identity":
        response.headers["Content-Encoding"] = encoding
    if len(kept.forms) > 1:
        response.vary.add("Accept-Encoding")
    response.set_etag(f"{kept.digest}-{encoding}")
    if request.args.get("v") == kept.digest:
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
    return response.make_conditional(request)


def register(app: Flask) -> None:
    app.url_defaults(_add_hash)
    app.view_functions["static"] = static_file
