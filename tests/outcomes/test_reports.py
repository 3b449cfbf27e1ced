"""Outcomes on the real servers: a known population published on the bus as intake and casework
publish it, folded by the outcomes service, and every cell of its reports compared with figures
this test computes on its own; as known on a date; no identity anywhere; analysts and auditors
only."""

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from nats.aio.client import Client as NATS

from outcomes.bootstrap import create_app
from outcomes.domain.population import add_months
from outcomes.settings import OutcomesSettings
from servicekit.auth import LocalIssuer
from tests.access.policy import ROLES
from tests.conftest import RunningService, serve, wait_for
from tests.outcomes.population import Truth, known_population, refer

THRESHOLD = 2
People = list[tuple[Truth, frozenset[str]]]


@pytest.fixture
async def outcomes(servers: Any, isolation: Any, tmp_path: Any) -> AsyncIterator[RunningService]:
    settings = OutcomesSettings(
        **isolation.settings(servers),
        pseudonym_key_path=tmp_path / "pseudonym.key",
        suppression_thresholds={"pontiac": THRESHOLD},
    )
    service = await serve("outcomes", create_app(settings))
    try:
        yield service
    finally:
        await service.stop()


def client(service: RunningService, isolation: Any, role: str = "analyst") -> httpx.AsyncClient:
    issuer = LocalIssuer(isolation.key_path, issuer="offramp-local", audience="offramp")
    token = issuer.issue(subject=f"{role}-1", roles=[role], agency="county", jurisdiction="pontiac")
    return httpx.AsyncClient(
        base_url=service.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


async def publish(nats: NATS, isolation: Any, service: RunningService, people: People) -> None:
    for truth, races in people:
        await refer(nats, isolation, truth, races)
    pool = service.runtime.pool
    ids = [t.referral_id for t, _ in people]

    async def folded() -> bool:
        referrals = await pool.fetchval(
            "SELECT count(*) FROM referrals WHERE referral_id = ANY($1)", ids
        )
        pending = await pool.fetchval("SELECT count(*) FROM inbox")
        return bool(referrals == len(ids) and pending >= expected_events(people))

    await wait_for(folded, timeout=120, what="the population folded into the read model")


def expected_events(people: People) -> int:
    count = 0
    for truth, _ in people:
        count += 2 + (truth.standing == "waitlisted")
        if truth.standing == "admitted":
            count += 2 + 2 * truth.engaged + bool(truth.housing) + bool(truth.arrested_on)
    return count


def table(report: dict[str, Any], name: str, breakdown: str) -> dict[str, dict[str, Any]]:
    (found,) = [t for t in report["tables"] if t["name"] == name and t["breakdown"] == breakdown]
    return {row["group"]: row["cells"] for row in found["rows"]}


def check(published: dict[str, dict[str, Any]], expected: Counter[tuple[str, str]]) -> int:
    """Every cell shown equals the count computed here; every suppressed one is small or a
    complement; totals too. Returns how many cells were shown."""
    shown = 0
    groups = [g for g in published if g != "total"]
    for group in groups:
        for column, cell in published[group].items():
            if column == "total":
                want = sum(n for (g, _), n in expected.items() if g == group)
            else:
                want = expected[(group, column)]
            if cell["suppressed"] is None:
                assert cell["count"] == want, (group, column, cell, want)
                shown += 1
            elif cell["suppressed"] == "small_cell":
                assert 1 <= want <= THRESHOLD, (group, column, want)
    for column, cell in published["total"].items():
        want = sum(n for (_, c), n in expected.items() if c == column or column == "total")
        if cell["suppressed"] is None:
            assert cell["count"] == want, ("total", column)
    return shown


def group(truth: Truth, breakdown: str) -> str:
    return truth.race if breakdown == "race" else truth.ethnicity


def rearrested_within(truth: Truth, months: int) -> bool:
    return truth.arrested_on is not None and truth.arrested_on <= add_months(
        truth.referred_on, months
    )


@pytest.mark.timeout(300)
async def test_every_cell_matches_the_population_as_computed_here(
    outcomes: RunningService, nats_client: NATS, isolation: Any
) -> None:
    people = known_population()
    await publish(nats_client, isolation, outcomes, people)
    today = datetime.now(UTC).date()
    async with client(outcomes, isolation) as http:
        pipeline = (await http.get("/reports/pipeline")).json()
        equity = (await http.get("/reports/equity")).json()
        engagement = (await http.get("/reports/engagement")).json()
        circumstances = (await http.get("/reports/circumstances")).json()
    assert pipeline["threshold"] == THRESHOLD
    shown = 0
    for b in ("race", "ethnicity"):
        truths = [t for t, _ in people]
        admitted = [t for t in truths if t.standing == "admitted"]
        shown += check(
            table(pipeline, "referrals_by_door", b), Counter((group(t, b), t.door) for t in truths)
        )
        shown += check(
            table(pipeline, "standing", b), Counter((group(t, b), t.standing) for t in truths)
        )
        for months, name in ((6, "rearrest_6_months"), (24, "rearrest_2_years")):
            followed = [t for t in truths if add_months(t.referred_on, months) <= today]
            expected = Counter(
                (group(t, b), "rearrested" if rearrested_within(t, months) else "not_rearrested")
                for t in followed
            )
            shown += check(table(equity, name, b), expected)
        equity_counts = Counter((group(t, b), "referrals") for t in truths)
        equity_counts += Counter(
            (group(t, b), "eligible_not_diverted") for t in truths if t.standing == "waitlisted"
        )
        equity_counts += Counter((group(t, b), "admissions") for t in admitted)
        shown += check(table(equity, "equity", b), equity_counts)
        shown += check(
            table(pipeline, "eligibility", b),
            Counter((group(t, b), "ineligible" if t.standing == "ineligible" else "eligible")
                    for t in truths),
        )  # fmt: skip
        shown += check(
            table(pipeline, "referrals_by_source", b),
            Counter((group(t, b), "law_enforcement") for t in truths),
        )
        shown += check(
            table(pipeline, "failed_rules", b),
            Counter((group(t, b), "drug_quantity") for t in truths if t.standing == "ineligible"),
        )
        shown += check(
            table(engagement, "inactive", b), Counter((group(t, b), "active") for t in admitted)
        )
        shown += check(
            table(engagement, "engaged", b),
            Counter((group(t, b), "engaged" if t.engaged else "not_engaged") for t in admitted),
        )
        shown += check(
            table(circumstances, "housing_month_of_referral", b),
            Counter((group(t, b), t.housing or "not_recorded") for t in admitted),
        )
    assert shown > 100, "too little shown to have compared anything"
    # Eligible but not admitted stay in the denominators: everyone referred is followed up.
    total = table(equity, "rearrest_6_months", "race")["total"]["total"]
    assert total["count"] == len(people)


@pytest.mark.timeout(300)
async def test_a_report_as_known_on_a_date_is_the_same_after_more_events(
    outcomes: RunningService, nats_client: NATS, isolation: Any
) -> None:
    people = known_population(seed=3, size=40)
    await publish(nats_client, isolation, outcomes, people)
    then = datetime.now(UTC).isoformat()
    async with client(outcomes, isolation) as http:
        before = {r: (await http.get(f"/reports/{r}", params={"as_known_on": then})).json()
                  for r in ("pipeline", "rearrest", "circumstances")}  # fmt: skip
        await publish(nats_client, isolation, outcomes, known_population(seed=4, size=30))
        after = {r: (await http.get(f"/reports/{r}", params={"as_known_on": then})).json()
                 for r in before}  # fmt: skip
        now = (await http.get("/reports/pipeline")).json()
        csv = await http.get("/reports/pipeline", params={"as_known_on": then, "format": "csv"})
        by_accept = await http.get(
            "/reports/pipeline", params={"as_known_on": then}, headers={"Accept": "text/csv"}
        )
    assert after == before
    assert table(now, "standing", "race")["total"]["total"]["count"] == 70
    assert csv.headers["content-type"].startswith("text/csv") and csv.text == by_accept.text
    lines = csv.text.splitlines()
    assert lines[0].startswith("report,jurisdiction,as_known_on")
    assert any(",standing,race,people,total,total,40," in line for line in lines)


@pytest.mark.timeout(300)
async def test_no_table_or_report_holds_a_name_a_date_of_birth_or_free_text(
    outcomes: RunningService, nats_client: NATS, isolation: Any
) -> None:
    await publish(nats_client, isolation, outcomes, known_population(seed=5, size=20))
    pool = outcomes.runtime.pool
    tables = [r["table_name"] for r in await pool.fetch(
        """SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()
           AND table_name IN ('referrals', 'cases', 'facts', 'folds', 'status_spans')""")]  # fmt: skip
    assert sorted(tables) == ["cases", "facts", "folds", "referrals", "status_spans"]
    forbidden = ("NAMELEAK", "Given", "1990-04-02", "Saginaw", "LEAK")
    for name in tables:
        for row in await pool.fetch(f"SELECT * FROM {name}"):
            text = " ".join(str(v) for v in row.values())
            assert not any(f in text for f in forbidden), (name, text)
    async with client(outcomes, isolation, "auditor") as http:
        for report in ("pipeline", "intake", "engagement", "circumstances", "rearrest", "equity"):
            for fmt in ("json", "csv"):
                answer = await http.get(f"/reports/{report}", params={"format": fmt})
                assert answer.status_code == 200
                assert not any(f in answer.text for f in forbidden), report


async def test_only_analysts_and_auditors_read_reports_and_only_their_own_jurisdiction(
    outcomes: RunningService, isolation: Any
) -> None:
    for role in ROLES:
        async with client(outcomes, isolation, role) as http:
            answer = await http.get("/reports/equity")
        assert answer.status_code == (200 if role in ("analyst", "auditor") else 403), role
        if answer.status_code == 403:
            assert answer.headers["content-type"] == "application/problem+json"
    async with httpx.AsyncClient(base_url=outcomes.url) as anonymous:
        assert (await anonymous.get("/reports/equity")).status_code == 401
    async with client(outcomes, isolation) as http:
        other = await http.get("/reports/equity", params={"jurisdiction": "oakland-county"})
        backwards = await http.get(
            "/reports/equity", params={"period_from": "2025-01-02", "period_to": "2025-01-01"}
        )
    assert other.status_code == 403
    assert backwards.status_code == 422 and "ends before" in backwards.json()["detail"]
