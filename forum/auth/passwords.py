"""Password hashing with Argon2id (argon2-cffi), and the password rules members must meet."""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# RFC 9106's second recommended option: 19 MiB of memory, 2 passes, 1 lane.
hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# Stored for accounts that can never log in (demo members).
UNUSABLE = "!"

MIN_LENGTH = 10
# Long passphrases are welcome; the cap only bounds the work one request can ask of Argon2.
MAX_LENGTH = 1024

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parents[1] / "data" / "common-passwords.txt"


def _prepared(password: str) -> bytes:
    # NFKC: the same passphrase typed on two keyboards (composed or decomposed accents) matches.
    return unicodedata.normalize("NFKC", password).encode("utf-8")


def hash_password(password: str) -> str:
    return hasher.hash(_prepared(password))


def verify_password(stored_hash: str, password: str) -> bool:
    """True when `password` matches; False for a wrong password or an unusable hash."""
    if not stored_hash or stored_hash == UNUSABLE:
        return False
    try:
        return hasher.verify(stored_hash, _prepared(password))
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH: str | None = None


def burn_verify_time(password: str) -> None:
    """Take as long as a real check: a wrong username answers no faster than a wrong password."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not a real password, only a timing equalizer")
    verify_password(_DUMMY_HASH, password)


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with other parameters than today's."""
    try:
        return hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return False


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased (read once per process)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("# ")
    )


def password_problem(password: str, username: str = "") -> str | None:
    """Why `password` is not acceptable for a new password, or None when it is fine."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    folded = unicodedata.normalize("NFKC", password).lower()
    if folded in common_passwords():
        return "That password is one of the most common ones. Choose something less guessable."
    if username and folded.strip() == username.lower():
        return "Your password must not be your username."
    return None
