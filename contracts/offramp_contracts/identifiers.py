"""Identifiers that more than one service must derive the same way."""

from uuid import UUID, uuid5

_CASE_NAMESPACE = UUID("6f1c1d2e-8a55-4c1b-9a7e-2b7d0c3f4e10")


def case_id_for_referral(referral_id: UUID) -> UUID:
    """A referral opens at most one case, so the case id is a function of the referral id:
    a redelivered EligibilityDecided finds the case (and its workflow) it already opened."""
    return uuid5(_CASE_NAMESPACE, str(referral_id))
