"""`python -m bench [--size smoke|quick|full] [name ...]`: runs the benchmarks, prints their
figures and ratios against raw baselines, and writes them to bench/results/."""

import argparse
from collections.abc import Callable

from bench import (
    console_pages,
    e2e,
    ingest,
    intake_http,
    memory,
    outcomes_rebuild,
    outcomes_reports,
    relay,
    replay,
    scaling,
    signing,
    timelines,
)

BENCHMARKS: dict[str, Callable[[str], None]] = {
    "intake_http": intake_http.main,
    "outbox_relay": relay.main,
    "audit_ingest": ingest.main,
    "ledger_replay": replay.main,
    "end_to_end": e2e.main,
    "case_timelines": timelines.main,
    "memory": memory.main,
    "scaling": scaling.main,
    "outcomes_reports": outcomes_reports.main,
    "outcomes_rebuild": outcomes_rebuild.main,
    "console_pages": console_pages.main,
    "signing": signing.main,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--size",
        choices=["smoke", "quick", "full"],
        default="quick",
        help=(
            "smoke: a few operations each, to check that they still run; quick: under a minute "
            "each on a quiet machine; full: the sizes quoted in the README"
        ),
    )
    parser.add_argument("names", nargs="*", choices=[[], *BENCHMARKS], help="default: all")
    args = parser.parse_args()
    for name in args.names or list(BENCHMARKS):
        BENCHMARKS[name](args.size)


if __name__ == "__main__":
    main()
