"""Offramp audit: the program's memory, which auditors can prove was never altered."""
