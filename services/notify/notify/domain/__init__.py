"""Pure notify rules: who is told what. No I/O."""
