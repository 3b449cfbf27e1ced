"""What the ledger's entrypoints are given: sessions in the ledger role, the signing key, the
writer, and (once the case lifecycle exists in contracts) the fold for as-of replay."""

from dataclasses import dataclass

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.adapters.gauges import LedgerGauges
from audit.adapters.ledger_writer import LedgerWriter
from audit.domain.case_state import fold_case
from audit.domain.timeline import CaseFold
from audit.settings import AuditSettings
from servicekit.event_keys import Keyring


@dataclass
class Ledger:
    settings: AuditSettings
    pool: asyncpg.Pool
    key: Ed25519PrivateKey
    # The services' event keys: who may have written each entry.
    producer_keys: Keyring
    writer: LedgerWriter | None = None
    # The case lifecycle's fold; None answers as-of queries with the events known but no state.
    case_fold: CaseFold | None = fold_case
    # The ledger's series on /metrics; a verification reports its outcome there.
    gauges: LedgerGauges | None = None
