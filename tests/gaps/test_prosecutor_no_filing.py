"""The liaison prosecutor's side of an arrest diversion, on the real services: when the intake
assessment is completed inside the window, the prosecutors' office is told that no filing is
expected (inbox, e-mail and webhook, coarse words only), and the office can list its
jurisdiction's diversions with their coarse status, intake deadline and window outcome."""

from datetime import date
from typing import Any
from uuid import uuid4

from offramp_devstack.mailsink import MailSink
from tests.conftest import System, wait_for
from tests.e2e.test_notifications import mail_to
from tests.notifications import PROSECUTOR_AGENCY, inbox, set_office_email, subscribe
from tests.referrals import fresh_key, referral_body
from tests.webhooks import signature_is_valid, webhook_receiver

CASE_MANAGEMENT = "pontiac-case-management"
CARE_NOTES = "sleeping in car; wants detox referral after heroin relapse"
ASSESSMENT = {
    "needs": ["housing", "substance_use_treatment", "detox"],
    "notes": CARE_NOTES,
}
WEBHOOK_FIELDS = {
    "notification_id",
    "jurisdiction",
    "trigger",
    "recipient",
    "subject",
    "body",
    "referral_id",
    "case_id",
    "coarse_status",
}


async def admitted_arrest_diversion(system: System) -> tuple[str, str]:
    """An officer refers at arrest, the liaison prosecutor approves (the pilot gives them the
    final say); returns the referral id and the case id casework opened for it."""
    supervisor = system.token(sub="sup-1", role="supervisor", agency=CASE_MANAGEMENT)
    async with system.client("casework", supervisor) as casework:
        assert (await casework.put("/case-managers/cm-1")).status_code == 204
    officer = system.token(sub="officer-50", role="officer", agency="pontiac-pd")
    async with system.client("intake", officer) as intake:
        made = await intake.post(
            "/referrals", json=referral_body("arrest_diversion"), headers=fresh_key()
        )
    assert made.status_code == 201, made.text
    referral_id = made.json()["referral_id"]
    prosecutor = system.token(sub="ada-1", role="prosecutor", agency=PROSECUTOR_AGENCY)
    async with system.client("intake", prosecutor) as intake:
        reviewed = await intake.post(
            f"/referrals/{referral_id}/review",
            json={"verdict": "approved", "reason": "first offence"},
        )
    assert reviewed.status_code == 200, reviewed.text
    manager = system.token(sub="cm-1", role="case_manager", agency=CASE_MANAGEMENT)

    async def assigned() -> str | None:
        async with system.client("casework", manager) as casework:
            cases = (await casework.get("/cases")).json()
        found = [c for c in cases if c["referral_id"] == referral_id and c["case_manager"]]
        return str(found[0]["case_id"]) if found else None

    case_id: str = await wait_for(assigned, timeout=60, what="the case assigned to cm-1")
    return referral_id, case_id


async def diversions(system: System, token: str) -> list[dict[str, Any]]:
    async with system.client("casework", token) as casework:
        response = await casework.get("/diversions")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def test_an_intake_in_time_tells_the_prosecutor_no_filing_is_expected(
    system: System, mail_sink: MailSink
) -> None:
    office_mail = f"liaison.{uuid4().hex[:8]}@oakland-prosecutor.example"
    await set_office_email(system, PROSECUTOR_AGENCY, "prosecutor", office_mail)
    ada = system.token(sub="ada-1", role="prosecutor", agency=PROSECUTOR_AGENCY)
    async with webhook_receiver() as prosecution:
        secret = await subscribe(system, PROSECUTOR_AGENCY, prosecution.url)
        referral_id, case_id = await admitted_arrest_diversion(system)

        [pending] = [d for d in await diversions(system, ada) if d["case_id"] == case_id]
        assert pending["intake_window"] == "pending"
        assert pending["status"] == "working_with_case_manager"
        assert pending["intake_window_ends_at"] is not None

        manager = system.token(sub="cm-1", role="case_manager", agency=CASE_MANAGEMENT)
        async with system.client("casework", manager) as casework:
            assessed = await casework.post(
                f"/cases/{case_id}/intake-assessment",
                json={**ASSESSMENT, "release_signed_on": date.today().isoformat()},
            )
        assert assessed.status_code == 200, assessed.text

        async def told() -> dict[str, Any] | None:
            found = [
                m for m in await inbox(system, ada) if m["trigger"] == "IntakeAssessmentCompleted"
            ]
            return found[0] if found else None

        message = await wait_for(told, timeout=30, what="'no filing expected' in ada-1's inbox")
        assert message["subject"] == "No filing expected"
        assert referral_id in message["body"] and "no filing is expected" in message["body"]
        [mail] = [
            m for m in await mail_to(mail_sink, office_mail, 2) if "No filing expected" in m.subject
        ]
        assert message["body"] in mail.body
        calls = await prosecution.wait_for_calls(2, "review-needed and no-filing webhooks")
        [call] = [c for c in calls if c.payload["data"]["trigger"] == "IntakeAssessmentCompleted"]
        assert signature_is_valid(secret, call)
        assert set(call.payload["data"]) == WEBHOOK_FIELDS
        assert call.payload["data"]["case_id"] == case_id
        for text in (message["body"], mail.body, call.body.decode()):
            for word in ("sleeping", "detox", "heroin", "housing", "Rivera", "powder"):
                assert word not in text, (word, text)

        [met] = [d for d in await diversions(system, ada) if d["case_id"] == case_id]
        assert met["intake_window"] == "met"
        assert met["referral_id"] == referral_id
        assert set(met) == {
            "case_id",
            "referral_id",
            "opened_at",
            "status",
            "intake_window_ends_at",
            "intake_window",
        }

    # Nobody but the site's liaison prosecutor's office lists diversions.
    other_office = system.token(sub="ada-9", role="prosecutor", agency="wayne-prosecutor")
    assert await diversions(system, other_office) == []
    officer = system.token(sub="officer-50", role="officer", agency="pontiac-pd")
    async with system.client("casework", officer) as casework:
        assert (await casework.get("/diversions")).status_code == 403
    case_manager = system.token(sub="cm-1", role="case_manager", agency=CASE_MANAGEMENT)
    async with system.client("casework", case_manager) as casework:
        assert (await casework.get("/diversions")).status_code == 403
