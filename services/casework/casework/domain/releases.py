"""The releases a case's stream holds, and whether one is in force at an instant (DESIGN.md
rule 10): the reading side of releases of information, which `consent` records and revokes.

Pure: the instant comes in as `at`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal
from uuid import UUID

from offramp_contracts import EventEnvelope, payload_of
from offramp_contracts.events.casework import CaseClosed
from offramp_contracts.events.consent import ConsentGranted, ConsentRevoked

Status = Literal["in_force", "revoked", "expired", "not_yet_recorded"]


@dataclass(frozen=True)
class Release:
    granted: ConsentGranted
    recorded_at: datetime
    revocation: ConsentRevoked | None = None

    @property
    def release_id(self) -> UUID:
        return self.granted.release_id


@dataclass(frozen=True)
class Standing:
    status: Status
    explanation: str
    ended_at: datetime | None = None

    @property
    def in_force(self) -> bool:
        return self.status == "in_force"


def standing(release: Release, at: datetime, case_closed_at: datetime | None) -> Standing:
    """Whether `release` is in force at `at`. A revocation or an expiry ends it at that very
    instant: there is no grace period (DESIGN.md rule 10)."""
    granted, revocation = release.granted, release.revocation
    if at < release.recorded_at:
        return Standing("not_yet_recorded", f"recorded only at {release.recorded_at.isoformat()}")
    if revocation is not None and at >= revocation.revoked_at:
        how = revocation.method.replace("_", " ")
        return Standing(
            "revoked",
            f"revoked {how} at {revocation.revoked_at.isoformat()}",
            revocation.revoked_at,
        )
    ends = []
    if granted.expires_at is not None:
        ends.append((granted.expires_at, f"expired at {granted.expires_at.isoformat()}"))
    if granted.expires_on == "case_closed" and case_closed_at is not None:
        ends.append(
            (case_closed_at, f"expired when the case closed at {case_closed_at.isoformat()}")
        )
    ended = [end for end in ends if at >= end[0]]
    if ended:
        instant, why = min(ended)
        return Standing("expired", why, instant)
    until = [f"until {granted.expires_at.isoformat()}"] if granted.expires_at else []
    if granted.expires_on == "case_closed":
        until.append("until the case closes")
    return Standing("in_force", "in force " + " or ".join(until) + ", unless revoked first")


@dataclass(frozen=True)
class ConsentRecord:
    """The releases a case's stream holds, and when the case closed (an expiry event)."""

    releases: Mapping[UUID, Release] = field(default_factory=dict)
    case_closed_at: datetime | None = None


def consent_record(events: Sequence[EventEnvelope]) -> ConsentRecord:
    """Fold a case's events, oldest first, into its releases."""
    record = ConsentRecord()
    for event in events:
        if event.event_type == ConsentGranted.event_type:
            granted = payload_of(event)
            assert isinstance(granted, ConsentGranted)
            releases = {**record.releases, granted.release_id: Release(granted, event.occurred_at)}
            record = replace(record, releases=releases)
        elif event.event_type == ConsentRevoked.event_type:
            revoked = payload_of(event)
            assert isinstance(revoked, ConsentRevoked)
            known = record.releases.get(revoked.release_id)
            if known is not None:
                revised = replace(known, revocation=revoked)
                record = replace(record, releases={**record.releases, known.release_id: revised})
        elif event.event_type == CaseClosed.event_type:
            record = replace(record, case_closed_at=event.occurred_at)
    return record
