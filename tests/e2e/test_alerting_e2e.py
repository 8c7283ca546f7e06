"""The synthesized rules and Alertmanager config, running in real Prometheus and Alertmanager.

A simulated backend serves the seed's metrics; HTTP sinks stand in for PagerDuty (Events API
v2) and Slack. The only test-only changes to the synthesized artifacts are shorter `for`
windows, evaluation and grouping intervals (so the run takes about a minute) and the paths
of the mounted secret files; every expression, label, route and receiver is as synthesized.
The scenarios' figures print at the end of the module (`pytest -s tests/e2e`); the latest
are in docs/alerting.md.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.render.alertmanager import DEFAULT_SECRETS_DIR
from infra.synth import synth_stacks
from tests.conftest import STACKS
from tests.e2e.harness import (
    LOOPBACK,
    Server,
    SimulatedBackend,
    Sink,
    alertmanager,
    prometheus,
    wait_until,
)

#: Test-only timing: `for` windows capped at this, rule groups evaluated this often.
FOR_CAP = "10s"
EVAL = "1s"
FIGURES: dict[str, Any] = {}


@dataclass
class Estate:
    prometheus: Server
    alertmanager: Server
    backend: SimulatedBackend
    pagerduty: Sink
    slack: Sink


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    total, number = 0.0, ""
    i = 0
    while i < len(duration):
        ch = duration[i]
        if ch.isdigit():
            number += ch
            i += 1
            continue
        unit = "ms" if duration[i : i + 2] == "ms" else ch
        total += int(number) * units[unit]
        number, i = "", i + len(unit)
    return total


def shorten_rules(doc: dict[str, Any]) -> dict[str, Any]:
    """Test-only: cap every `for` and evaluate every group each EVAL; nothing else changes."""
    for group in doc["groups"]:
        group["interval"] = EVAL
        for rule in group["rules"]:
            if "for" in rule and _seconds(rule["for"]) > _seconds(FOR_CAP):
                rule["for"] = FOR_CAP
    return doc


def shorten_alertmanager(doc: dict[str, Any], secrets_dir: Path) -> str:
    """Test-only: fast grouping, and the secret files where this test wrote them."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "group_wait" in node:
                node["group_wait"] = "1s"
            if "group_interval" in node:
                node["group_interval"] = "2s"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    return yaml.safe_dump(doc, sort_keys=True).replace(DEFAULT_SECRETS_DIR, str(secrets_dir))


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    work = tmp_path_factory.mktemp("e2e")
    pagerduty, slack = Sink("pagerduty"), Sink("slack")
    backend = SimulatedBackend(max_seconds=300)
    pagerduty.start()
    slack.start()
    try:
        # The prod stack, with PagerDuty's Events API URL pointed at the local sink (a config
        # key), synthesized by the real program.
        stacks = work / "stacks"
        shutil.copytree(STACKS, stacks)
        prod = stacks / "Pulumi.prod.yaml"
        prod.write_text(
            prod.read_text().replace(
                "    pagerduty:\n",
                f"    pagerduty:\n      url: {pagerduty.url}/v2/enqueue\n",
            )
        )
        synth_stacks(["prod"], stacks, work / "out")
        out = work / "out" / "prod"

        rules = work / "rules"
        rules.mkdir()
        for path in sorted((out / "prometheus" / "rules").glob("*.yaml")):
            doc = shorten_rules(yaml.safe_load(path.read_text()))
            (rules / path.name).write_text(yaml.safe_dump(doc, sort_keys=True))

        secrets = work / "secrets"
        secrets.mkdir()
        (secrets / "pagerduty-routing-key").write_text("e2e-routing-key-0123456789abcdef")
        (secrets / "slack-webhook-url").write_text(f"{slack.url}/services/e2e")
        (secrets / "email-auth-password").write_text("e2e-smtp-password")
        am_doc = yaml.safe_load((out / "alertmanager" / "alertmanager.yaml").read_text())
        am_config = work / "alertmanager.yaml"
        am_config.write_text(shorten_alertmanager(am_doc, secrets))

        backend.start()
        with alertmanager(am_config, work) as am:
            prom_config = work / "prometheus.yaml"
            target = f"{LOOPBACK}:{backend.port}"
            prom_config.write_text(
                yaml.safe_dump(
                    {
                        "global": {
                            "scrape_interval": "1s",
                            "evaluation_interval": EVAL,
                            "external_labels": {"cluster": "bh-prod", "environment": "prod"},
                        },
                        "rule_files": [str(rules / "*.yaml")],
                        "scrape_configs": [
                            {"job_name": job, "static_configs": [{"targets": [target]}]}
                            for job in ("backend", "frontend")
                        ],
                        "alerting": {
                            "alertmanagers": [
                                {"static_configs": [{"targets": [f"{LOOPBACK}:{am.port}"]}]}
                            ]
                        },
                    }
                )
            )
            with prometheus(prom_config, work) as prom:
                yield Estate(prom, am, backend, pagerduty, slack)
    finally:
        backend.stop()
        pagerduty.stop()
        slack.stop()
        if FIGURES:
            print("\nalerting e2e figures:", json.dumps(FIGURES, indent=2, sort_keys=True))


def _query(prom: Server, expr: str) -> list[dict[str, Any]]:
    from urllib.parse import quote

    result = prom.get_json(f"/api/v1/query?query={quote(expr)}")
    return list(result["data"]["result"])


def _triggers(sink: Sink, alertname: str, action: str) -> list[dict[str, Any]]:
    return [
        b
        for b in sink.bodies()
        if b.get("event_action") == action and alertname in json.dumps(b.get("payload", b))
    ]


def _slack(sink: Sink, text: str) -> list[dict[str, Any]]:
    return [b for b in sink.bodies() if text in json.dumps(b)]


def test_rules_load_and_the_backend_is_scraped(estate: Estate) -> None:
    groups = estate.prometheus.get_json("/api/v1/rules")["data"]["groups"]
    assert sorted(g["name"] for g in groups) == ["application", "business", "platform", "recording"]
    assert all(r["health"] != "err" for g in groups for r in g["rules"])
    wait_until(
        lambda: len(_query(estate.prometheus, 'up{job="backend"} == 1')) == 1,
        timeout=30,
        what="the backend to be scraped",
    )


def test_error_rate_incident_pages_and_posts_then_resolves(estate: Estate) -> None:
    prom = estate.prometheus
    wait_until(
        lambda: bool(_query(prom, "job:http_requests:rate5m")),
        timeout=30,
        what="request rate to be recorded",
    )
    assert not _triggers(estate.pagerduty, "HighErrorRate", "trigger")

    started = time.monotonic()
    estate.backend.error_ratio = 0.25
    paged_after = wait_until(
        lambda: bool(_triggers(estate.pagerduty, "HighErrorRate", "trigger")),
        timeout=90,
        what="PagerDuty to receive the HighErrorRate trigger",
    )
    (event,) = _triggers(estate.pagerduty, "HighErrorRate", "trigger")[:1]
    assert event["routing_key"] == "e2e-routing-key-0123456789abcdef"
    payload = event["payload"]
    assert payload["severity"] == "critical"
    assert "HighErrorRate" in payload["summary"]
    assert "High error rate detected" in payload["summary"]
    details = payload["custom_details"]
    assert details["environment"] == "prod"
    assert details["runbook_url"].endswith("/HighErrorRate")
    wait_until(
        lambda: bool(_slack(estate.slack, "HighErrorRate")),
        timeout=30,
        what="Slack to receive the HighErrorRate message",
    )
    message = _slack(estate.slack, "HighErrorRate")[0]
    assert message["channel"] == "#bh-incidents"

    # Recovery: traffic returns at full volume without errors, diluting the 5m error ratio.
    estate.backend.error_ratio = 0.0
    estate.backend.requests_per_tick = 4000
    resolved_after = wait_until(
        lambda: bool(_triggers(estate.pagerduty, "HighErrorRate", "resolve")),
        timeout=120,
        what="PagerDuty to receive the resolve",
    )
    (resolve,) = _triggers(estate.pagerduty, "HighErrorRate", "resolve")[:1]
    assert resolve["dedup_key"] == event["dedup_key"]
    estate.backend.requests_per_tick = 20
    FIGURES["incident"] = {
        "seconds_from_errors_to_page": round(paged_after, 1),
        "seconds_from_recovery_to_resolve": round(resolved_after, 1),
        "pagerduty_events": len(estate.pagerduty.bodies()),
        "since_start": round(time.monotonic() - started, 1),
    }


def _alert(name: str, severity: str, **labels: str) -> dict[str, Any]:
    return {
        "labels": {"alertname": name, "severity": severity, "service": "backend", **labels},
        "annotations": {"summary": f"{name} (e2e)", "description": "driven by the e2e test"},
    }


def test_a_storm_of_500_instances_arrives_grouped(estate: Estate) -> None:
    before = len(_slack(estate.slack, "SlowResponseTime"))
    alerts = [
        _alert("SlowResponseTime", "warning", instance=f"10.0.{i // 250}.{i % 250}:4000")
        for i in range(500)
    ]
    assert estate.alertmanager.post_json("/api/v2/alerts", alerts) == 200
    wait_until(
        lambda: len(_slack(estate.slack, "SlowResponseTime")) > before,
        timeout=30,
        what="the storm's notification",
    )
    time.sleep(5)  # two more group intervals: anything else the storm would send
    notifications = len(_slack(estate.slack, "SlowResponseTime")) - before
    assert 1 <= notifications <= 3
    assert not _triggers(estate.pagerduty, "SlowResponseTime", "trigger")  # warnings never page
    FIGURES["storm"] = {"alerts_posted": 500, "slack_notifications": notifications}


def test_a_sink_that_fails_for_a_while_still_gets_the_notification(estate: Estate) -> None:
    failures_before = estate.slack.failures
    estate.slack.fail_for(8)
    sent = time.monotonic()
    assert (
        estate.alertmanager.post_json(
            "/api/v2/alerts", [_alert("DatabasePoolExhaustion", "warning")]
        )
        == 200
    )
    delivered_after = wait_until(
        lambda: bool(_slack(estate.slack, "DatabasePoolExhaustion")),
        timeout=90,
        what="delivery after the outage",
    )
    failures = estate.slack.failures - failures_before
    assert failures >= 1
    assert time.monotonic() - sent >= 8
    FIGURES["outage"] = {
        "sink_down_seconds": 8,
        "failed_attempts": failures,
        "seconds_to_delivery": round(delivered_after, 1),
    }
