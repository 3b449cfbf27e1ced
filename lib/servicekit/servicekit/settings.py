"""Configuration from the environment (and `.env`), the same code in development and production."""

from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.ratelimit import parse_rate


class ServiceSettings(BaseSettings):
    """What every service needs. Each service subclasses it with its own name and extras.

    Every field can be set as `OFFRAMP_<FIELD>` in the environment.
    """

    model_config = SettingsConfigDict(env_prefix="OFFRAMP_", env_file=None, extra="ignore")

    service_name: str = "offramp"
    # Defaults point at the embedded default that `make up` starts.
    database_url: str = "postgresql://postgres@127.0.0.1:55432/offramp"
    # The schema owner's login, used only to run migrations and grant `database_url`'s login
    # what the service needs (servicekit.schema). Set in production and by `make up`, so the
    # login the service serves with owns nothing; unset, the one login does both.
    database_owner_url: str | None = None
    db_schema: str = Field(default="public", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    db_pool_max: int = Field(default=10, ge=2)
    # Tables of the schema the service's login may only read and add to (servicekit.schema).
    append_only_tables: ClassVar[tuple[str, ...]] = ()

    # One server, or every node of a cluster comma-separated (`nats://a:4222,nats://b:4222`).
    nats_url: str = "nats://127.0.0.1:4222"
    # Who the service is on the bus: NATS refuses anonymous clients, and each service's user may
    # publish only its own context's subjects. Production names an NKEY seed file, or a JWT
    # credentials (.creds) file; the embedded default keeps every user's seed in one directory
    # as `<service_name>.nk` (deploy/devstack's nats_auth makes them).
    nats_nkey_seed_path: Path | None = None
    nats_credentials_path: Path | None = None
    nats_credentials_dir: Path | None = None
    # Subjects are `<subject_root>.<jurisdiction>.<context>.<EventType>`; tests give each run its
    # own root and stream so that many systems can share one NATS server without seeing each other.
    subject_root: str = Field(default="lead", pattern=r"^[a-z][a-z0-9_]{0,30}$")
    stream_name: str = Field(default="LEAD", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    stream_replicas: int = Field(default=1, ge=1, le=5)
    # Duplicate suppression by Nats-Msg-Id lasts only this long; the inbox covers the rest.
    stream_duplicate_window_seconds: float = Field(default=600, gt=0)

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "casework"

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    http_max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # What a 503 tells clients to wait while the database (or another dependency) is down:
    # long enough not to hammer a restarting server, short enough for an officer in the field.
    http_retry_after_seconds: int = Field(default=5, ge=1, le=3600)
    # How often one caller (their token, or their address without one) may call one route, in
    # the `limits` library's notation; more is answered 429 with Retry-After.
    http_rate_limit: str = "300/minute"
    # Identical refusals (same person, request and reason) within this window after the first
    # are recorded as one AccessDenied with their count when it closes (servicekit.access).
    access_refusal_window_seconds: float = Field(default=60.0, gt=0, le=3600)

    @field_validator("http_rate_limit")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        try:
            parse_rate(value)
        except ValueError as error:
            raise ValueError(f"{value!r} is not a rate such as '300/minute'") from error
        return value

    # Event consumers (servicekit.inbox): how long JetStream waits for an ack before it hands a
    # message out again, and how many failed attempts of a handler park a message. Outages
    # are never counted as attempts.
    consumer_ack_wait_seconds: float = Field(default=30.0, gt=0)
    consumer_max_attempts: int = Field(default=5, ge=1, le=100)

    # Every event the service publishes is signed with its Ed25519 key (servicekit.provenance);
    # consumers trust the public keys in the keyring directory. Unset in development: both live
    # beside the local token issuer's key, created on first start. Production sets both and
    # turns creation off, so a lost key stops the service instead of becoming a stranger.
    event_signing_key_path: Path | None = None
    event_signing_key_create: bool = True
    event_keyring_dir: Path | None = None

    auth_issuer: str = "offramp-local"
    auth_audience: str = "offramp"
    # Development: the local issuer's key (private PEM; its public half verifies). Production:
    # the county OIDC provider's JWKS URL. Exactly one of the two is used; JWKS wins if set.
    auth_local_key_path: Path | None = None
    auth_jwks_url: str | None = None
    # The longest a token may live (from its `iat`, or from now): a stolen token is worth only
    # this long. The county's provider issues shift-long tokens; a 100-year one is refused.
    auth_max_token_lifetime_seconds: int = Field(default=12 * 3600, ge=60, le=7 * 86400)

    # Site profiles (one TOML file per version of a jurisdiction's policy); relative paths are
    # taken from the working directory, which `make up` and the tests set to the repository.
    profiles_dir: Path = Path("deploy/profiles")

    log_level: str = "INFO"
    log_json: bool = True
