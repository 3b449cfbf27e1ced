"""Pure intake rules: no I/O."""
