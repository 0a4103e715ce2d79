"""Initials avatars: a member's initials on one of a few calm colours, the same every time."""

from __future__ import annotations

import re
import zlib
from functools import lru_cache

# How many colours the stylesheet has for avatars (.tone-0 ... .tone-7).
TONES = 8
_PARTS = re.compile(r"[\s._\-]+")


# A thread page asks for the same few hundred authors' avatars on every request.
@lru_cache(maxsize=4096)
def initials(name: str) -> str:
    """One or two capital letters for a name: "maren_oslo" is "MO", "kay2500" is "K"."""
    parts = [p for p in _PARTS.split(name.strip()) if p]
    letters = [next((ch for ch in part if ch.isalpha()), "") for part in parts]
    letters = [ch for ch in letters if ch]
    if not letters:
        return "?"
    return "".join(letters[:2]).upper()


@lru_cache(maxsize=4096)
def tone(name: str) -> int:
    """The avatar colour (0 to TONES - 1) for a name: stable across requests and processes."""
    return zlib.crc32(name.casefold().encode()) % TONES
