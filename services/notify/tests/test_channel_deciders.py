"""The deciders of where notifications go, as specifications: given these events, when this
command, then these events (or this refusal). No database."""

from collections.abc import Sequence
from uuid import uuid4

import pytest

from notify.domain import contacts, subscriptions
from notify.domain.contacts import AddressState, RemoveEmailAddress, SetEmailAddress
from notify.domain.subscriptions import (
    AlreadySubscribed,
    NoSuchSubscription,
    Subscribe,
    SubscriptionState,
    Unsubscribe,
)
from offramp_contracts import EventPayload
from offramp_contracts.events.notify import (
    EmailAddressRemoved,
    EmailAddressSet,
    NotificationRecipient,
    WebhookSubscribed,
    WebhookUnsubscribed,
)

ME = NotificationRecipient(agency="pontiac-pd", subject="officer-17")
OFFICE = NotificationRecipient(agency="oakland-prosecutor", role="prosecutor")
SUBSCRIPTION = uuid4()


def given_address(*events: EventPayload) -> AddressState:
    state = AddressState()
    for event in events:
        state = contacts.evolve(state, event)
    return state


def given_subscription(*events: EventPayload) -> SubscriptionState:
    state = SubscriptionState()
    for event in events:
        state = subscriptions.evolve(state, event)
    return state


def test_setting_an_address_records_its_domain_only() -> None:
    then = contacts.decide(SetEmailAddress(ME, "Officer.17@Pontiac-PD.Example"), given_address())
    assert then == [EmailAddressSet(recipient=ME, domain="pontiac-pd.example")]


def test_removing_an_address_is_recorded_only_when_there_is_one() -> None:
    was_set = EmailAddressSet(recipient=OFFICE, domain="oakland.example")
    assert contacts.decide(RemoveEmailAddress(OFFICE), given_address(was_set)) == [
        EmailAddressRemoved(recipient=OFFICE)
    ]
    removed = EmailAddressRemoved(recipient=OFFICE)
    assert contacts.decide(RemoveEmailAddress(OFFICE), given_address(was_set, removed)) == []
    assert contacts.decide(RemoveEmailAddress(OFFICE), given_address()) == []


def test_a_person_and_an_office_of_one_agency_have_streams_of_their_own() -> None:
    person = NotificationRecipient(agency="oakland-prosecutor", subject="prosecutor")
    streams = {
        contacts.stream_of("pontiac", person),
        contacts.stream_of("pontiac", OFFICE),
        contacts.stream_of("detroit", OFFICE),
    }
    assert len(streams) == 3
    assert contacts.stream_of("pontiac", OFFICE) == contacts.stream_of("pontiac", OFFICE)


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://cms.Prosecutor.example/hooks/T0KEN?auth=x#f", "https://cms.prosecutor.example"),
        ("https://cms.prosecutor.example:443/x", "https://cms.prosecutor.example"),
        ("https://cms.prosecutor.example:8443/x", "https://cms.prosecutor.example:8443"),
        ("http://[::1]:8080/x", "http://[::1]:8080"),
    ],
)
def test_a_subscription_records_where_the_calls_go_without_path_or_query(
    url: str, origin: str
) -> None:
    then: Sequence[EventPayload] = subscriptions.decide(
        Subscribe(SUBSCRIPTION, "oakland-prosecutor", url), given_subscription()
    )
    assert then == [
        WebhookSubscribed(subscription_id=SUBSCRIPTION, agency="oakland-prosecutor", origin=origin)
    ]


def test_a_subscription_is_made_once_and_ended_once() -> None:
    made = WebhookSubscribed(
        subscription_id=SUBSCRIPTION, agency="pontiac-pd", origin="https://a.example"
    )
    with pytest.raises(AlreadySubscribed):
        subscriptions.decide(
            Subscribe(SUBSCRIPTION, "pontiac-pd", "https://a.example"), given_subscription(made)
        )
    ended = WebhookUnsubscribed(
        subscription_id=SUBSCRIPTION, agency="pontiac-pd", origin="https://a.example"
    )
    assert subscriptions.decide(Unsubscribe(SUBSCRIPTION), given_subscription(made)) == [ended]
    assert subscriptions.decide(Unsubscribe(SUBSCRIPTION), given_subscription(made, ended)) == []


def test_ending_a_subscription_never_made_is_refused_as_absent() -> None:
    with pytest.raises(NoSuchSubscription) as refused:
        subscriptions.decide(Unsubscribe(SUBSCRIPTION), given_subscription())
    assert refused.value.status == 404
