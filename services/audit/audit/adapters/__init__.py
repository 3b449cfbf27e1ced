"""Postgres, JetStream and the key on disk: how the ledger meets the world."""
