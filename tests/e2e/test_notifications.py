"""Each wired trigger reaches each channel (in-app inbox, e-mail through the mail sink, signed
webhook) with the right words, and officers and prosecutors never read a clinical detail.

Casework's events are published onto the bus here as casework publishes them, so that what
notify does with each is tested whatever casework's own state; the review-needed trigger comes
from intake itself."""

from typing import Any
from uuid import uuid4

import pytest
from nats.aio.client import Client as NATS

from offramp_contracts.events.casework import (
    CaseClosed,
    CaseManagerAssigned,
    CaseOpened,
    NonComplianceReported,
)
from offramp_devstack.mailsink import Mail, MailSink
from tests.bus import publish_event
from tests.conftest import System, wait_for
from tests.notifications import (
    CASE_MANAGER,
    CASEWORK,
    OFFICER,
    PROSECUTOR_AGENCY,
    inbox,
    new_case,
    register_email,
    set_office_email,
    subscribe,
)
from tests.referrals import fresh_key, referral_body
from tests.webhooks import signature_is_valid, webhook_receiver

# What a case manager learned in care, planted in every field casework might carry it in.
CLINICAL = ("heroin", "bipolar", "methadone", "shelter on Perry St")
DETAILS = "relapsed on heroin; bipolar episode; methadone dose missed; shelter on Perry St"


def assert_no_clinical_word(text: str) -> None:
    lowered = text.lower()
    for word in CLINICAL:
        assert word.lower() not in lowered, f"{word!r} leaked into: {text}"


async def mail_to(sink: MailSink, address: str, count: int) -> list[Mail]:
    async def arrived() -> list[Mail] | None:
        found = [m for m in sink.messages() if m.to == address]
        return found if len(found) >= count else None

    found: list[Mail] = await wait_for(arrived, timeout=30, what=f"{count} mail(s) to {address}")
    return found


async def inbox_of(system: System, token: str, count: int, who: str) -> list[dict[str, Any]]:
    async def filled() -> list[dict[str, Any]] | None:
        messages = await inbox(system, token)
        return messages if len(messages) >= count else None

    messages: list[dict[str, Any]] = await wait_for(
        filled, timeout=30, what=f"{count} message(s) in {who}'s inbox"
    )
    return messages


@pytest.mark.services("notify")
async def test_casework_triggers_reach_every_channel_in_coarse_words_only(
    system: System, nats_client: NATS, isolation: Any, mail_sink: MailSink
) -> None:
    tag = uuid4().hex[:8]
    officer = system.token(sub=OFFICER.subject, role="officer", agency=OFFICER.agency)
    ada_1 = system.token(sub="ada-1", role="prosecutor", agency=PROSECUTOR_AGENCY)
    ada_2 = system.token(sub="ada-2", role="prosecutor", agency=PROSECUTOR_AGENCY)
    case_manager = system.token(
        sub=CASE_MANAGER.subject, role="case_manager", agency=CASE_MANAGER.agency
    )
    officer_mail = f"officer-17.{tag}@pontiac-pd.example"
    prosecutors_mail = f"liaison.{tag}@oakland-prosecutor.example"
    case_manager_mail = f"cm-2.{tag}@pontiac-cm.example"
    await register_email(system, officer, officer_mail)
    await register_email(system, case_manager, case_manager_mail)
    await set_office_email(system, PROSECUTOR_AGENCY, "prosecutor", prosecutors_mail)

    async with webhook_receiver() as police, webhook_receiver() as prosecution:
        police_secret = await subscribe(system, OFFICER.agency, police.url)
        prosecution_secret = await subscribe(system, PROSECUTOR_AGENCY, prosecution.url)

        referral_id, case_id, stream = new_case()
        for version, payload in enumerate(
            [
                CaseOpened(
                    case_id=case_id,
                    referral_id=referral_id,
                    door="arrest_diversion",
                    referring_officer=OFFICER,
                    policy_version="2026.1",
                ),
                CaseManagerAssigned(case_id=case_id, case_manager=CASE_MANAGER),
                NonComplianceReported(
                    case_id=case_id,
                    condition="keep in contact with the case manager",
                    details=DETAILS,
                ),
                CaseClosed(case_id=case_id, referral_id=referral_id, reason="charges_filed"),
            ],
            start=1,
        ):
            await publish_event(
                nats_client, isolation, payload, stream_id=stream, stream_version=version,
                actor=CASEWORK,
            )  # fmt: skip

        # In-app: the officer hears of opening, non-compliance and closure; the prosecutors'
        # office of non-compliance; the case manager of the assignment.
        officer_inbox = await inbox_of(system, officer, 3, "the officer")
        assert sorted(m["trigger"] for m in officer_inbox) == [
            "CaseClosed",
            "CaseOpened",
            "NonComplianceReported",
        ]
        statuses = {m["trigger"]: m["coarse_status"] for m in officer_inbox}
        assert statuses == {
            "CaseOpened": "working_with_case_manager",
            "NonComplianceReported": "non_compliant",
            "CaseClosed": "closed",
        }
        bodies = {m["trigger"]: m["body"] for m in officer_inbox}
        assert "Status: working with a case manager." in bodies["CaseOpened"]
        assert "Status: non-compliant." in bodies["NonComplianceReported"]
        assert "Status: closed." in bodies["CaseClosed"]
        assert all(str(referral_id) in body for body in bodies.values())

        [for_ada_1] = await inbox_of(system, ada_1, 1, "ada-1")
        [for_ada_2] = await inbox_of(system, ada_2, 1, "ada-2")
        assert for_ada_1["message_id"] == for_ada_2["message_id"]
        assert for_ada_1["to_office"] == "prosecutor"
        assert for_ada_1["trigger"] == "NonComplianceReported"
        assert "record whether the participant continues" in for_ada_1["body"]

        [assigned] = await inbox_of(system, case_manager, 1, "the case manager")
        assert assigned["trigger"] == "CaseManagerAssigned"
        assert str(case_id) in assigned["body"]

        # E-mail, through the mail sink: one per notification, to each registered address.
        officer_mails = await mail_to(mail_sink, officer_mail, 3)
        [office_mail] = await mail_to(mail_sink, prosecutors_mail, 1)
        [case_manager_mail_] = await mail_to(mail_sink, case_manager_mail, 1)
        assert sorted(m.subject for m in officer_mails) == sorted(
            f"[Offramp] {m['subject']}" for m in officer_inbox
        )
        assert for_ada_1["body"] in office_mail.body
        assert assigned["body"] in case_manager_mail_.body

        # Webhooks, signed with each subscription's own secret.
        police_calls = await police.wait_for_calls(3, "three calls to the police's endpoint")
        [prosecution_call] = await prosecution.wait_for_calls(1, "a call to the prosecution's")
        assert all(signature_is_valid(police_secret, call) for call in police_calls)
        assert signature_is_valid(prosecution_secret, prosecution_call)
        assert not signature_is_valid(prosecution_secret, police_calls[0])
        assert {c.payload["data"]["trigger"] for c in police_calls} == set(bodies)
        assert prosecution_call.payload["data"]["recipient"] == {
            "agency": PROSECUTOR_AGENCY,
            "role": "prosecutor",
        }
        assert prosecution_call.payload["data"]["body"] == for_ada_1["body"]

        # The Golden Rule: no word learned in care, nor the condition, nor the closure reason,
        # in anything law enforcement or the prosecution received.
        told = [m["subject"] + m["body"] for m in [*officer_inbox, for_ada_1]]
        told += [m.subject + m.body for m in [*officer_mails, office_mail]]
        told += [c.body.decode() for c in [*police_calls, prosecution_call]]
        for text in told:
            assert_no_clinical_word(text)
            assert "keep in contact" not in text
            assert "charges_filed" not in text


@pytest.mark.services("notify")
async def test_office_messages_are_read_by_each_member_and_by_no_one_else(
    system: System, nats_client: NATS, isolation: Any
) -> None:
    ada_1 = system.token(sub="ada-1", role="prosecutor", agency=PROSECUTOR_AGENCY)
    ada_2 = system.token(sub="ada-2", role="prosecutor", agency=PROSECUTOR_AGENCY)
    referral_id, case_id, stream = new_case()
    opened = CaseOpened(
        case_id=case_id, referral_id=referral_id, door="arrest_diversion",
        referring_officer=OFFICER, policy_version="2026.1",
    )  # fmt: skip
    await publish_event(
        nats_client, isolation, opened, stream_id=stream, stream_version=1, actor=CASEWORK
    )
    reported = NonComplianceReported(case_id=case_id, condition="curfew", details=DETAILS)
    await publish_event(
        nats_client, isolation, reported, stream_id=stream, stream_version=2, actor=CASEWORK
    )
    [message] = await inbox_of(system, ada_1, 1, "ada-1")

    async with system.client("notify", ada_1) as notify:
        assert (await notify.post(f"/inbox/{message['message_id']}/read")).status_code == 204
    assert (await inbox(system, ada_1))[0]["read_at"] is not None
    assert await inbox(system, ada_1, status="unread") == []
    assert [m["message_id"] for m in await inbox(system, ada_2, status="unread")] == [
        message["message_id"]
    ]

    outsiders = {
        "another agency's prosecutor": system.token(
            sub="ada-9", role="prosecutor", agency="wayne-prosecutor"
        ),
        "the office's clerk without the role": system.token(
            sub="clerk-1", role="analyst", agency=PROSECUTOR_AGENCY
        ),
        "a prosecutor of another jurisdiction": system.token(
            sub="ada-1", role="prosecutor", agency=PROSECUTOR_AGENCY, jurisdiction="oakland-county"
        ),
        "another officer of the same agency": system.token(
            sub="officer-99", role="officer", agency=OFFICER.agency
        ),
    }
    for who, token in outsiders.items():
        assert await inbox(system, token) == [], who
        async with system.client("notify", token) as notify:
            refused = await notify.post(f"/inbox/{message['message_id']}/read")
        assert refused.status_code == 404, who


@pytest.mark.services("intake", "notify")
async def test_a_referral_that_needs_review_reaches_the_prosecutors_office_on_every_channel(
    system: System, mail_sink: MailSink
) -> None:
    tag = uuid4().hex[:8]
    officer = system.token(sub=OFFICER.subject, role="officer", agency=OFFICER.agency)
    ada_1 = system.token(sub="ada-1", role="prosecutor", agency=PROSECUTOR_AGENCY)
    ada_2 = system.token(sub="ada-2", role="prosecutor", agency=PROSECUTOR_AGENCY)
    office_mail = f"review.{tag}@oakland-prosecutor.example"
    await set_office_email(system, PROSECUTOR_AGENCY, "prosecutor", office_mail)
    async with webhook_receiver() as prosecution:
        secret = await subscribe(system, PROSECUTOR_AGENCY, prosecution.url)
        async with system.client("intake", officer) as intake:
            response = await intake.post(
                "/referrals", json=referral_body("arrest_diversion"), headers=fresh_key()
            )
        assert response.status_code == 201, response.text
        referral = response.json()
        assert referral["status"] == "awaiting_review"

        [for_ada_1] = await inbox_of(system, ada_1, 1, "ada-1")
        [for_ada_2] = await inbox_of(system, ada_2, 1, "ada-2")
        assert for_ada_1 == for_ada_2
        assert for_ada_1["trigger"] == "EligibilityDecided"
        assert for_ada_1["subject"] == "A referral awaits your review"
        assert referral["referral_id"] in for_ada_1["body"]
        [mail] = await mail_to(mail_sink, office_mail, 1)
        assert for_ada_1["body"] in mail.body
        [call] = await prosecution.wait_for_calls(1, "the review-needed webhook")
        assert signature_is_valid(secret, call)
        assert call.payload["data"]["referral_id"] == referral["referral_id"]
        for text in (for_ada_1["body"], mail.body, call.body.decode()):
            # The person's name and the offence stay in intake.
            assert "Rivera" not in text and "powder" not in text
    assert await inbox(system, officer) == []
