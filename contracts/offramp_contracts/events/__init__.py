"""Event payloads, one module per bounded context; casework's consent records have their own."""
