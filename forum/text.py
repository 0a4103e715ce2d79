"""Turning titles into URL slugs and comparison keys."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")
# Embeddings, overrides, isolates and the directional marks: in a name, a title or a region
# they can reverse how the text around them reads. Comment text keeps them (shown with
# dir="auto"), as right-to-left writers need them there.
_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_bidi_controls(text: str) -> str:
    """The text without bidirectional control characters."""
    return _BIDI_CONTROLS.sub("", text)


def _ascii_lower(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii").lower()


def slugify(text: str, max_length: int = 200) -> str:
    """A lower-case, hyphenated ASCII slug ("Is it hereditary?" -> "is-it-hereditary")."""
    slug = _NON_WORD.sub("-", _ascii_lower(text)).strip("-")
    return slug[:max_length].rstrip("-") or "item"


def title_key(text: str) -> str:
    """A comparison key that ignores case, accents, punctuation and spacing."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())[:220]
