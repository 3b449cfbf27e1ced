"""What `bootstrap` builds once audit's runtime has started: its parts, typed."""

from dataclasses import dataclass

import asyncpg

from audit.adapters.ledger_writer import LedgerWriter
from audit.use_cases import LedgerQueries


@dataclass(frozen=True)
class AuditContainer:
    queries: LedgerQueries
    writer: LedgerWriter
    # Sessions in the ledger role; closed when the service stops.
    pool: asyncpg.Pool
