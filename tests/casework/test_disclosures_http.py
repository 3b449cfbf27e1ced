"""Disclosures over HTTP on the real servers: the recipient a release names reads what it allows
with the federal redisclosure notice, and the disclosure is recorded; revocation and expiry (by
date, by the case closing) refuse the very next request; law enforcement never reads anything;
the list of the last three years comes over HTTP and from the command line."""

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import uuid6

from casework.domain.disclosure import REDISCLOSURE_NOTICE_TEXT
from servicekit.event_keys import keyring_dir, signing_key_path
from tests.casework.consent import PD_AGENCY, officer, prosecutor, public_defender, release_form
from tests.casework.harness import Casework
from tests.casework.test_case_commands_http import ASSESSMENT, new_case, ok, ok_list, problem
from tests.conftest import wait_for


async def case_with_release(casework: Casework, **change: Any) -> tuple[UUID, str]:
    await casework.register("cm-1")
    case_id = await new_case(casework)
    async with casework.staff("cm-1") as http:
        made = ok(
            await http.post(f"/cases/{case_id}/releases", json=release_form(case_id, **change)), 201
        )
    return case_id, made["release_id"]


async def read(http: httpx.AsyncClient, case_id: UUID) -> httpx.Response:
    return await http.get(f"/cases/{case_id}/disclosure")


async def disclosed(casework: Casework, case_id: UUID) -> list[Any]:
    return await casework.payloads(case_id, "InformationDisclosed")


async def test_a_public_defender_reads_what_the_release_allows_with_the_notice_and_it_is_recorded(
    casework: Casework,
) -> None:
    case_id, release_id = await case_with_release(
        casework, information=["program_status", "assessed_needs", "service_referrals"]
    )
    base = f"/cases/{case_id}"
    async with casework.staff("cm-1") as http:
        ok(await http.post(f"{base}/intake-assessment", json=ASSESSMENT))
        for service, provider in [("housing", "Haven"), ("detox", "Oakland Detox")]:
            body = {"service": service, "provider": provider, "notes": "call on Monday"}
            ok(await http.post(f"{base}/service-referrals", json=body), 201)

    async with public_defender(casework) as pd:
        response = await read(pd, case_id)
    given = ok(response)
    assert response.headers["cache-control"] == "no-store"
    assert given["redisclosure_notice"] == REDISCLOSURE_NOTICE_TEXT
    assert given["redisclosure_notice"].startswith(
        "This record which has been disclosed to you is protected by Federal confidentiality "
        "rules (42 CFR part 2)."
    )
    assert given["notice_citation"] == "42 CFR 2.32(a)(1)"
    assert given["information"] == ["assessed_needs", "program_status", "service_referrals"]
    content = given["content"]
    assert content["program_status"] == {
        "status": "working_with_case_manager",
        "phase": "enrolled",
        "closure_reason": None,
    }
    # Substance use leaves only under its own category, which this release does not name.
    assert sorted(content["assessed_needs"]) == ["housing", "id_documents"]
    assert content["service_referrals"] == [
        {"service": "housing", "provider": "Haven", "outcome": None}
    ]
    assert content["attendance"] is None and content["substance_use_treatment"] is None
    for free_text in ("sleeping in car", "call on Monday", "detox"):
        assert free_text not in response.text
    (scope,) = given["under_releases"]  # what the release allows goes with the disclosure
    assert scope["release_id"] == release_id
    assert scope["information"] == given["information"]
    assert scope["purpose"] == release_form(case_id)["purpose"]
    assert scope["recipient"] == {"agency": PD_AGENCY, "role": "public_defender", "subject": None}

    (recorded,) = await disclosed(casework, case_id)
    assert [str(r) for r in recorded.release_ids] == [release_id]
    assert (recorded.recipient.subject, recorded.recipient.agency) == ("pd-1", PD_AGENCY)
    assert recorded.recipient_role == "public_defender"
    assert recorded.information == {"program_status", "assessed_needs", "service_referrals"}
    (event,) = [e for e in await casework.events(case_id) if e.event_type == "InformationDisclosed"]
    assert str(event.event_id) == given["disclosure_id"]
    assert (event.actor.subject, event.actor.role) == ("pd-1", "public_defender")

    async with casework.staff("cm-1") as http:
        listing = ok(await http.get(f"{base}/disclosures"))
    (line,) = listing["disclosures"]
    assert line["disclosure_id"] == given["disclosure_id"]
    assert line["recipient"] == {"subject": "pd-1", "agency": PD_AGENCY, "role": "public_defender"}
    assert line["release_ids"] == [release_id]
    assert line["notice"] == "42 CFR 2.32(a)(1)"


async def test_substance_use_treatment_is_disclosed_only_when_the_release_names_it(
    casework: Casework,
) -> None:
    case_id, _ = await case_with_release(casework, information=["substance_use_treatment"])
    async with casework.staff("cm-1") as http:
        ok(await http.post(f"/cases/{case_id}/intake-assessment", json=ASSESSMENT))
    async with public_defender(casework) as pd:
        given = ok(await read(pd, case_id))
    assert given["content"]["substance_use_treatment"] == {
        "needs": ["substance_use_treatment"],
        "service_referrals": [],
    }
    assert given["content"]["assessed_needs"] is None
    assert given["redisclosure_notice"] == REDISCLOSURE_NOTICE_TEXT


async def test_a_revocation_refuses_the_very_next_request(casework: Casework) -> None:
    case_id, release_id = await case_with_release(casework)
    revocation = f"/cases/{case_id}/releases/{release_id}/revocation"
    async with public_defender(casework) as pd, casework.staff("cm-1") as cm:
        ok(await read(pd, case_id))
        revoked = ok(await cm.post(revocation, json={"method": "orally"}))
        assert revoked["status"] == "revoked" and revoked["revocation"]["method"] == "orally"
        refused = problem(await read(pd, case_id), 403, "no-valid-release")
        assert "revoked orally" in refused["detail"]
        again = problem(await cm.post(revocation, json={"method": "in_writing"}), 409)
        assert "was revoked" in again["detail"]
        unknown = f"/cases/{case_id}/releases/{uuid6.uuid7()}/revocation"
        problem(await cm.post(unknown, json={"method": "orally"}), 404, "release-not-found")
        (listed,) = ok_list(await cm.get(f"/cases/{case_id}/releases"))
        assert listed["status"] == "revoked"
    assert len(await disclosed(casework, case_id)) == 1


async def test_an_expiry_date_refuses_the_first_request_after_it(casework: Casework) -> None:
    await casework.register("cm-1")
    case_id = await new_case(casework)
    # A few seconds stand for the months a real release runs.
    expires_at = datetime.now(UTC) + timedelta(seconds=8)
    form = release_form(case_id, expires_at=expires_at.isoformat(), expires_on=None)
    async with casework.staff("cm-1") as cm:
        ok(await cm.post(f"/cases/{case_id}/releases", json=form), 201)
    async with public_defender(casework) as pd:
        ok(await read(pd, case_id))

        async def expired() -> bool:
            return datetime.now(UTC) > expires_at

        await wait_for(expired, timeout=30, what="the release's expiry")
        refused = problem(await read(pd, case_id), 403, "no-valid-release")
    assert "expired at" in refused["detail"]
    assert len(await disclosed(casework, case_id)) == 1


async def test_the_case_closing_ends_a_release_at_once_and_past_disclosures_stay_listed(
    casework: Casework,
) -> None:
    case_id, release_id = await case_with_release(casework, expires_at=None)
    base = f"/cases/{case_id}"
    async with public_defender(casework) as pd, casework.staff("cm-1") as cm:
        ok(await read(pd, case_id))
        ok(await cm.post(f"{base}/closure", json={"reason": "graduated"}))
        refused = problem(await read(pd, case_id), 403, "no-valid-release")
        assert "expired when the case closed" in refused["detail"]
        closed = problem(await cm.post(f"{base}/releases", json=release_form(case_id)), 409)
        assert closed["type"].endswith("/case-closed")
        assert len(ok(await cm.get(f"{base}/disclosures"))["disclosures"]) == 1
        (listed,) = ok_list(await cm.get(f"{base}/releases"))
        assert listed["status"] == "expired"
        # The participant's wish is still put on record after the case closed.
        ok(await cm.post(f"{base}/releases/{release_id}/revocation", json={"method": "in_writing"}))


async def test_officers_and_prosecutors_are_refused_even_while_a_release_is_in_force(
    casework: Casework,
) -> None:
    case_id, _ = await case_with_release(casework)
    for client in (officer(casework), prosecutor(casework)):
        async with client as http:
            refused = problem(await read(http, case_id), 403, "golden-rule")
            assert "Golden Rule" in refused["detail"]
            # Not even whether such a case exists.
            unknown = problem(await read(http, uuid6.uuid7()), 403, "golden-rule")
            assert unknown["detail"] == refused["detail"]
    async with public_defender(casework) as pd:
        ok(await read(pd, case_id))
    assert len(await disclosed(casework, case_id)) == 1


async def test_a_public_defender_no_release_names_is_refused(casework: Casework) -> None:
    case_id, _ = await case_with_release(casework)
    others = [
        public_defender(casework, "pd-9", "wayne-public-defender"),
        casework.client(casework.token("cm-9", "case_manager", PD_AGENCY)),
        casework.client(casework.token("auditor-1", "auditor", "county-audit")),
    ]
    for client in others:
        async with client as http:
            problem(await read(http, case_id), 403)
    async with public_defender(casework, "pd-9", "wayne-public-defender") as http:
        refused = problem(await read(http, case_id), 403, "no-valid-release")
        assert "can sign a release naming you" in refused["detail"]
    async with public_defender(casework) as http:
        problem(await read(http, uuid6.uuid7()), 404, "case-not-found")
    assert await disclosed(casework, case_id) == []


async def backdate(casework: Casework, case_id: UUID, at: datetime, subject: str) -> None:
    """A disclosure row as it would have been written `at` (the read model's own columns)."""
    await casework.service.runtime.pool.execute(
        """INSERT INTO disclosures (disclosure_id, case_id, jurisdiction, disclosed_at,
                                    recipient_subject, recipient_agency, recipient_role,
                                    information, release_ids, notice)
           VALUES ($1, $2, 'pontiac', $3, $4, $5, 'public_defender', '{program_status}',
                   ARRAY[$1]::uuid[], '42 CFR 2.32(a)(1)')""",
        uuid6.uuid7(),
        case_id,
        at,
        subject,
        PD_AGENCY,
    )


async def test_the_list_covers_three_years_over_http_and_on_the_command_line(
    casework: Casework,
) -> None:
    """The listing's clock is the real one; the old disclosures are read-model rows inserted
    with their dates in the past, as they would stand after years of use."""
    case_id, _ = await case_with_release(casework)
    now = datetime.now(UTC)
    await backdate(casework, case_id, now - timedelta(days=3 * 365 + 2), "pd-old")
    await backdate(casework, case_id, now - timedelta(days=3 * 365 - 2), "pd-recent")
    async with public_defender(casework) as pd:
        ok(await read(pd, case_id))

    async with casework.staff("cm-1") as cm:
        default = ok(await cm.get(f"/cases/{case_id}/disclosures"))
        wider = ok(
            await cm.get(
                f"/cases/{case_id}/disclosures",
                params={"since": (now - timedelta(days=4 * 365)).isoformat()},
            )
        )
    assert [d["recipient"]["subject"] for d in default["disclosures"]] == ["pd-1", "pd-recent"]
    assert [d["recipient"]["subject"] for d in wider["disclosures"]] == [
        "pd-1",
        "pd-recent",
        "pd-old",
    ]

    printed = await offramp_casework(casework, "disclosures", str(case_id))
    assert printed.count("\n") == 4, printed  # heading, two disclosures, count
    assert "pd-1 (public_defender, oakland-public-defender)" in printed
    assert "pd-recent" in printed and "pd-old" not in printed
    assert "2 disclosure(s)." in printed
    since = (now - timedelta(days=4 * 365)).date().isoformat()
    assert "pd-old" in await offramp_casework(
        casework, "disclosures", str(case_id), "--since", since
    )
    # Producing the list is a read of the participant's record, recorded like any other.
    reads = await casework.service.runtime.pool.fetch(
        "SELECT envelope->'data' AS data FROM events WHERE event_type = 'RecordAccessed' "
        "AND envelope->'data'->>'action' = 'offramp-casework disclosures'"
    )
    assert len(reads) == 2
    assert {json.loads(r["data"])["records"][0]["id"] for r in reads} == {str(case_id)}


async def offramp_casework(casework: Casework, *args: str) -> str:
    """The command as a privacy officer runs it on the server, against this test's database."""
    settings = casework.service.runtime.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFRAMP_")}
    env["OFFRAMP_ENV_FILE"] = ""  # nor the settings file `make up` may have left
    env |= {
        "OFFRAMP_DATABASE_URL": settings.database_url,
        "OFFRAMP_SUBJECT_ROOT": settings.subject_root,
        "OFFRAMP_LOG_JSON": "false",
        # The listing is itself recorded as a signed event: the command signs as casework.
        "OFFRAMP_EVENT_SIGNING_KEY_PATH": str(signing_key_path(settings)),
        "OFFRAMP_EVENT_KEYRING_DIR": str(keyring_dir(settings)),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "casework.entrypoints.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return out.decode()
