"""Offramp intake: the program's front door for law-enforcement referrals."""
