"""Events of the audit context: what the ledger itself announces."""

from typing import ClassVar

from pydantic import Field

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
