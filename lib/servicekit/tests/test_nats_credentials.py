"""A service without credentials for the bus, or with credentials the bus does not know, stops
at start and says which setting to fix; it never falls back to an anonymous connection."""

from pathlib import Path

import pytest

from offramp_devstack.nats_auth import ensure_credentials
from servicekit.jetstream import NatsCredentialsError, connect_nats, nats_identity
from servicekit.runtime import ServiceRuntime
from servicekit.settings import ServiceSettings
from tests.isolation import Isolation, Servers, ServiceFields


def without_credentials(servers: Servers, isolation: Isolation) -> ServiceFields:
    settings = isolation.settings(servers)
    del settings["nats_credentials_dir"]
    return settings


async def test_a_service_with_no_credentials_fails_at_start_naming_the_settings(
    servers: Servers, isolation: Isolation
) -> None:
    runtime = ServiceRuntime(
        ServiceSettings(**without_credentials(servers, isolation), service_name="casework"), []
    )
    with pytest.raises(NatsCredentialsError, match="OFFRAMP_NATS_NKEY_SEED_PATH"):
        await runtime.start()


async def test_a_seed_file_that_is_not_there_is_named(
    servers: Servers, isolation: Isolation, tmp_path: Path
) -> None:
    missing = tmp_path / "casework.nk"
    settings = ServiceSettings(
        **without_credentials(servers, isolation),
        service_name="casework",
        nats_nkey_seed_path=missing,
    )
    with pytest.raises(NatsCredentialsError, match=str(missing)):
        nats_identity(settings)


async def test_a_key_the_bus_does_not_know_is_refused_with_a_clear_message(
    servers: Servers, tmp_path: Path
) -> None:
    (stranger,) = ensure_credentials(tmp_path, ("casework",))
    with pytest.raises(NatsCredentialsError, match="refused casework's credentials"):
        await connect_nats(servers.nats.url, "casework", {"nkeys_seed": str(stranger.seed_path)})


async def test_the_embedded_default_finds_the_service_seed_by_its_name(
    servers: Servers, isolation: Isolation
) -> None:
    settings = ServiceSettings(**isolation.settings(servers), service_name="notify")
    identity = nats_identity(settings)
    assert identity == {"nkeys_seed": str(servers.nats.credentials_dir / "notify.nk")}
    client = await connect_nats(servers.nats.url, "notify", identity)
    try:
        assert client.is_connected
    finally:
        await client.close()
