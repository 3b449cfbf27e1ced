"""Who is told what: the referring officer hears of a case opening, in coarse words only."""

from uuid import uuid4

from notify.domain.messages import messages_for
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.casework import CaseOpened, NonComplianceReported


def test_the_referring_officer_is_told_when_a_case_opens() -> None:
    officer = StaffRef(subject="officer-17", agency="oakland-sheriff")
    referral_id = uuid4()
    opened = CaseOpened(
        case_id=uuid4(),
        referral_id=referral_id,
        door="arrest_diversion",
        referring_officer=officer,
        policy_version="p-1",
    )
    [message] = messages_for(opened)
    assert message.recipient == officer
    assert str(referral_id) in message.body
    assert "working with a case manager" in message.body


def test_events_without_a_rule_tell_nobody_anything() -> None:
    report = NonComplianceReported(
        case_id=uuid4(), condition="curfew", details="relapsed on heroin"
    )
    assert messages_for(report) == []
