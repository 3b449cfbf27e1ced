"""What `bootstrap` builds once audit's runtime has started: its parts, typed."""

from dataclasses import dataclass

from audit.ledger import Ledger


@dataclass(frozen=True)
class AuditContainer:
    ledger: Ledger
