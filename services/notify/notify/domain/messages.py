"""What each event tells whom. The texts for law enforcement carry coarse status only, never
anything learned in care (the Golden Rule)."""

from dataclasses import dataclass

from offramp_contracts import EventPayload
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.casework import CaseOpened


@dataclass(frozen=True)
class InAppMessage:
    recipient: StaffRef
    subject: str
    body: str
    referral_id: str | None = None


def messages_for(payload: EventPayload) -> list[InAppMessage]:
    match payload:
        case CaseOpened():
            return [
                InAppMessage(
                    recipient=payload.referring_officer,
                    subject="Your referral is working with a case manager",
                    body=(
                        f"The person you referred (referral {payload.referral_id}) has been "
                        "accepted and is working with a case manager."
                    ),
                    referral_id=str(payload.referral_id),
                )
            ]
        case _:
            return []
