import secrets
from pathlib import Path

from pydantic import Field, field_validator

from servicekit.settings import ServiceSettings

DEFAULT_THRESHOLD = 10


class OutcomesSettings(ServiceSettings):
    service_name: str = "outcomes"
    db_schema: str = "outcomes"
    http_port: int = 8005

    # The secret a person key is hashed with (HMAC-SHA-256), at least 16 bytes, in a file only
    # the service reads. Without it nobody can tell whose pseudonym is whose. Unset in
    # development: a key is created on first start beside the local token issuer's key.
    # Production sets the path and pseudonym_key_create=false, so a lost key stops the service
    # instead of silently starting a second, unlinkable set of pseudonyms.
    pseudonym_key_path: Path | None = None
    pseudonym_key_create: bool = True

    # Counts from 1 to the threshold are suppressed: the default, and per jurisdiction
    # (OFFRAMP_SUPPRESSION_THRESHOLDS='{"pontiac": 11}'). Never below 1.
    suppression_threshold: int = Field(default=DEFAULT_THRESHOLD, ge=1)
    suppression_thresholds: dict[str, int] = Field(default_factory=dict)

    @field_validator("suppression_thresholds")
    @classmethod
    def never_below_one(cls, value: dict[str, int]) -> dict[str, int]:
        low = {site: n for site, n in value.items() if n < 1}
        if low:
            raise ValueError(f"a suppression threshold is never below 1: {low}")
        return value

    def threshold_for(self, jurisdiction: str) -> int:
        return self.suppression_thresholds.get(jurisdiction, self.suppression_threshold)

    def pseudonym_key(self) -> bytes:
        path = self.pseudonym_key_path
        if path is None and self.auth_local_key_path is not None:
            path = self.auth_local_key_path.parent / "outcomes-pseudonym.key"
        if path is None:
            raise ValueError(
                "no pseudonym key configured: set OFFRAMP_PSEUDONYM_KEY_PATH to a file holding "
                "at least 16 secret bytes"
            )
        if not path.exists() and self.pseudonym_key_create:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(secrets.token_hex(32).encode())
            path.chmod(0o600)
        if not path.exists():
            raise ValueError(f"the pseudonym key {path} does not exist")
        return path.read_bytes().strip()
