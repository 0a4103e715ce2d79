"""Turning titles into URL slugs and comparison keys."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")


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
