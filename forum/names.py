"""Names that pass for someone else: confusable skeletons (Unicode TR39) and reserved names.

Two names that a reader cannot tell apart ("alice_a" with a Cyrillic "е", a dotless "ı", a
"1" for an "l", an invisible variation selector or a combining accent) get the same key. The
skeleton comes from forum.confusables (the Unicode Consortium's confusables.txt, the data ICU's
spoof checker uses); around it, NFKC folds compatibility forms (fullwidth letters),
default-ignorable and format characters and combining marks are dropped, and case is folded.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from forum import confusables

# Longest key kept (and stored on users.name_key): a skeleton can be longer than its name.
KEY_MAX = 120

# Names nobody may take by signing up or as a guest: the site, its staff and its own labels.
# Compared by key, letters only ("Adm1n", "rare_circle" and "Аdmin" are all caught).
RESERVED = (
    "admin",
    "administrator",
    "moderator",
    "mod",
    "rarecircle",
    "staff",
    "support",
    "system",
    "root",
    "official",
    "security",
    "help",
    "team",
    "webmaster",
    "postmaster",
    "noreply",
    "deleted",
    "deletedmember",
    "guest",
    "anonymous",
)
# Reserved words that may not appear anywhere in a name ("RareCircle Team", "the_moderator").
RESERVED_ANYWHERE = ("rarecircle", "moderator", "administrator")


def _drop_invisible(text: str) -> str:
    """Without combining marks, variation selectors, format and control characters."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Mn", "Me", "Cf", "Cc"))


def _fold(text: str) -> str:
    return _drop_invisible(unicodedata.normalize("NFD", text.casefold()))


def _clean(name: str) -> str:
    return _drop_invisible(unicodedata.normalize("NFKC", name)).strip()


def name_key(name: str) -> str:
    """The key a member's name is stored under: case folded first, then its skeleton."""
    return _fold(confusables.skeleton(_fold(_clean(name))))[:KEY_MAX]


@lru_cache(maxsize=4096)
def name_keys(name: str) -> frozenset[str]:
    """Every key `name` must not share with a member's name_key.

    Folding case before the skeleton catches "ALICE_A"; taking the skeleton first catches
    "AIice_a" (a capital I for the l, which folding would turn into an i).
    """
    clean = _clean(name)
    return frozenset(
        {name_key(name), _fold(confusables.skeleton(_fold(confusables.skeleton(clean))))[:KEY_MAX]}
    )


@lru_cache(maxsize=1)
def _reserved_keys() -> tuple[frozenset[str], tuple[str, ...]]:
    exact = frozenset(_letters(key) for word in RESERVED for key in name_keys(word))
    anywhere = tuple(_letters(name_key(word)) for word in RESERVED_ANYWHERE)
    return exact, anywhere


def _letters(key: str) -> str:
    # Letters only, and "l" read as "i" (TR39 keeps them apart, but "adm1n" reads "admin").
    return "".join(ch for ch in key if ch.isalpha()).replace("l", "i")


def is_reserved(name: str) -> bool:
    """True for a name of the site or its staff, however it is written."""
    exact, anywhere = _reserved_keys()
    for key in name_keys(name):
        letters = _letters(key)
        if letters in exact or any(word in letters for word in anywhere):
            return True
    return False
