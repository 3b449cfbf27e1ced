"""When a failed delivery is tried again, and when it is given up and parked."""

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    max_seconds: float

    def delay_after(self, attempts: int) -> float:
        """Exponential back-off: base after the first failure, doubling, capped at max."""
        return float(min(self.max_seconds, self.base_seconds * 2 ** max(attempts - 1, 0)))

    def gives_up_after(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
