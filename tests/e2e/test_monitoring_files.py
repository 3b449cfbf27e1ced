"""The alert rules and the Grafana dashboard in deploy/monitoring name only series the services
really serve: a renamed metric would otherwise leave an alert that can never fire."""

import json
import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import System, wait_for

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
OFFRAMP_SERIES = re.compile(r"\bofframp_[a-z0-9_]+\b")
WANTED_ALERTS = {
    "OfframpOutboxStuck",
    "OfframpConsumerLagGrowing",
    "OfframpDeadLetters",
    "OfframpCheckpointOverdue",
    "OfframpLedgerVerifyFailing",
}


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


async def served_series(system: System) -> set[str]:
    names: set[str] = set()
    for service in ("intake", "casework", "notify", "audit"):
        async with system.client(service) as client:
            text = (await client.get("/metrics")).text
        for family in text_string_to_metric_families(text):
            names |= {sample.name for sample in family.samples}
    return names


def balanced(expression: str) -> bool:
    depth = 0
    for char in expression:
        depth += {"(": 1, ")": -1, "[": 1, "]": -1, "{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def test_the_alert_rules_parse_and_cover_what_operators_must_be_told() -> None:
    rules = alert_rules()
    assert WANTED_ALERTS <= {rule["alert"] for rule in rules}
    for rule in rules:
        assert set(rule) >= {"alert", "expr", "labels", "annotations"}, rule["alert"]
        assert balanced(rule["expr"]), rule["alert"]
        assert rule["labels"]["severity"] in {"page", "warn"}
    for expression in dashboard_expressions():
        assert balanced(expression), expression


async def test_alerts_and_dashboard_name_only_series_the_services_serve(system: System) -> None:
    wanted = {
        name
        for expression in [rule["expr"] for rule in alert_rules()] + dashboard_expressions()
        for name in OFFRAMP_SERIES.findall(expression)
    }
    assert len(wanted) > 10

    async def all_served() -> bool:
        return wanted <= await served_series(system)

    # Consumers' series appear once their durables exist on the server.
    try:
        await wait_for(all_served, timeout=30, what="every named series to be served")
    except AssertionError:
        missing = wanted - await served_series(system)
        raise AssertionError(f"named but not served: {sorted(missing)}") from None
