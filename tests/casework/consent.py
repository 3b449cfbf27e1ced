"""Releases of information as the tests write them: a complete signed form, and the tokens of
the people around a Pontiac case."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx

from tests.casework.harness import PONTIAC_CM_AGENCY, Casework

PD_AGENCY = "oakland-public-defender"


def release_form(case_id: UUID, **change: Any) -> dict[str, Any]:
    """A release the participant of `case_id` signed today for their public defender's office,
    ending in 180 days or when the case closes; `change` replaces top-level elements."""
    form: dict[str, Any] = {
        "participant": str(case_id),
        "discloser": PONTIAC_CM_AGENCY,
        "information": ["program_status", "attendance"],
        "recipient": {"agency": PD_AGENCY, "role": "public_defender"},
        "purpose": "to represent the participant in their pending criminal case",
        "right_to_revoke": {
            "statement": "I may revoke this consent at any time, except where it was already "
            "acted on.",
            "how": "by telling my case manager, in writing or in person",
        },
        "expires_at": (datetime.now(UTC) + timedelta(days=180)).isoformat(),
        "expires_on": "case_closed",
        "signature": {
            "signed_by": "participant",
            "signed_on": datetime.now(UTC).date().isoformat(),
        },
    }
    form.update(change)
    return form


def public_defender(
    casework: Casework, sub: str = "pd-1", agency: str = PD_AGENCY
) -> httpx.AsyncClient:
    return casework.client(casework.token(sub, "public_defender", agency))


def officer(casework: Casework) -> httpx.AsyncClient:
    return casework.client(casework.token("officer-7", "officer", "pontiac-pd"))


def prosecutor(casework: Casework) -> httpx.AsyncClient:
    return casework.client(casework.token("ada-1", "prosecutor", "oakland-prosecutor"))
