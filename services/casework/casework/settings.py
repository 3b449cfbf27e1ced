from servicekit.settings import ServiceSettings


class CaseworkSettings(ServiceSettings):
    """Which agency manages a site's cases and how long its windows are come from the site
    profiles (`profiles_dir`); who the case managers are, from the rosters supervisors keep."""

    service_name: str = "casework"
    db_schema: str = "casework"
    http_port: int = 8002
