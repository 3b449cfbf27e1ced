"""The values files for NATS' and Temporal's official Helm charts name only options the pinned
chart versions have (a misspelt key is silently ignored by Helm: a cluster that was meant to
sync every write would not, and nothing would say so), and they set what Offramp relies on."""

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

HELM = Path(__file__).resolve().parents[2] / "deploy" / "helm"
CHARTS = tomllib.loads((HELM / "charts.toml").read_text())


def key_paths(node: Any, prefix: str = "") -> list[str]:
    """Every key path of a values document; a list is a leaf, its items are the option's value."""
    if not isinstance(node, dict):
        return []
    found = []
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        found += [path, *key_paths(value, path)]
    return found


def allowed_keys(chart: str) -> set[str]:
    lines = (HELM / CHARTS[chart]["keys"]).read_text().splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def is_allowed(path: str, allowed: set[str]) -> bool:
    """The chart has the path, or it is (or lies under) a map the chart passes on as it is."""
    if path in allowed or f"{path}.*" in allowed:
        return True
    parts = path.split(".")
    return any(".".join(parts[:n]) + ".*" in allowed for n in range(1, len(parts)))


def values(chart: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((HELM / CHARTS[chart]["values"]).read_text())
    return loaded


@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_the_values_file_names_only_keys_the_pinned_chart_has(chart: str) -> None:
    allowed = allowed_keys(chart)
    unknown = [p for p in key_paths(values(chart)) if not is_allowed(p, allowed)]
    assert unknown == [], f"not in {chart} {CHARTS[chart]['version']}: {unknown}"


@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_the_key_list_says_which_chart_version_it_was_read_from(chart: str) -> None:
    header = (HELM / CHARTS[chart]["keys"]).read_text().split("\n\n")[0]
    assert f"tag {chart}-{CHARTS[chart]['version']}" in header.replace("\n# ", " ")
    assert CHARTS[chart]["version"] in CHARTS[chart]["keys"]


def test_a_misspelt_key_is_caught() -> None:
    allowed = allowed_keys("nats")
    assert not is_allowed("config.jetstream.syncInterval", allowed)
    assert is_allowed("config.jetstream.merge.sync_interval", allowed)


def test_nats_is_a_cluster_of_three_that_syncs_every_write() -> None:
    config = values("nats")["config"]
    assert config["cluster"] == {"enabled": True, "replicas": 3}
    assert config["jetstream"]["enabled"] is True
    assert config["jetstream"]["fileStore"]["enabled"] is True
    assert config["jetstream"]["merge"]["sync_interval"] == "always"


def test_temporal_keeps_its_history_and_visibility_on_postgresql_with_a_secret_password() -> None:
    server = values("temporal")["server"]
    stores = server["config"]["persistence"]["datastores"]
    assert set(stores) == {"default", "visibility"}
    for store in stores.values():
        sql = store["sql"]
        assert sql["pluginName"].startswith("postgres")
        assert "password" not in sql and sql["existingSecret"]
    names = [n["name"] for n in server["config"]["namespaces"]["namespace"]]
    assert server["config"]["namespaces"]["create"] is True
    assert "offramp" in names
