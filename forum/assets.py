"""Static files under content-hashed URLs, cached by browsers for a year.

`url_for('static', filename='css/site.css')` gives `/static/css/site.css?v=<hash of the file>`.
A request carrying the file's current hash is answered with `Cache-Control: public,
max-age=31536000, immutable`: when the file changes, so does its URL, and browsers fetch the new
one. A request without it (or with an old hash) is answered with `no-cache` and an ETag, so it
is always checked. The file's bytes never change with the URL, so a Subresource Integrity hash
(htmx's `integrity` attribute) stays valid. Compression is Flask-Compress's (forum.extensions).
"""

from __future__ import annotations

import hashlib
import os

from flask import Flask, current_app, request, send_from_directory
from werkzeug.security import safe_join

YEAR = 365 * 24 * 3600
_hashes: dict[str, tuple[float, str | None]] = {}


def file_hash(filename: str) -> str | None:
    """The first 12 hex digits of the static file's SHA-256, or None if there is no such file.

    Kept per process; in debug mode a changed file (new mtime) is hashed again.
    """
    path = safe_join(current_app.static_folder, filename)
    if path is None:
        return None
    known = _hashes.get(path)
    if known is not None and not current_app.debug:
        return known[1]
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return None
    if known is not None and known[0] == mtime:
        return known[1]
    with open(path, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()[:12]
    _hashes[path] = (mtime, digest)
    return digest


def _add_hash(endpoint: str, values: dict) -> None:
    if endpoint == "static" and "v" not in values and "filename" in values:
        digest = file_hash(values["filename"])
        if digest:
            values["v"] = digest


def static_file(filename: str):
    """A static file: for a year when asked for under its current hash, else checked each time."""
    current = request.args.get("v")
    versioned = current is not None and current == file_hash(filename)
    response = send_from_directory(
        current_app.static_folder, filename, max_age=YEAR if versioned else None
    )
    if versioned:
        response.cache_control.immutable = True
    return response


def register(app: Flask) -> None:
    app.url_defaults(_add_hash)
    app.view_functions["static"] = static_file
