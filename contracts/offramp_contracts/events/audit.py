"""Events of the audit context: what the ledger itself announces, and who read or was refused
what in any service (DESIGN.md rule 11)."""

from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from offramp_contracts.envelope import Role
from offramp_contracts.events.base import Context, EventPayload

HexDigest = Field(pattern=r"^[0-9a-f]{64}$")


class CheckpointSigned(EventPayload):
    """The ledger signed its size and Merkle root (RFC 9162) with Ed25519.

    Partners who keep this fact can later demand proofs against it: that an entry was in the
    ledger then, and that the ledger they see now extends it. `signature` is base64 over the
    context prefix and the RFC 8785 bytes of the other fields, exactly as the audit service's
    `GET /ledger/checkpoints/{number}` serves them.
    """

    event_type: ClassVar[str] = "CheckpointSigned"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "audit"

    origin: str = Field(min_length=1, max_length=200)
    number: int = Field(ge=1)
    tree_size: int = Field(ge=1)
    root_hash: str = HexDigest
    chain_head: str = HexDigest
    # Kept as the exact UTC text that was signed: a datetime re-serialised differently (an
    # offset for the Z, other fractional digits) would no longer match the signature.
    signed_at: str = Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
    key_id: str = Field(pattern=r"^[0-9a-f]{16}$")
    signature: str = Field(min_length=1, max_length=200)


class Accessor(BaseModel):
    """Who asked, as their verified token named them: a person of an agency, in a jurisdiction,
    holding these roles (possibly none that Offramp knows)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str = Field(min_length=1, max_length=200)
    agency: str = Field(min_length=1, max_length=200)
    jurisdiction: str = Field(min_length=1, max_length=200)
    roles: tuple[Role, ...]


class RecordRef(BaseModel):
    """A participant's record, or a list of them: `kind` names what (a referral, a case, an
    inbox, the ledger...), `id` which one when the request named one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field(pattern=r"^[a-z][a-z_]{0,39}$")
    id: str | None = Field(default=None, min_length=1, max_length=200)


class AccessEvent(EventPayload):
    """What RecordAccessed and AccessDenied both say: which service, what was asked, by whom,
    about which records."""

    service: str = Field(min_length=1, max_length=50)
    action: str = Field(
        min_length=1,
        max_length=300,
        description="What was asked: the method and route, e.g. 'GET /cases/{case_id}', or the "
        "command run on the server.",
    )
    query: str = Field(default="", max_length=2000, description="Its query string or arguments.")
    who: Accessor
    records: tuple[RecordRef, ...]


class RecordAccessed(AccessEvent):
    """A person was shown participants' records. Stored before the answer leaves the service,
    so no read goes unrecorded; the envelope's actor is the service that served it.

    `records` lists what the answer held: the record the request named and, for a list, every
    record in it. Nothing of the records' content is repeated here.
    """

    event_type: ClassVar[str] = "RecordAccessed"
    schema_version: ClassVar[int] = 1
    context: ClassVar[Context] = "audit"

    # None when the read was not over HTTP (an operator's command on the server).
    status: int | None = Field(default=None, ge=200, le=299)


class AccessDenied(AccessEvent):
    """A service refused a person's request: not allowed (403), a participant's record that
    does not exist for them (404, how another agency's or jurisdiction's records look), or too
    many requests (429).

    v2: one event may stand for `count` identical refusals (same person, request, records,
    status and reason) between `first_refused_at` and `last_refused_at`. The first of a run is
    recorded at once with count 1; the repeats within the service's window are recorded as one
    event when the window closes, so a flood of refusals is counted in full without flooding
    the ledger. A v1 event is one refusal."""

    event_type: ClassVar[str] = "AccessDenied"
    schema_version: ClassVar[int] = 2
    context: ClassVar[Context] = "audit"

    status: int = Field(ge=400, le=499)
    reason: str = Field(max_length=2000)
    count: int = Field(default=1, ge=1, description="How many identical refusals this stands for.")
    first_refused_at: AwareDatetime | None = Field(
        default=None, description="The first of the repeats (None for a single refusal)."
    )
    last_refused_at: AwareDatetime | None = Field(
        default=None, description="The last of the repeats (None for a single refusal)."
    )
