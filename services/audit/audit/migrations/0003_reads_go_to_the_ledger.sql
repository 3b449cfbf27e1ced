-- Reads of the ledger are now recorded in the ledger itself, as RecordAccessed and AccessDenied
-- events like the reads of every other service (servicekit.access): hash-chained and signed
-- instead of kept beside the chain. The read log stays, append-only, for the reads it holds.
COMMENT ON TABLE ledger_reads IS
    'Reads of the ledger until migration 0003; since then they are RecordAccessed and '
    'AccessDenied entries of the ledger itself.';
