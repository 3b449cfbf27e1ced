"""What every case command route takes besides its body and its caller: the request's
correlation id, its Idempotency-Key (if sent) and the answer's headers."""

from dataclasses import dataclass
from typing import Annotated
from uuid import NAMESPACE_URL, UUID, uuid5

import uuid6
from fastapi import Depends, Request, Response

from servicekit.auth import Principal
from servicekit.http import correlation_id_of
from servicekit.idempotency import REPLAYED, CommandKey, command_key, owner_of


@dataclass(frozen=True)
class CommandRequest:
    correlation_id: UUID
    key: CommandKey | None
    response: Response

    def new_id(self, caller: Principal) -> UUID:
        """The id of what the command makes (a contact, a goal, a release): derived from the
        caller and the key, so a retry names what the first attempt made."""
        if self.key is None:
            return uuid6.uuid7()
        name = "\x1f".join((owner_of(caller), self.key.key))
        return uuid5(NAMESPACE_URL, "offramp:casework:made:" + name)

    def replayed(self) -> None:
        self.response.headers[REPLAYED] = "true"


async def command_request(request: Request, response: Response) -> CommandRequest:
    return CommandRequest(correlation_id_of(request), await command_key(request), response)


Sent = Annotated[CommandRequest, Depends(command_request)]
