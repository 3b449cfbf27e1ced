"""Casework's adapters: Postgres (cases, roster) and Temporal (signals to the timeline)."""
