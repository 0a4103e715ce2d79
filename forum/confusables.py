"""Confusable skeletons (Unicode TR39, section 4): what a text reads as, whatever look-alike
characters it is written with ("аlice" with a Cyrillic "а" and "alice" share one skeleton).

The prototypes come from the Unicode Consortium's confusables.txt, kept unchanged in
forum/data/ with its licence (Unicode-DFS-2016, forum/data/confusables-LICENSE.txt). It is the
Unicode 15.0.0 file, the copy ICU 72.1 (Debian 12's) builds its spoof checker from, so the keys
stored on users.name_key while PyICU made them stay the same. A newer file may map more
characters: swapping it in needs a migration that recomputes users.name_key.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

CONFUSABLES_FILE = Path(__file__).resolve().parent / "data" / "confusables.txt"


@cache
def prototypes() -> dict[int, str]:
    """Each confusable code point with the prototype string it reads as, for str.translate."""
    table = {}
    with CONFUSABLES_FILE.open(encoding="utf-8-sig") as lines:
        for line in lines:
            # "0430 ;\t0061 ;\tMA\t# ( а → a ) CYRILLIC SMALL LETTER A → LATIN SMALL LETTER A"
            fields = line.split("#", 1)[0].split(";")
            if len(fields) < 2:
                continue
            source, target = fields[0], fields[1]
            table[int(source, 16)] = "".join(chr(int(cp, 16)) for cp in target.split())
    return table


def skeleton(text: str) -> str:
    """The TR39 skeleton of `text`: NFD, each character replaced by its prototype, NFD again."""
    mapped = unicodedata.normalize("NFD", text).translate(prototypes())
    return unicodedata.normalize("NFD", mapped)
