"""Pure casework rules: no I/O."""
