"""Kaplan–Meier against the textbook example: the 6-MP arm of Freireich's leukaemia trial
(weeks in remission, + censored), as tabulated by Kleinbaum & Klein, "Survival Analysis", and by
Klein & Moeschberger, table 4.1A."""

import pytest

from outcomes.domain.survival import Observation, at_risk_at, kaplan_meier, survival_at

WEEKS = "6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+".split()
SIX_MP = [Observation(int(w.rstrip("+")), not w.endswith("+")) for w in WEEKS]

# time: (at risk, events, S(t), Greenwood standard error), to three decimals as published
TEXTBOOK = {
    6: (21, 3, 0.857, 0.076),
    7: (17, 1, 0.807, 0.087),
    10: (15, 1, 0.753, 0.096),
    13: (12, 1, 0.690, 0.107),
    16: (11, 1, 0.627, 0.114),
    22: (7, 1, 0.538, 0.128),
    23: (6, 1, 0.448, 0.135),
}


def test_the_estimate_and_its_error_match_the_textbook_at_every_event_time() -> None:
    steps = {s.days: s for s in kaplan_meier(SIX_MP) if s.events}
    assert set(steps) == set(TEXTBOOK)
    for days, (at_risk, events, survival, error) in TEXTBOOK.items():
        step = steps[days]
        assert (step.at_risk, step.events) == (at_risk, events), days
        assert step.survival == pytest.approx(survival, abs=5e-4), days
        assert step.standard_error == pytest.approx(error, abs=5e-4), days


def test_censored_people_leave_the_risk_set_without_lowering_the_estimate() -> None:
    steps = kaplan_meier(SIX_MP)
    assert survival_at(steps, 9) == survival_at(steps, 7)  # 9+ is censored
    assert survival_at(steps, 35) == pytest.approx(0.448, abs=5e-4)  # the curve ends censored
    assert survival_at(steps, 5) == 1.0
    # 6, 6, 6, 6+ and 7 have left by week 8, 9+ and 10 and 10+ by week 11
    assert at_risk_at(steps, 8, len(SIX_MP)) == 16
    assert at_risk_at(steps, 11, len(SIX_MP)) == 13


def test_nobody_followed_is_no_curve_and_all_censored_is_a_flat_one() -> None:
    assert kaplan_meier([]) == []
    flat = kaplan_meier([Observation(10, False), Observation(20, False)])
    assert [s.survival for s in flat] == [1.0, 1.0]
