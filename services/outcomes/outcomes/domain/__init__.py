"""Pure: folding events into pseudonymous facts, the reports, suppression, survival."""
