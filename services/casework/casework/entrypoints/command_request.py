"""What every case command route takes besides its body and its caller: the request's
correlation id, its Idempotency-Key (if sent) and the answer's headers; and the use cases."""

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request, Response

from casework.adapters.case_store import Recorded
from casework.entrypoints.http_cases import Cases
from casework.use_cases import Caller, CaseCommands
from servicekit.auth import Principal
from servicekit.http import correlation_id_of
from servicekit.idempotency import REPLAYED, CommandKey, command_key


@dataclass(frozen=True)
class CommandRequest:
    correlation_id: UUID
    key: CommandKey | None
    response: Response

    def caller(self, principal: Principal) -> Caller:
        return Caller(principal, self.correlation_id, self.key)

    def answered(self, recorded: Recorded) -> Recorded:
        """A retry answered as its first attempt was says so."""
        if recorded.replayed:
            self.response.headers[REPLAYED] = "true"
        return recorded


async def command_request(request: Request, response: Response) -> CommandRequest:
    return CommandRequest(correlation_id_of(request), await command_key(request), response)


async def case_commands(cases: Cases) -> CaseCommands:
    return CaseCommands(cases)


Sent = Annotated[CommandRequest, Depends(command_request)]
Commands = Annotated[CaseCommands, Depends(case_commands)]
