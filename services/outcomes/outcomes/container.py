"""What a running outcomes service holds, typed: built once the runtime has its pool."""

from dataclasses import dataclass

from outcomes.adapters.read_model import PostgresReadModel
from outcomes.settings import OutcomesSettings
from outcomes.use_cases import ComputeReport
from servicekit.inbox import InboxConsumer


@dataclass(frozen=True)
class Outcomes:
    settings: OutcomesSettings
    read_model: PostgresReadModel
    compute: ComputeReport
    consumer: InboxConsumer
