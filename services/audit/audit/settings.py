from servicekit.settings import ServiceSettings


class AuditSettings(ServiceSettings):
    service_name: str = "audit"
    db_schema: str = "audit"
    http_port: int = 8004
