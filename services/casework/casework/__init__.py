"""Offramp casework: a participant's time in the program."""
