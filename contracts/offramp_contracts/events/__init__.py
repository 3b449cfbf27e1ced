"""Event payloads, one module per bounded context."""
