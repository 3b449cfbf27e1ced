"""The bus takes no anonymous clients, and each service's user publishes only its own context's
subjects: a real nats-server, configured by `nats_auth`, refuses the rest."""

from collections.abc import Iterator
from pathlib import Path

import nats
import nats.errors
import pytest
from nats.aio.client import Client as NATS

from offramp_devstack import Nats, free_ports, start_nats

STREAM = "LEAD"


@pytest.fixture(scope="module")
def bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nats]:
    home = tmp_path_factory.mktemp("nats-auth")
    port, monitor = free_ports(2)
    server = start_nats(home / "nats", port, monitor, home / "nats.log")
    try:
        yield server
    finally:
        server.server.stop()


@pytest.fixture(scope="module")
async def stream(bus: Nats) -> str:
    client = await nats.connect(bus.url, **bus.connect_options())
    try:
        await client.jetstream().add_stream(name=STREAM, subjects=["lead.>"])
    finally:
        await client.close()
    return STREAM


async def as_user(bus: Nats, user: str, errors: list[Exception]) -> NATS:
    async def keep(error: Exception) -> None:
        errors.append(error)

    return await nats.connect(bus.url, error_cb=keep, **bus.connect_options(user))


async def test_a_client_without_credentials_cannot_connect(bus: Nats) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(bus.url, allow_reconnect=False, connect_timeout=3)


async def test_a_key_the_server_does_not_know_cannot_connect(bus: Nats, tmp_path: Path) -> None:
    from offramp_devstack.nats_auth import ensure_credentials

    (stranger,) = ensure_credentials(tmp_path, ("stranger",))
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(
            bus.url, allow_reconnect=False, connect_timeout=3, nkeys_seed=str(stranger.seed_path)
        )


async def test_casework_cannot_publish_on_an_intake_subject(bus: Nats, stream: str) -> None:
    errors: list[Exception] = []
    client = await as_user(bus, "casework", errors)
    try:
        js = client.jetstream()
        with pytest.raises(nats.errors.TimeoutError):
            await js.publish("lead.pontiac.intake.ReferralAdmitted", b"{}", timeout=2)
        assert any("permissions violation for publish" in str(e) for e in errors), errors
        # Its own context's subjects it may publish on.
        ack = await js.publish("lead.pontiac.casework.CaseOpened", b"{}", timeout=5)
        assert ack.stream == stream
    finally:
        await client.close()
    info = await _stream_subjects(bus, stream)
    assert "lead.pontiac.intake.ReferralAdmitted" not in info


async def test_every_service_may_record_access_events_but_only_audit_signs_checkpoints(
    bus: Nats, stream: str
) -> None:
    errors: list[Exception] = []
    client = await as_user(bus, "notify", errors)
    try:
        js = client.jetstream()
        await js.publish("lead.pontiac.audit.RecordAccessed", b"{}", timeout=5)
        with pytest.raises(nats.errors.TimeoutError):
            await js.publish("lead.county.audit.CheckpointSigned", b"{}", timeout=2)
    finally:
        await client.close()
    assert any("permissions violation" in str(e) for e in errors), errors


async def test_a_service_cannot_listen_in_on_subjects_or_delete_the_stream(
    bus: Nats, stream: str
) -> None:
    errors: list[Exception] = []
    client = await as_user(bus, "intake", errors)
    try:
        await client.subscribe("lead.>")
        await client.flush()
        with pytest.raises(nats.errors.TimeoutError):
            await client.jetstream().delete_stream(stream)
    finally:
        await client.close()
    refused = [str(e).lower() for e in errors]
    assert any('subscription to "lead.>"' in e for e in refused), refused
    assert any("$js.api.stream.delete" in e for e in refused), refused


async def _stream_subjects(bus: Nats, stream: str) -> dict[str, int]:
    client = await nats.connect(bus.url, **bus.connect_options())
    try:
        info = await client.jetstream().stream_info(stream, subjects_filter=">")
        return dict(info.state.subjects or {})
    finally:
        await client.close()
