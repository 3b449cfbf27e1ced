"""Which answers of Temporal's mean it is down (try again, count nothing) and which are about
the call itself."""

import pytest
from temporalio.service import RPCError, RPCStatusCode

from casework.adapters.timeline_signals import fact_subjects, is_temporal_outage


@pytest.mark.parametrize(
    "status",
    [
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.ABORTED,
    ],
)
def test_temporal_down_or_overloaded_is_an_outage(status: RPCStatusCode) -> None:
    assert is_temporal_outage(RPCError("temporal answered", status, b""))


@pytest.mark.parametrize(
    "status",
    [RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.PERMISSION_DENIED],
)
def test_an_answer_about_the_call_itself_is_no_outage(status: RPCStatusCode) -> None:
    assert not is_temporal_outage(RPCError("temporal answered", status, b""))
    assert not is_temporal_outage(ValueError("not temporal at all"))


def test_the_fact_consumer_takes_the_facts_the_timeline_is_told_of() -> None:
    assert fact_subjects("lead") == [
        "lead.*.casework.ContactLogged",
        "lead.*.casework.IntakeAssessmentCompleted",
        "lead.*.casework.CaseClosed",
    ]
