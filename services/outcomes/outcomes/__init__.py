"""Offramp outcomes: the reports a LEAD programme is judged by, without exposing anyone."""
