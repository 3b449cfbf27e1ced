from pydantic import Field

from servicekit.settings import ServiceSettings


class CaseworkSettings(ServiceSettings):
    service_name: str = "casework"
    db_schema: str = "casework"
    http_port: int = 8002
    # The site's case-management agency and its case managers; rosters per site come with the
    # site profiles.
    case_management_agency: str = "case-management"
    case_managers: list[str] = Field(default_factory=lambda: ["cm-1", "cm-2", "cm-3"], min_length=1)
