from pydantic import Field

from intake.domain.eligibility import DEFAULT_OPEN_DOORS
from offramp_contracts.events.base import Door
from servicekit.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    db_schema: str = "intake"
    http_port: int = 8001
    open_doors: frozenset[Door] = Field(default=DEFAULT_OPEN_DOORS)
