"""Offramp's benchmarks: each measured against a raw baseline on the same servers in the same run."""
