"""Turning titles into URL slugs and comparison keys, and ending a question as its script does."""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"-+")
# Question marks of the scripts members write in; a title ending with any of them is a question.
QUESTION_MARKS = ("?", "\u061f", "\uff1f", "\u2e2e")  # ?, Arabic ؟, full-width ？, reversed ⸮
# Embeddings, overrides, isolates and the directional marks: in a name, a title or a region
# they can reverse how the text around them reads. Comment text keeps them (shown with
# dir="auto"), as right-to-left writers need them there.
_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_bidi_controls(text: str) -> str:
    """The text without bidirectional control characters."""
    return _BIDI_CONTROLS.sub("", text)


def _slug_chars(text: str):
    """Each character of `text` as it stands in a slug: a Latin letter folded to ASCII ("é" is
    "e"), a letter or digit of another script kept as it is ("ع", "硬"), anything else "-"."""
    for ch in unicodedata.normalize("NFKC", text).casefold():
        if ch.isascii():
            yield ch if ch.isalnum() else "-"
            continue
        decomposed = unicodedata.normalize("NFKD", ch)
        base = "".join(c for c in decomposed if c.isascii())
        if base.isalnum() and all(unicodedata.combining(c) for c in decomposed if not c.isascii()):
            yield base  # an accented Latin letter
        elif unicodedata.category(ch)[0] in "LNM":
            # Letters, digits and the marks that belong to them (Arabic vowel signs, Devanagari
            # matras): dropping a mark would change the word, splitting on it would break it.
            yield ch
        else:
            yield "-"


def slugify(text: str, max_length: int = 200) -> str:
    """A lower-case, hyphenated slug that a reader of the title's script can read.

    Latin text becomes ASCII ("Is it hereditary?" is "is-it-hereditary", "Qu'est-ce?" is
    "qu-est-ce"); other scripts keep their letters ("هل هو وراثي؟" is "هل-هو-وراثي"), which
    browsers show as typed and percent-encode on the wire. "item" only when nothing is left.
    """
    slug = _SEPARATORS.sub("-", "".join(_slug_chars(text))).strip("-")
    return slug[:max_length].rstrip("-") or "item"


def title_key(text: str) -> str:
    """A comparison key that ignores case, accents, punctuation and spacing."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())[:220]


def _script_of_last_letter(text: str) -> str:
    for ch in reversed(text):
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            if name.startswith("ARABIC"):
                return "arabic"
            if name.startswith(("CJK", "HIRAGANA", "KATAKANA")):
                return "cjk"
            return "other"
    return "other"


def question_mark_for(text: str) -> str:
    """The question mark a title in this script ends with: "؟" for Arabic script (Arabic,
    Persian, Urdu), "？" for Chinese and Japanese, "?" otherwise."""
    return {"arabic": "\u061f", "cjk": "\uff1f"}.get(_script_of_last_letter(text), "?")
