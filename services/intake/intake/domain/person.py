"""The person key: how intake recognises a person again from their name and date of birth.

A referral stores the key of the person it names; a new arrest reported by identifiers is
matched by the same key, so an officer who knows a name and a date of birth (not a case id)
can report it. Names are compared without regard to case, surrounding or repeated spaces and
Unicode compatibility forms; the key is a SHA-256 digest, so the read model that matches
arrests holds no name.
"""

import hashlib
import unicodedata
from datetime import date


def _normal(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).split()).lower()


def person_key(given_name: str, family_name: str, date_of_birth: date) -> str:
    text = f"{_normal(family_name)}|{_normal(given_name)}|{date_of_birth.isoformat()}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
