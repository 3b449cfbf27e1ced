"""What notify's routes share: the use cases, and who the caller is as the events name them."""

from typing import Annotated

from fastapi import Depends, Request

from notify.adapters.inbox import Reader
from notify.container import NotifyContainer
from notify.use_cases import NotifyUseCases
from servicekit.auth import AuthorizationError, Principal
from servicekit.command_loop import Origin
from servicekit.http import Runtime, correlation_id_of


def use_cases_of(runtime: Runtime) -> NotifyUseCases:
    return runtime.container_as(NotifyContainer).use_cases


UseCases = Annotated[NotifyUseCases, Depends(use_cases_of)]


def origin_of(principal: Principal, http: Request, role: str | None = None) -> Origin:
    """Who changes where notifications go, acting in `role` (else the first the token holds)."""
    acting = role or min(principal.roles, default=None)
    if acting is None:
        raise AuthorizationError("Changing where you are told needs a role; the token has none.")
    return Origin(principal.acting_as(acting), principal.jurisdiction, correlation_id_of(http))


def reader_of(principal: Principal) -> Reader:
    """Whose inbox: the caller's own messages, and their offices' in their agency."""
    return Reader(
        principal.jurisdiction, principal.agency, principal.subject, frozenset(principal.roles)
    )
