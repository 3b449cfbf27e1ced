"""A known population, published on the bus as intake and casework publish it: referrals by
race, ethnicity and door, decided, admitted or not, cases with contacts, circumstances and new
arrests, and people referred twice. Each person's truth is kept beside it, for the tests to
compute every figure on their own."""

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

import uuid6
from nats.aio.client import Client as NATS

from offramp_contracts import Actor, EventEnvelope, EventPayload
from offramp_contracts.events.base import StaffRef
from offramp_contracts.events.casework import (
    CaseOpened,
    ClientEngaged,
    ContactLogged,
    NewArrestReported,
)
from offramp_contracts.events.circumstances import CircumstancesRecorded
from offramp_contracts.events.intake import (
    EligibilityDecided,
    Offence,
    Person,
    ReferralAdmitted,
    ReferralReceived,
    ReferralWaitlisted,
    RuleResult,
    Screening,
)
from offramp_contracts.identifiers import case_id_for_referral
from servicekit.events import new_event
from tests.bus import republish

OFFICER = StaffRef(subject="officer-7", agency="pontiac-pd")
CM = StaffRef(subject="cm-1", agency="pontiac-case-management")
START = date(2024, 1, 1)
RACES = ("white", "black_or_african_american", "asian")


@dataclass
class Truth:
    referral_id: UUID
    race: str
    ethnicity: str
    door: str
    referred_on: date
    standing: str
    arrested_on: date | None = None
    engaged: bool = False
    housing: str | None = None
    names: tuple[str, str] = ("", "")
    extra: dict[str, Any] = field(default_factory=dict)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


async def _send(nats: NATS, isolation: Any, payload: EventPayload, stream: str, version: int,
                day: date, role: str = "officer") -> EventEnvelope:  # fmt: skip
    actor = Actor(subject="someone", agency="pontiac-pd", role=role)
    event = new_event(
        payload, stream_id=stream, stream_version=version, jurisdiction="pontiac", actor=actor,
        correlation_id=uuid4(), causation_id=None, occurred_at=_at(day),
    )  # fmt: skip
    await republish(nats, isolation, event)
    return event


async def refer(nats: NATS, isolation: Any, truth: Truth, race: frozenset[str]) -> None:
    rid, stream = truth.referral_id, f"referral-{truth.referral_id}"
    given, family = truth.names
    await _send(nats, isolation, ReferralReceived(
        referral_id=rid, door=truth.door, source="law_enforcement",
        person=Person(given_name=given, family_name=family, date_of_birth=date(1990, 4, 2),
                      race=race, ethnicity=truth.ethnicity),
        offence=Offence(category="drug_possession", description="NAME-LEAK-description",
                        place="Saginaw St", occurred_at=_at(truth.referred_on)),
        screening=Screening(), referring_officer=OFFICER, policy_version="2026.1",
    ), stream, 1, truth.referred_on)  # fmt: skip
    decision = "ineligible" if truth.standing == "ineligible" else "eligible"
    rules = (RuleResult(rule="drug_quantity", outcome="failed" if decision == "ineligible"
                        else "passed", reason="over the limit"),)  # fmt: skip
    await _send(nats, isolation, EligibilityDecided(
        referral_id=rid, decision=decision, decided_by="policy", rules=rules,
        door=truth.door, referring_officer=OFFICER, policy_version="2026.1",
    ), stream, 2, truth.referred_on)  # fmt: skip
    if truth.standing == "waitlisted":
        await _send(nats, isolation, ReferralWaitlisted(
            referral_id=rid, door=truth.door, referring_officer=OFFICER,
        ), stream, 3, truth.referred_on)  # fmt: skip
    if truth.standing != "admitted":
        return
    await _send(nats, isolation, ReferralAdmitted(
        referral_id=rid, door=truth.door, referring_officer=OFFICER,
        policy_version="2026.1", from_waitlist=False,
    ), stream, 3, truth.referred_on)  # fmt: skip
    case_id, case_stream = case_id_for_referral(rid), f"case-{case_id_for_referral(rid)}"
    await _send(nats, isolation, CaseOpened(
        case_id=case_id, referral_id=rid, door=truth.door,
        referring_officer=OFFICER, policy_version="2026.1",
    ), case_stream, 1, truth.referred_on, "system")  # fmt: skip
    version = 2
    if truth.engaged:
        contact = uuid6.uuid7()
        await _send(nats, isolation, ContactLogged(
            case_id=case_id, contact_id=contact, logged_by=CM,
            contacted_at=_at(truth.referred_on + timedelta(days=3)), method="in_person",
            notes="NAME-LEAK-note",
        ), case_stream, version, truth.referred_on + timedelta(days=3), "case_manager")  # fmt: skip
        await _send(nats, isolation, ClientEngaged(case_id=case_id, contact_id=contact),
                    case_stream, version + 1, truth.referred_on + timedelta(days=3))  # fmt: skip
        version += 2
    if truth.housing:
        await _send(nats, isolation, CircumstancesRecorded(
            case_id=case_id, referral_id=rid, recorded_by=CM, as_of=truth.referred_on,
            at_intake=True, housing=truth.housing,
        ), case_stream, version, truth.referred_on, "case_manager")  # fmt: skip
        version += 1
    if truth.arrested_on:
        await _send(nats, isolation, NewArrestReported(
            case_id=case_id, referral_id=rid, reported_by=OFFICER, reporter_role="officer",
            arrested_on=truth.arrested_on,
        ), case_stream, version, truth.arrested_on)  # fmt: skip


def known_population(seed: int = 7, size: int = 90) -> list[tuple[Truth, frozenset[str]]]:
    generator = random.Random(seed)
    people: list[tuple[Truth, frozenset[str]]] = []
    for i in range(size):
        races: frozenset[str] = frozenset(
            generator.sample(RACES, generator.choice([0, 1, 1, 1, 2]))
        )
        group = (
            "not_recorded"
            if not races
            else "two_or_more_races"
            if len(races) > 1
            else next(iter(races))
        )
        standing = generator.choice(
            ["admitted", "admitted", "admitted", "ineligible", "waitlisted"]
        )
        referred_on = START + timedelta(days=7 * i)
        arrested = None
        if standing == "admitted" and generator.random() < 0.4:
            arrested = referred_on + timedelta(days=generator.choice([20, 100, 250, 500]))
        truth = Truth(
            referral_id=uuid6.uuid7(), race=group,
            ethnicity=generator.choice(["hispanic_or_latino", "not_hispanic_or_latino", "not_recorded"]),
            door=generator.choice(["arrest_diversion", "social_contact"]), referred_on=referred_on,
            standing=standing, arrested_on=arrested,
            engaged=standing == "admitted" and generator.random() < 0.7,
            housing=generator.choice([None, "unsheltered", "temporary"]) if standing == "admitted" else None,
            names=(f"Given{i}", f"NAMELEAK{i}"),
        )  # fmt: skip
        people.append((truth, races))
    return people
