"""deploy/compose.yaml is a valid compose file (the compose specification's JSON Schema, as
check-jsonschema ships it, offline) for a small site: the one image for every service, locked
down, and a NATS cluster of three that syncs every write."""

import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SERVICES = ["intake", "casework", "notify", "audit"]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def compose_schema() -> dict[str, Any]:
    vendored = files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema: dict[str, Any] = json.loads(vendored.read_text())
    return schema


def test_the_file_follows_the_compose_specification() -> None:
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose())]
    assert errors == []


def test_the_schema_refuses_what_compose_would_refuse() -> None:
    schema = compose_schema()
    broken = compose()
    broken["services"]["intake"]["restart_policy"] = "always"  # not a compose key
    assert not jsonschema.validators.validator_for(schema)(schema).is_valid(broken)


def test_every_service_runs_the_one_image_by_its_command_locked_down() -> None:
    services = compose()["services"]
    for name in SERVICES:
        service = services[name]
        assert service["image"] == services["migrate"]["image"]
        assert service["command"] == [f"offramp-{name}", "serve"]
        assert service["read_only"] is True and service["tmpfs"] == ["/tmp"]
        assert service["user"] == "10001:10001"
        assert service["cap_drop"] == ["ALL"]
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert service["environment"]["OFFRAMP_STREAM_REPLICAS"] == "3"
        assert service["environment"]["OFFRAMP_NATS_URL"].count("nats://") == 3
    migrations = services["migrate"]["command"][-1]
    assert re.findall(r"offramp-(\w+) migrate", migrations) == SERVICES


def test_nats_is_a_cluster_of_three_routed_to_each_other_syncing_every_write() -> None:
    services = compose()["services"]
    nodes = [f"nats-{n}" for n in range(3)]
    for node in nodes:
        assert services[node]["environment"]["NATS_SERVER_NAME"] == node
        assert f"{node}:/data" in services[node]["volumes"]
    conf = (DEPLOY / "compose" / "nats-server.conf").read_text()
    assert re.search(r"sync_interval:\s*always", conf)
    assert re.findall(r"nats-route://(nats-\d):6222", conf) == nodes


def test_no_secret_is_written_in_the_file() -> None:
    """Passwords come from the site's deploy/.env, keys from files named there."""
    for name, service in compose()["services"].items():
        for variable, value in service.get("environment", {}).items():
            if re.search(r"PASSWORD|PWD", variable):
                assert re.fullmatch(r"\$\{[A-Z_]+:[?-][^}]*\}", value), (name, variable)
            if variable == "OFFRAMP_DATABASE_URL":
                assert ":${OFFRAMP_DB_PASSWORD:?" in value, (name, value)
    for secret in compose()["secrets"].values():
        assert secret["file"].startswith("${"), secret
