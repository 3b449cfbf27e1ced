"""What the fuzzer reads, and for how long it explores.

Each service's own OpenAPI document, as its app makes it, so that schemathesis can make one test
per operation when pytest collects; the test of coverage then compares the document each running
service serves with what the fuzz exercised.

A longer exploration than `make test` runs (see README, Development):
- OFFRAMP_FUZZ_EXAMPLES: generated requests per operation in the fuzzing phase (default 10).
- OFFRAMP_FUZZ_SEED: the seed of the run (default fixed, so that every run, CI's too, sends the
  same requests); `random` picks a new one, shown in the report of any failure.
"""

import os
import random
from typing import TYPE_CHECKING

import schemathesis

from tests.fuzz.background import openapi_document

if TYPE_CHECKING:
    # Schemathesis names its OpenAPI case and operation types only for type checkers.
    from schemathesis.specs.openapi.schemas import OpenApiCase

SERVICES = ("intake", "casework", "notify", "audit")
EXAMPLES = int(os.environ.get("OFFRAMP_FUZZ_EXAMPLES", "10"))
_seed = os.environ.get("OFFRAMP_FUZZ_SEED", "20261124")
SEED = random.getrandbits(64) if _seed == "random" else int(_seed)


def fuzz_config() -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # No example database: what a run sends depends on the seed alone, not on failures
            # that an earlier run on this machine saved.
            "generation": {"max-examples": EXAMPLES, "database": "none"},
            "checks": {
                # A request the schema allows may still break a rule the schema cannot state
                # (a date in the future, a door the site keeps closed): 422 is an answer too.
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
                },
            },
        }
    )


def schemas() -> dict[str, schemathesis.BaseSchema]:
    return {
        service: schemathesis.openapi.from_dict(openapi_document(service), config=fuzz_config())
        for service in SERVICES
    }


def service_of(case: "OpenApiCase") -> str:
    title: str = case.operation.schema.raw_schema["info"]["title"]
    return title.removeprefix("Offramp ")
