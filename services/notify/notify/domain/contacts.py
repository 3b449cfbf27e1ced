"""Where a recipient's e-mail goes, as a decider (servicekit.command_loop): one stream per
recipient (a person, or an office), whose events say that an address was set or removed, never
the address itself (it stays in notify's projection: see `EmailAddressSet`). Pure."""

from dataclasses import dataclass
from uuid import NAMESPACE_URL, uuid5

from offramp_contracts import EventPayload
from offramp_contracts.events.notify import (
    EmailAddressRemoved,
    EmailAddressSet,
    NotificationRecipient,
)


@dataclass(frozen=True)
class SetEmailAddress:
    recipient: NotificationRecipient
    email: str


@dataclass(frozen=True)
class RemoveEmailAddress:
    recipient: NotificationRecipient


AddressCommand = SetEmailAddress | RemoveEmailAddress


@dataclass(frozen=True)
class AddressState:
    registered: bool = False


def stream_of(jurisdiction: str, recipient: NotificationRecipient) -> str:
    """Derived from who the recipient is: agency and subject names are free strings, so the
    stream id is a name-based UUID of them rather than the names."""
    name = "\x1f".join(
        (jurisdiction, recipient.agency, recipient.subject or "", recipient.role or "")
    )
    return f"email-address-{uuid5(NAMESPACE_URL, 'offramp:notify:email-address:' + name)}"


def mail_domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def decide(command: AddressCommand, state: AddressState) -> list[EventPayload]:
    """Setting always says so (a new address, or the same one again: the time is the fact);
    removing an address that is not there is nothing to record."""
    match command:
        case SetEmailAddress(recipient=recipient, email=email):
            return [EmailAddressSet(recipient=recipient, domain=mail_domain(email))]
        case RemoveEmailAddress(recipient=recipient):
            return [EmailAddressRemoved(recipient=recipient)] if state.registered else []


def evolve(state: AddressState, event: EventPayload) -> AddressState:
    match event:
        case EmailAddressSet():
            return AddressState(registered=True)
        case EmailAddressRemoved():
            return AddressState(registered=False)
    return state
