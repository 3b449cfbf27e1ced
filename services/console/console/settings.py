"""The console's configuration, `OFFRAMP_*` like every service's."""

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field

from servicekit.settings import ServiceSettings

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class ConsoleSettings(ServiceSettings):
    service_name: str = "console"
    http_port: int = 8000

    # Where the services answer (the defaults are `make up`'s ports).
    intake_url: str = "http://127.0.0.1:8001"
    casework_url: str = "http://127.0.0.1:8002"
    notify_url: str = "http://127.0.0.1:8003"
    audit_url: str = "http://127.0.0.1:8004"
    outcomes_url: str = "http://127.0.0.1:8005"
    service_timeout_seconds: float = Field(default=15.0, gt=0)

    # The address people reach the console at: decides whether cookies are Secure (everywhere
    # but on this machine) and where the OpenID provider sends people back.
    public_url: str = "http://127.0.0.1:8000"

    # `development`: a page listing the seeded directory, signed by the local issuer's key
    # (auth_local_key_path). `oidc`: the county's provider, authorization code with PKCE.
    sign_in: Literal["development", "oidc"] = "development"
    directory_jurisdiction: str = "pontiac"
    oidc_authorization_endpoint: str | None = None
    oidc_token_endpoint: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scope: str = "openid profile"

    # Signs the session and CSRF cookies. Unset: a new random one each start (everyone signs in
    # again after a restart), which is what development wants and production must not use.
    session_secret: str | None = Field(default=None, min_length=32)
    session_max_age_seconds: int = Field(default=8 * 3600, ge=60)

    @property
    def secure_cookies(self) -> bool:
        return urlsplit(self.public_url).hostname not in LOOPBACK_HOSTS

    @property
    def oidc_redirect_uri(self) -> str:
        return self.public_url.rstrip("/") + "/sign-in/callback"
