from pydantic import Field

from servicekit.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
    db_schema: str = "notify"
    http_port: int = 8003

    # E-mail goes to this SMTP server. The defaults are the mail sink `make up` starts, whose
    # messages `offramp-dev mail` lists; production points these at the county's relay.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=2525, ge=1, le=65535)
    smtp_sender: str = "Offramp <notify@offramp.invalid>"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)

    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Webhooks go over https to public addresses only. The embedded default (`make up`) and the
    # tests turn this on to call receivers on this machine (loopback, plain http allowed there);
    # production never does: it would let a subscription reach the services' own ports.
    webhook_allow_loopback: bool = False

    # A failed e-mail or webhook delivery is tried again after base, 2×base, 4×base, ... (capped
    # at max), and parked for an operator after `delivery_max_attempts` attempts. Tests use
    # fractions of a second.
    delivery_max_attempts: int = Field(default=8, ge=1, le=100)
    delivery_backoff_base_seconds: float = Field(default=30.0, gt=0)
    delivery_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    # How often the delivery loop looks for due work when nothing woke it.
    delivery_poll_seconds: float = Field(default=5.0, gt=0)
