"""The `casework` fixture: casework alone in this process on the real servers."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from nats.aio.client import Client as NATS

from casework.bootstrap import create_app
from casework.settings import CaseworkSettings
from servicekit.auth import LocalIssuer
from tests.casework.harness import Casework
from tests.conftest import serve


@pytest.fixture
async def casework(servers: Any, isolation: Any, nats_client: NATS) -> AsyncIterator[Casework]:
    settings = CaseworkSettings(**isolation.settings(servers))
    issuer = LocalIssuer(isolation.key_path, issuer="offramp-local", audience="offramp")
    service = await serve("casework", create_app(settings))
    try:
        yield Casework(service, issuer, nats_client, isolation.subject_root, isolation)
    finally:
        await service.stop()
