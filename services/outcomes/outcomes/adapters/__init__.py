"""The read model in PostgreSQL and in memory."""
