"""Notify's adapters: its Postgres tables, the SMTP server and partners' webhook endpoints."""
