"""`offramp-token`: a bearer token from the embedded default's local issuer, for development."""

import argparse
import sys
from pathlib import Path

from servicekit.auth import ROLES, LocalIssuer
from servicekit.operator_cli import load_settings
from servicekit.settings import ServiceSettings

DEFAULT_KEY = Path(".offramp/keys/local-issuer.pem")


def main(argv: list[str] | None = None) -> int:
    settings = load_settings(ServiceSettings)
    parser = argparse.ArgumentParser(
        prog="offramp-token", description="Print a bearer token signed by the local issuer."
    )
    parser.add_argument("--sub", required=True, help="who the token is for, e.g. officer-17")
    parser.add_argument("--role", required=True, action="append", choices=sorted(ROLES))
    parser.add_argument("--agency", required=True, help="e.g. oakland-sheriff")
    parser.add_argument("--jurisdiction", required=True, help="e.g. pontiac")
    parser.add_argument("--ttl", type=int, default=8 * 3600, help="seconds (default 8 h)")
    parser.add_argument(
        "--key",
        type=Path,
        default=settings.auth_local_key_path or DEFAULT_KEY,
        help=f"the local issuer's key (default {DEFAULT_KEY})",
    )
    args = parser.parse_args(argv)
    cap = settings.auth_max_token_lifetime_seconds
    if not 0 < args.ttl <= cap:
        parser.error(
            f"--ttl {args.ttl}: give a lifetime of 1 to {cap} seconds (the services refuse "
            "longer-lived tokens; OFFRAMP_AUTH_MAX_TOKEN_LIFETIME_SECONDS sets the cap)"
        )
    issuer = LocalIssuer(args.key, issuer=settings.auth_issuer, audience=settings.auth_audience)
    sys.stdout.write(
        issuer.issue(
            subject=args.sub,
            roles=args.role,
            agency=args.agency,
            jurisdiction=args.jurisdiction,
            ttl_seconds=args.ttl,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
