"""The envelope every event travels in, on the bus, in every event store and in the ledger."""

from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

JURISDICTION_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
"""A jurisdiction's name, as in subjects, site profiles and tokens: `pontiac`, `oakland-county`."""

Role = Literal[
    "officer",
    "case_manager",
    "supervisor",
    "prosecutor",
    "public_defender",
    "auditor",
    "analyst",
    "operator",
    "system",
]


class Actor(BaseModel):
    """Who caused an event: a person from their token, or a service acting on its own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str = Field(min_length=1, max_length=200)
    agency: str = Field(min_length=1, max_length=200)
    role: Role


class EventEnvelope(BaseModel):
    """An immutable fact, as published.

    `data` stays a plain mapping here so an envelope of any version can be stored, relayed and
    hashed byte for byte; `payload_of()` turns it into the typed payload, upcasting old versions.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID
    event_type: str = Field(pattern=r"^[A-Z][A-Za-z]+$")
    schema_version: int = Field(ge=1)
    stream_id: str = Field(min_length=1, max_length=200)
    stream_version: int = Field(ge=1)
    jurisdiction: str = Field(pattern=JURISDICTION_PATTERN)
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime
    actor: Actor
    correlation_id: UUID
    causation_id: UUID | None
    data: dict[str, Any]

    def wire_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_wire(cls, raw: bytes | str) -> "EventEnvelope":
        return cls.model_validate_json(raw)
