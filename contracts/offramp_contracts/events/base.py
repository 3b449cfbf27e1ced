"""What every event payload shares."""

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

Context = Literal["intake", "casework", "notify", "audit"]


class EventPayload(BaseModel):
    """A past-tense fact's data. Frozen: a published fact never changes.

    A change to a payload's fields is a new `schema_version` with an upcaster from the old one;
    `tests/test_schemas_frozen.py` fails when a published schema changes in place.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int]
    context: ClassVar[Context]


class StaffRef(BaseModel):
    """A person acting for an agency, as named in their token."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str = Field(min_length=1, max_length=200)
    agency: str = Field(min_length=1, max_length=200)


Door = Literal["arrest_diversion", "social_contact", "community"]
