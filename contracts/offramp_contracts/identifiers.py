"""Identifiers that more than one service must derive the same way."""

import unicodedata
from datetime import date
from uuid import UUID, uuid5

_CASE_NAMESPACE = UUID("6f1c1d2e-8a55-4c1b-9a7e-2b7d0c3f4e10")


def case_id_for_referral(referral_id: UUID) -> UUID:
    """A referral opens at most one case, so the case id is a function of the referral id:
    a redelivered EligibilityDecided finds the case (and its workflow) it already opened."""
    return uuid5(_CASE_NAMESPACE, str(referral_id))


def person_key(given_name: str, family_name: str, date_of_birth: date) -> str:
    """The key that tells one person's referrals apart from another's: names folded (case,
    accents, spacing and punctuation ignored) and the date of birth. Identifiers are left out
    on purpose, since one officer records a state id and the next none.

    Nobody outside intake ever sees it: outcomes keeps only a keyed hash of it (an HMAC whose
    key the county holds), so a re-referral links to the first without an identity."""
    return "|".join((_folded(family_name), _folded(given_name), date_of_birth.isoformat()))


def _folded(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if c.isalnum())
