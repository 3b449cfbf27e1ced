"""Offramp's shared service plumbing, written once and used by every service."""
