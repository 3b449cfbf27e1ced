from pathlib import Path
from typing import ClassVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import Field, field_validator, model_validator

from audit.domain.note import valid_origin
from audit.domain.witness import parse_witness_vkey
from offramp_contracts.envelope import JURISDICTION_PATTERN
from servicekit.settings import ServiceSettings

LEDGER_DB_ROLE = "offramp_audit_ledger"


class AuditSettings(ServiceSettings):
    service_name: str = "audit"
    db_schema: str = "audit"
    http_port: int = 8004
    # The service's own login may only read and add to these (servicekit.schema): the triggers
    # refuse changes, and a login that owns nothing cannot disable them.
    append_only_tables: ClassVar[tuple[str, ...]] = (
        "ledger",
        "checkpoints",
        "ledger_reads",
        "signing_cutover",
        "checkpoint_cosignatures",
    )

    # Who the ledger says it is in every checkpoint it signs (RFC 9162 calls it the log's origin).
    ledger_origin: str = Field(default="offramp-ledger", min_length=1, max_length=200)
    # The jurisdiction on the subject of CheckpointSigned: the ledger serves the whole deployment.
    ledger_jurisdiction: str = Field(default="county", pattern=JURISDICTION_PATTERN)
    # The origin line (and key name) of the checkpoints published as C2SP signed notes; a
    # schema-less URL such as `ledger.county.example.gov/offramp` in production. Unset:
    # `offramp.<ledger_jurisdiction>.ledger`.
    ledger_note_origin: str | None = Field(default=None, max_length=200)
    # The Ed25519 key checkpoints are signed with (PKCS#8 PEM). Unset in development: a key is
    # created on first start beside the local token issuer's key. Production sets it and sets
    # ledger_signing_key_create to false, so a missing key stops the service instead of silently
    # becoming a new identity that no partner trusts.
    # The partner agencies' witnesses the ledger trusts, as their verifier keys
    # (`offramp-audit witness` prints its own), and how many of them must cosign a checkpoint
    # for it to count as witnessed (k of n; 0: none required).
    ledger_witness_keys: list[str] = Field(default_factory=list)
    ledger_witness_quorum: int = Field(default=0, ge=0)
    ledger_signing_key_path: Path | None = None
    ledger_signing_key_create: bool = True

    checkpoint_every_entries: int = Field(default=1000, ge=1)
    checkpoint_every_seconds: float = Field(default=300.0, gt=0)

    # Appends are batched: up to this many events per transaction.
    ledger_batch_size: int = Field(default=256, ge=1, le=10_000)
    # How long JetStream waits for a writer's ack before handing the event out again; after a
    # writer dies, what it had fetched but not appended reaches the standby after this long.
    ledger_ack_wait_seconds: float = Field(default=30.0, gt=0)
    # The standby retries the writer's lease this often.
    ledger_lease_retry_seconds: float = Field(default=2.0, gt=0)

    @field_validator("ledger_note_origin")
    @classmethod
    def _note_origin_names_a_key(cls, value: str | None) -> str | None:
        return None if value is None else valid_origin(value)

    @field_validator("ledger_witness_keys")
    @classmethod
    def _witness_keys_parse(cls, value: list[str]) -> list[str]:
        for vkey in value:
            parse_witness_vkey(vkey)
        return value

    @model_validator(mode="after")
    def _quorum_is_reachable(self) -> "AuditSettings":
        if self.ledger_witness_quorum > len(self.ledger_witness_keys):
            raise ValueError(
                f"ledger_witness_quorum {self.ledger_witness_quorum} asks for more cosignatures "
                f"than the {len(self.ledger_witness_keys)} witnesses trusted"
            )
        return self

    def witnesses(self) -> dict[str, Ed25519PublicKey]:
        return dict(parse_witness_vkey(vkey) for vkey in self.ledger_witness_keys)

    def note_origin(self) -> str:
        return self.ledger_note_origin or f"offramp.{self.ledger_jurisdiction}.ledger"

    def signing_key_path(self) -> Path:
        if self.ledger_signing_key_path is not None:
            return self.ledger_signing_key_path
        if self.auth_local_key_path is not None:
            return self.auth_local_key_path.parent / "ledger-signing-key.pem"
        raise ValueError(
            "no ledger signing key configured: set OFFRAMP_LEDGER_SIGNING_KEY_PATH to the "
            "Ed25519 private key (PKCS#8 PEM) checkpoints are signed with"
        )
