"""Pure ledger rules: hashing and verification. No I/O."""
