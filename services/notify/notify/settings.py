from servicekit.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
    db_schema: str = "notify"
    http_port: int = 8003
