"""What every case command route takes besides its body and its caller: the request's
correlation id, its Idempotency-Key (if sent) and the answer's headers; and the use cases."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from casework.adapters.case_store import Recorded
from casework.entrypoints.http_cases import CASE_RECORD, Cases
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


Route = TypeVar("Route", bound=Callable[..., Any])


def case_command(
    router: APIRouter, method: str, path: str, answers: type[Any] | None, *, created: bool = False
) -> Callable[[Route], Route]:
    """The route of a command on one case: 201 where it makes something (`created`), 200
    otherwise, and recorded as a route about the case (`CASE_RECORD`)."""
    return router.api_route(
        path,
        methods=[method],
        status_code=201 if created else None,
        response_model=answers,
        openapi_extra=CASE_RECORD,
    )
