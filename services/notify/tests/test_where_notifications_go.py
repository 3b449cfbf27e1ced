"""Every change of where notifications go is an event on its own stream of notify's event store,
with its outbox row (what takes it to the bus and the audit ledger) and its projection row, all
in one transaction; the events never carry a secret, a mailbox or a URL's path and query.

Against a real PostgreSQL: notify's schema migrated into the test's database, the use cases
called as the routes call them. No relay runs here, so each outbox row stays to be seen."""

import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from notify.bootstrap import migrations
from notify.domain.destinations import DestinationPolicy
from notify.use_cases import (
    EndWebhookSubscription,
    ForgetMyEmail,
    ForgetOfficeEmail,
    NotifyUseCases,
    RegisterMyEmail,
    SetOfficeEmail,
    SubscribeWebhook,
    UnknownRole,
    UnsafeWebhookUrl,
)
from offramp_contracts import Actor
from servicekit.command_loop import Origin
from servicekit.database import create_pool
from servicekit.eventstore import EventStore
from servicekit.migrations import migrate
from servicekit.outbox import notify_channel

OFFICER = Origin(
    Actor(subject="officer-17", agency="pontiac-pd", role="officer"), "pontiac", uuid4()
)
OPERATOR = Origin(Actor(subject="it-1", agency="county-it", role="operator"), "pontiac", uuid4())
# Loopback is the test's stand-in for a partner's public system (DestinationPolicy allows it).
PARTNER_URL = "http://127.0.0.1:8443/hooks/T0KEN-IN-PATH?auth=T0KEN-IN-QUERY"


@pytest.fixture
async def pool(isolation: Any) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(isolation.database_url, "notify")
    async with pool.acquire() as conn:
        await migrate(conn, "notify", migrations())
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def use_cases(pool: asyncpg.Pool) -> NotifyUseCases:
    store = EventStore(subject_root="lead", notify_channel=notify_channel("notify"))
    return NotifyUseCases(pool=pool, store=store, destinations=DestinationPolicy(True))


async def stored(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """Each event of notify's store with the subject of its outbox row (None if it has none)."""
    rows = await pool.fetch(
        """SELECT e.envelope, o.subject FROM events e LEFT JOIN outbox o USING (event_id)
           ORDER BY e.position"""
    )
    return [{**json.loads(row["envelope"]), "outbox": row["subject"]} for row in rows]


def words(events: list[dict[str, Any]]) -> str:
    return json.dumps(events)


async def test_a_webhook_subscription_and_its_end_are_events_with_outbox_rows_never_the_secret(
    use_cases: NotifyUseCases, pool: asyncpg.Pool
) -> None:
    made = await use_cases.subscribe_webhook(
        SubscribeWebhook("oakland-prosecutor", PARTNER_URL, "case system"), OPERATOR
    )
    await use_cases.end_webhook_subscription(
        EndWebhookSubscription(made.subscription.subscription_id), OPERATOR
    )

    events = await stored(pool)
    stream = f"webhook-subscription-{made.subscription.subscription_id}"
    assert [(e["event_type"], e["stream_id"], e["stream_version"]) for e in events] == [
        ("WebhookSubscribed", stream, 1),
        ("WebhookUnsubscribed", stream, 2),
    ]
    assert [e["outbox"] for e in events] == [
        "lead.pontiac.notify.WebhookSubscribed",
        "lead.pontiac.notify.WebhookUnsubscribed",
    ]
    assert events[0]["data"] == {
        "subscription_id": str(made.subscription.subscription_id),
        "agency": "oakland-prosecutor",
        "origin": "http://127.0.0.1:8443",
    }
    assert events[0]["actor"] == {"subject": "it-1", "agency": "county-it", "role": "operator"}
    secret = made.subscription.secret
    assert secret.startswith("whsec_")
    for kept_out in (secret, secret.removeprefix("whsec_"), "T0KEN", "case system"):
        assert kept_out not in words(events)

    row = await pool.fetchrow("SELECT url, secret, active FROM webhook_subscriptions")
    assert dict(row) == {"url": PARTNER_URL, "secret": secret, "active": False}

    # Deactivating again is no new fact: 204 as before, and nothing more is recorded.
    await use_cases.end_webhook_subscription(
        EndWebhookSubscription(made.subscription.subscription_id), OPERATOR
    )
    assert len(await stored(pool)) == 2


async def test_a_refused_subscription_leaves_no_event_no_outbox_row_and_no_row(
    pool: asyncpg.Pool,
) -> None:
    store = EventStore(subject_root="lead", notify_channel=notify_channel("notify"))
    production = NotifyUseCases(pool=pool, store=store, destinations=DestinationPolicy())
    with pytest.raises(UnsafeWebhookUrl, match="https"):
        await production.subscribe_webhook(
            SubscribeWebhook("oakland-prosecutor", PARTNER_URL, ""), OPERATOR
        )
    assert await stored(pool) == []
    assert await pool.fetchval("SELECT count(*) FROM webhook_subscriptions") == 0


async def test_a_retried_subscription_under_one_key_is_the_same_subscription_recorded_once(
    use_cases: NotifyUseCases, pool: asyncpg.Pool
) -> None:
    command = SubscribeWebhook("pontiac-pd", PARTNER_URL, "rms", idempotency_key="key-0001")
    first = await use_cases.subscribe_webhook(command, OPERATOR)
    again = await use_cases.subscribe_webhook(command, OPERATOR)

    assert not first.replayed and again.replayed
    assert again.subscription == first.subscription
    assert [e["event_type"] for e in await stored(pool)] == ["WebhookSubscribed"]


async def test_setting_and_removing_ones_own_address_are_events_that_never_hold_the_address(
    use_cases: NotifyUseCases, pool: asyncpg.Pool
) -> None:
    await use_cases.register_my_email(RegisterMyEmail("Officer.17@Pontiac-PD.example"), OFFICER)
    await use_cases.register_my_email(RegisterMyEmail("sam@mail.example"), OFFICER)
    assert await pool.fetchval("SELECT email FROM person_addresses") == "sam@mail.example"
    await use_cases.forget_my_email(ForgetMyEmail(), OFFICER)
    # Nothing is left to remove: no new fact.
    await use_cases.forget_my_email(ForgetMyEmail(), OFFICER)

    events = await stored(pool)
    assert [(e["event_type"], e["stream_version"]) for e in events] == [
        ("EmailAddressSet", 1),
        ("EmailAddressSet", 2),
        ("EmailAddressRemoved", 3),
    ]
    assert len({e["stream_id"] for e in events}) == 1
    assert all(e["outbox"] == f"lead.pontiac.notify.{e['event_type']}" for e in events)
    me = {"agency": "pontiac-pd", "subject": "officer-17", "role": None}
    assert [e["data"] for e in events] == [
        {"recipient": me, "domain": "pontiac-pd.example"},
        {"recipient": me, "domain": "mail.example"},
        {"recipient": me},
    ]
    assert "Officer.17" not in words(events) and "sam@" not in words(events)
    assert await pool.fetchval("SELECT count(*) FROM person_addresses") == 0


async def test_an_offices_address_is_set_and_removed_by_an_operator_as_events(
    use_cases: NotifyUseCases, pool: asyncpg.Pool
) -> None:
    row = await use_cases.set_office_email(
        SetOfficeEmail("oakland-prosecutor", "prosecutor", "liaison@oakland.example"), OPERATOR
    )
    assert (row.email, row.set_by) == ("liaison@oakland.example", "it-1")
    with pytest.raises(UnknownRole):
        await use_cases.set_office_email(
            SetOfficeEmail("oakland-prosecutor", "chief", "c@oakland.example"), OPERATOR
        )
    await use_cases.forget_office_email(
        ForgetOfficeEmail("oakland-prosecutor", "prosecutor"), OPERATOR
    )

    events = await stored(pool)
    office = {"agency": "oakland-prosecutor", "subject": None, "role": "prosecutor"}
    assert [(e["event_type"], e["data"], e["outbox"] is not None) for e in events] == [
        ("EmailAddressSet", {"recipient": office, "domain": "oakland.example"}, True),
        ("EmailAddressRemoved", {"recipient": office}, True),
    ]
    assert await pool.fetchval("SELECT count(*) FROM office_addresses") == 0


async def test_an_address_kept_before_these_events_existed_has_its_removal_recorded(
    use_cases: NotifyUseCases, pool: asyncpg.Pool
) -> None:
    await pool.execute(
        """INSERT INTO person_addresses (jurisdiction, agency, subject, email)
           VALUES ('pontiac', 'pontiac-pd', 'officer-17', 'old@pontiac-pd.example')"""
    )
    await use_cases.forget_my_email(ForgetMyEmail(), OFFICER)
    assert [e["event_type"] for e in await stored(pool)] == ["EmailAddressRemoved"]
