"""`make demo`: a small living programme at the Pontiac pilot, loaded the way people would make
it, through the services' HTTP APIs as the README's people (so every event, access and ledger
entry is real): referrals through each door, the prosecutor's reviews, cases with intake
assessments, contacts. Running it again adds more."""

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from offramp_devstack.people import token_for
from offramp_devstack.stack import Layout, Ports, Say

CLEAR_SCREENING: dict[str, Any] = {
    "prior_violent_felony": False,
    "exploits_minors": False,
    "promotes_prostitution": False,
    "dealing_above_subsistence": False,
    "confidential_informant": False,
    "pending_drug_court_case": False,
    "pending_mental_health_court_case": False,
    "no_contact_order_with_participant": False,
    "complainant_objects": False,
}

# (door, given name, family name, born, grams, place); arrest diversions wait for the
# prosecutor at the pilot, social contacts with verified prior activity in the programme area
# are admitted outright.
PEOPLE_REFERRED = (
    ("arrest_diversion", "Dana", "Okafor", "1988-07-12", "0.8", "Saginaw St & Pike St"),
    ("arrest_diversion", "Luis", "Herrera", "1995-02-27", "1.5", "Woodward Ave & Square Lake Rd"),
    ("arrest_diversion", "Jo", "Whitfield", "1979-11-03", "2.1", "Perry St & Montcalm St"),
    ("social_contact", "Avery", "Brooks", "1992-05-19", "0.4", "Baldwin Ave & Walton Blvd"),
    ("social_contact", "Kim", "Nguyen", "1985-09-30", "0.9", "Orchard Lake Rd & Huron St"),
)
# Where each social contact's verified prior activity took place: ZIP codes inside the pilot's
# programme area (deploy/profiles/pontiac.toml's [area]), which the social-contact rule checks.
PRIOR_ACTIVITY_ZIP = {"Avery": "48340", "Kim": "48341"}
NEEDS = (
    ["housing", "substance_use_treatment"],
    ["mental_health", "income_and_benefits"],
    ["id_documents"],
)


class DemoFailed(RuntimeError):
    pass


def load_demo(layout: Layout, ports: Ports, say: Say) -> int:
    try:
        Demo(layout, ports, say).run()
    except (DemoFailed, httpx.HTTPError) as error:
        say(f"offramp-dev demo: {error}")
        say("Is the system up? `make status` shows it.")
        return 1
    return 0


class Demo:
    def __init__(self, layout: Layout, ports: Ports, say: Say) -> None:
        if not layout.key.is_file():
            raise DemoFailed(f"no local issuer key at {layout.key}; start with `make up`")
        self.say = say
        self.urls = {
            name: f"http://127.0.0.1:{ports.service(name)}"
            for name in ("intake", "casework", "notify", "audit")
        }
        self.tokens = {
            role: token_for(role, layout.key)
            for role in ("officer", "prosecutor", "case_manager", "supervisor")
        }

    def call(self, service: str, role: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}", **kwargs.pop("headers", {})}
        answer = httpx.request(
            method, self.urls[service] + path, headers=headers, timeout=30, **kwargs
        )
        if answer.status_code >= 300:
            raise DemoFailed(f"{method} {path} as {role}: {answer.status_code} {answer.text[:300]}")
        return answer.json() if answer.content else None

    def run(self) -> None:
        self.call("casework", "supervisor", "PUT", "/case-managers/cm-1")
        self.say("  sup-1 put cm-1 on the case-management roster")
        referred = [self.refer(*person) for person in PEOPLE_REFERRED]
        self.say(f"  officer-17 referred {len(referred)} people (3 at arrest, 2 by social contact)")
        waiting = [r for r in referred if r["status"] == "awaiting_review"]
        for referral in waiting[:2]:
            self.call(
                "intake",
                "prosecutor",
                "POST",
                f"/referrals/{referral['referral_id']}/review",
                json={"verdict": "approved", "reason": "first contact, small quantity"},
            )
        self.say("  ada-1 approved two arrest diversions; one still waits for review")
        admitted = {r["referral_id"] for r in referred if r not in waiting[2:]}
        cases = self.wait_for_cases(admitted)
        self.say(f"  casework opened {len(cases)} cases, assigned to cm-1")
        today = date.today().isoformat()
        for index, case in enumerate(cases[:3]):
            path = f"/cases/{case['case_id']}"
            self.call(
                "casework",
                "case_manager",
                "POST",
                f"{path}/intake-assessment",
                json={
                    "needs": NEEDS[index],
                    "notes": "met at the drop-in centre",
                    "release_signed_on": today,
                },
            )
            for hours, method in ((30, "in_person"), (2, "phone")):
                at = (datetime.now(UTC) - timedelta(hours=hours)).isoformat()
                self.call(
                    "casework",
                    "case_manager",
                    "POST",
                    f"{path}/contacts",
                    json={"contacted_at": at, "method": method, "notes": "checked in"},
                )
        self.say("  cm-1 completed three intake assessments and logged two contacts each")
        self.say(
            f"Done. As cm-1: curl -s {self.urls['casework']}/cases "
            '-H "Authorization: Bearer $(make -s token ROLE=case_manager)"'
        )

    def refer(self, door: str, given: str, family: str, born: str, grams: str, place: str) -> Any:
        screening = dict(CLEAR_SCREENING)
        if door == "social_contact":
            screening["prior_area_activity_verified"] = True
            screening["prior_area_activity_on"] = (date.today() - timedelta(days=60)).isoformat()
            screening["prior_area_activity_place"] = PRIOR_ACTIVITY_ZIP[given]
        body = {
            "door": door,
            "person": {"given_name": given, "family_name": family, "date_of_birth": born},
            "offence": {
                "category": "drug_possession",
                "place": place,
                "occurred_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
                "drug_quantity_grams": grams,
            },
            "screening": screening,
        }
        return self.call(
            "intake",
            "officer",
            "POST",
            "/referrals",
            json=body,
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )

    def wait_for_cases(self, referrals: set[str], timeout: float = 90) -> list[Any]:
        """The admitted referrals' cases, once casework's timelines opened and assigned them."""
        deadline = time.monotonic() + timeout
        opened: list[Any] = []
        while time.monotonic() < deadline:
            every = self.call("casework", "case_manager", "GET", "/cases")
            opened = [c for c in every if c["referral_id"] in referrals and c["case_manager"]]
            if len(opened) == len(referrals):
                return opened
            time.sleep(0.5)
        raise DemoFailed(
            f"{len(opened)} of {len(referrals)} cases opened and assigned within {timeout:.0f}s"
        )
