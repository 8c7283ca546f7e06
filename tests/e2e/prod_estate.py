"""The prod stack's synthesized artifacts, prepared for a real Prometheus and Alertmanager on
127.0.0.1, with HTTP sinks standing in for PagerDuty, each Slack channel and the dead man's
switch.

The only test-only changes to the synthesized artifacts: `for` windows capped, rule groups
evaluated every second, faster grouping (`group_wait` 1s, `group_interval` 2s, the Watchdog's
repeat interval), the PagerDuty endpoint pointed at its sink, and the directory of the mounted
secret files. Every expression, label, route, inhibition and receiver is as synthesized.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.servers import LOOPBACK
from harness.sinks import Sink
from infra.render.alertmanager import (
    DEFAULT_SECRETS_DIR,
    EMAIL_AUTH_PASSWORD_FILE,
    HEARTBEAT_URL_FILE,
    PAGERDUTY_ROUTING_KEY_FILE,
    SLACK_WEBHOOK_URL_FILES,
)
from infra.synth import synth_stacks
from tests.conftest import STACKS

#: Test-only timing: `for` windows capped at this, rule groups evaluated this often.
FOR_CAP = "10s"
EVAL = "1s"
GROUP_WAIT = "1s"
GROUP_INTERVAL = "2s"
ROUTING_KEY = "e2e-routing-key-0123456789abcdef"
SEVERITIES = ("critical", "warning", "info")


def seconds(duration: str) -> float:
    """A Prometheus duration in seconds ("1h30m" -> 5400)."""
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


@dataclass
class Sinks:
    """One sink per destination: PagerDuty, each Slack channel's webhook, the heartbeat."""

    pagerduty: Sink = field(default_factory=lambda: Sink("pagerduty"))
    slack: dict[str, Sink] = field(
        default_factory=lambda: {s: Sink(f"slack-{s}") for s in SEVERITIES}
    )
    heartbeat: Sink = field(default_factory=lambda: Sink("heartbeat"))

    def all(self) -> list[Sink]:
        return [self.pagerduty, *self.slack.values(), self.heartbeat]

    def start(self) -> None:
        for sink in self.all():
            sink.start()

    def stop(self) -> None:
        for sink in self.all():
            sink.stop()


def synthesize_prod(work: Path) -> Path:
    """The repository's prod stack, synthesized by the real program; its output directory."""
    stacks = work / "stacks"
    shutil.copytree(STACKS, stacks)
    synth_stacks(["prod"], stacks, work / "out")
    return work / "out" / "prod"


def shorten_rules(doc: dict[str, Any]) -> dict[str, Any]:
    """Test-only: cap every `for` and evaluate every group each EVAL; nothing else changes."""
    for group in doc["groups"]:
        group["interval"] = EVAL
        for rule in group["rules"]:
            if "for" in rule and seconds(rule["for"]) > seconds(FOR_CAP):
                rule["for"] = FOR_CAP
    return doc


def write_rules(out: Path, work: Path) -> Path:
    rules = work / "rules"
    rules.mkdir()
    for path in sorted((out / "prometheus" / "rules").glob("*.yaml")):
        doc = shorten_rules(yaml.safe_load(path.read_text()))
        (rules / path.name).write_text(yaml.safe_dump(doc, sort_keys=True))
    return rules


def write_secrets(work: Path, sinks: Sinks) -> Path:
    """The receivers' Secret as files: every Slack channel's webhook points at its own sink."""
    secrets = work / "secrets"
    secrets.mkdir()
    (secrets / PAGERDUTY_ROUTING_KEY_FILE).write_text(ROUTING_KEY)
    for severity, sink in sinks.slack.items():
        file = SLACK_WEBHOOK_URL_FILES[f"slack-{severity}"]
        (secrets / file).write_text(f"{sink.url}/services/e2e-{severity}")
    (secrets / EMAIL_AUTH_PASSWORD_FILE).write_text("e2e-smtp-password")
    (secrets / HEARTBEAT_URL_FILE).write_text(f"{sinks.heartbeat.url}/ping/e2e")
    return secrets


def shorten_alertmanager(
    doc: dict[str, Any], secrets: Path, pagerduty_url: str, *, heartbeat_repeat: str
) -> str:
    """Test-only: fast grouping, the heartbeat's repeat interval, PagerDuty's endpoint at its
    sink, and the secret files where this test wrote them."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "group_wait" in node:
                node["group_wait"] = GROUP_WAIT
            if "group_interval" in node:
                node["group_interval"] = GROUP_INTERVAL
            if node.get("receiver") == "heartbeat":
                node["repeat_interval"] = heartbeat_repeat
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    for receiver in doc["receivers"]:
        for pagerduty in receiver.get("pagerduty_configs", []):
            pagerduty["url"] = pagerduty_url
    return yaml.safe_dump(doc, sort_keys=True).replace(DEFAULT_SECRETS_DIR, str(secrets))


def write_alertmanager_config(
    out: Path, work: Path, sinks: Sinks, *, heartbeat_repeat: str = "4s"
) -> Path:
    secrets = write_secrets(work, sinks)
    doc = yaml.safe_load((out / "alertmanager" / "alertmanager.yaml").read_text())
    path = work / "alertmanager.yaml"
    path.write_text(
        shorten_alertmanager(
            doc, secrets, f"{sinks.pagerduty.url}/v2/enqueue", heartbeat_repeat=heartbeat_repeat
        )
    )
    return path


def write_prometheus_config(work: Path, rules: Path, alertmanager_port: int, target: str) -> Path:
    path = work / "prometheus.yaml"
    path.write_text(
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
                        {"static_configs": [{"targets": [f"{LOOPBACK}:{alertmanager_port}"]}]}
                    ]
                },
            }
        )
    )
    return path
