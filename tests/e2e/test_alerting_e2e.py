"""The synthesized rules and Alertmanager config, running in real Prometheus and Alertmanager.

A simulated backend serves the seed's metrics; HTTP sinks stand in for PagerDuty (Events API
v2), each Slack channel's own webhook and the dead man's switch. The test-only changes to the
synthesized artifacts are listed in tests/e2e/prod_estate.py (shorter `for`, evaluation and
grouping intervals, PagerDuty's endpoint and the secret files' directory); every expression,
label, route, inhibition and receiver is as synthesized. The scenarios' figures print at the
end of the module (`pytest -s tests/e2e`); the latest are in docs/alerting.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from harness.backend import SimulatedBackend
from harness.servers import LOOPBACK, Server, alertmanager, prometheus, wait_until
from harness.sinks import Sink
from tests.e2e.prod_estate import (
    ROUTING_KEY,
    SEVERITIES,
    Sinks,
    synthesize_prod,
    write_alertmanager_config,
    write_prometheus_config,
    write_rules,
)

#: One live estate for the module, on one worker (pytest-xdist loadgroup); each test
#: stands on its own, in any order (pytest-randomly).
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-alerting")]

FIGURES: dict[str, Any] = {}


@dataclass
class Estate:
    prometheus: Server
    alertmanager: Server
    backend: SimulatedBackend
    sinks: Sinks

    @property
    def pagerduty(self) -> Sink:
        return self.sinks.pagerduty

    @property
    def slack(self) -> dict[str, Sink]:
        return self.sinks.slack


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    work = tmp_path_factory.mktemp("e2e")
    sinks = Sinks()
    backend = SimulatedBackend(max_seconds=300)
    sinks.start()
    try:
        out = synthesize_prod(work)
        rules = write_rules(out, work)
        am_config = write_alertmanager_config(out, work, sinks)
        backend.start()
        with alertmanager(am_config, work) as am:
            target = f"{LOOPBACK}:{backend.port}"
            prom_config = write_prometheus_config(work, rules, am.port, target)
            with prometheus(prom_config, work) as prom:
                yield Estate(prom, am, backend, sinks)
    finally:
        backend.stop()
        sinks.stop()
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


def _webhook_paths(sink: Sink, text: str) -> set[str]:
    """The webhook URL paths the messages mentioning `text` were posted to."""
    return {r.path for r in list(sink.received) if text in json.dumps(r.body)}


def test_rules_load_and_the_backend_is_scraped(estate: Estate) -> None:
    groups = estate.prometheus.get_json("/api/v1/rules")["data"]["groups"]
    names = {g["name"] for g in groups}
    assert {"application", "business", "platform", "recording"} <= names
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
    assert event["routing_key"] == ROUTING_KEY
    payload = event["payload"]
    assert payload["severity"] == "critical"
    assert "HighErrorRate" in payload["summary"]
    assert "High error rate detected" in payload["summary"]
    details = payload["custom_details"]
    assert details["environment"] == "prod"
    assert details["runbook_url"].endswith("/HighErrorRate")
    critical = estate.slack["critical"]
    wait_until(
        lambda: bool(_slack(critical, "HighErrorRate")),
        timeout=30,
        what="the critical channel's webhook to receive the HighErrorRate message",
    )
    # Alertmanager 0.33 leaves `channel` out: the webhook (one per channel) decides where.
    assert _webhook_paths(critical, "HighErrorRate") == {"/services/e2e-critical"}
    assert not _slack(estate.slack["warning"], "HighErrorRate")
    assert not _slack(estate.slack["info"], "HighErrorRate")

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
    warning = estate.slack["warning"]
    before = len(_slack(warning, "SlowResponseTime"))
    alerts = [
        _alert("SlowResponseTime", "warning", instance=f"10.0.{i // 250}.{i % 250}:4000")
        for i in range(500)
    ]
    assert estate.alertmanager.post_json("/api/v2/alerts", alerts) == 200
    wait_until(
        lambda: len(_slack(warning, "SlowResponseTime")) > before,
        timeout=30,
        what="the storm's notification",
    )
    time.sleep(5)  # two more group intervals: anything else the storm would send
    notifications = len(_slack(warning, "SlowResponseTime")) - before
    assert 1 <= notifications <= 3
    assert not _triggers(estate.pagerduty, "SlowResponseTime", "trigger")  # warnings never page
    FIGURES["storm"] = {"alerts_posted": 500, "slack_notifications": notifications}


def test_a_sink_that_fails_for_a_while_still_gets_the_notification(estate: Estate) -> None:
    warning = estate.slack["warning"]
    failures_before = warning.failures
    warning.fail_for(8)
    sent = time.monotonic()
    assert (
        estate.alertmanager.post_json(
            "/api/v2/alerts", [_alert("DatabasePoolExhaustion", "warning")]
        )
        == 200
    )
    delivered_after = wait_until(
        lambda: bool(_slack(warning, "DatabasePoolExhaustion")),
        timeout=90,
        what="delivery after the outage",
    )
    failures = warning.failures - failures_before
    assert failures >= 1
    assert time.monotonic() - sent >= 8
    FIGURES["outage"] = {
        "sink_down_seconds": 8,
        "failed_attempts": failures,
        "seconds_to_delivery": round(delivered_after, 1),
    }


def _post(estate: Estate, *alerts: dict[str, Any]) -> None:
    assert estate.alertmanager.post_json("/api/v2/alerts", list(alerts)) == 200


def _raw_alert(**labels: str) -> dict[str, Any]:
    return {"labels": labels, "annotations": {"summary": f"{labels['alertname']} (e2e)"}}


def _statuses(estate: Estate, alertname: str) -> dict[str, tuple[str, int]]:
    """Alertmanager's view of each alert named `alertname`: (state, number of inhibitors),
    keyed by its `service` or `namespace` label."""
    from urllib.parse import quote

    matcher = quote(f'alertname="{alertname}"')
    alerts = estate.alertmanager.get_json(f"/api/v2/alerts?filter={matcher}")
    return {
        a["labels"].get("service") or a["labels"].get("namespace", ""): (
            a["status"]["state"],
            len(a["status"]["inhibitedBy"]),
        )
        for a in alerts
    }


def test_each_severity_reaches_its_own_channel_and_only_critical_pages(estate: Estate) -> None:
    """One webhook per channel: each severity lands at its own Slack sink and nowhere else."""
    names = {severity: f"ChannelCheck{severity.capitalize()}" for severity in SEVERITIES}
    _post(
        estate,
        *(_alert(names[s], s, service="e2e-channels") for s in SEVERITIES),
    )
    for severity in SEVERITIES:

        def arrived(sink: Sink = estate.slack[severity], name: str = names[severity]) -> bool:
            return bool(_slack(sink, name))

        wait_until(arrived, timeout=30, what=f"the {severity} channel's webhook")
    time.sleep(3)  # more than a group interval: anything misrouted would have arrived
    for severity in SEVERITIES:
        for other, sink in estate.slack.items():
            paths = _webhook_paths(sink, names[severity])
            if other == severity:
                assert paths == {f"/services/e2e-{severity}"}
            else:
                assert not paths, f"{names[severity]} reached the {other} channel"
    assert _triggers(estate.pagerduty, names["critical"], "trigger")
    assert not _triggers(estate.pagerduty, names["warning"], "trigger")
    assert not _triggers(estate.pagerduty, names["info"], "trigger")
    # The Watchdog pings the dead man's switch and no channel (its first ping may still be on
    # its way when this test runs first).
    wait_until(
        lambda: any("Watchdog" in json.dumps(b) for b in estate.sinks.heartbeat.bodies()),
        timeout=90,
        what="a heartbeat",
    )
    for sink in estate.slack.values():
        assert not _slack(sink, "Watchdog")
    assert not _triggers(estate.pagerduty, "Watchdog", "trigger")
    FIGURES["channels"] = {
        severity: len(_slack(estate.slack[severity], names[severity])) for severity in SEVERITIES
    }


def test_a_service_outage_inhibits_that_services_warnings_and_infos(estate: Estate) -> None:
    down = _alert("ServiceDown", "critical", service="checkout", job="checkout")
    _post(estate, down)
    wait_until(
        lambda: _statuses(estate, "ServiceDown").get("checkout", ("", 0))[0] == "active",
        timeout=30,
        what="ServiceDown to be active",
    )
    _post(
        estate,
        _alert("NoPostsCreated", "info", service="checkout"),
        _alert("OutageCheckWarning", "warning", service="checkout"),
        _alert("NoPostsCreated", "info", service="search"),
    )

    def settled() -> bool:
        states = _statuses(estate, "NoPostsCreated")
        return states.get("checkout", ("", 0))[0] == "suppressed" and "search" in states

    wait_until(settled, timeout=30, what="the outage to inhibit checkout's NoPostsCreated")
    assert _statuses(estate, "NoPostsCreated") == {
        "checkout": ("suppressed", 1),
        "search": ("active", 0),
    }
    assert _statuses(estate, "OutageCheckWarning") == {"checkout": ("suppressed", 1)}
    # The Watchdog, which no outage inhibits, is active once Prometheus has sent it (in
    # whatever order the module's tests run).
    wait_until(
        lambda: "prometheus" in _statuses(estate, "Watchdog"), timeout=90, what="the Watchdog"
    )
    assert _statuses(estate, "Watchdog")["prometheus"] == ("active", 0)
    wait_until(
        lambda: any(
            '"service": "search"' in json.dumps(m) or "(search)" in json.dumps(m)
            for m in _slack(estate.slack["info"], "NoPostsCreated")
        ),
        timeout=30,
        what="search's NoPostsCreated at the info channel",
    )
    time.sleep(3)
    assert not [
        m for m in _slack(estate.slack["info"], "NoPostsCreated") if "checkout" in json.dumps(m)
    ]
    assert not _slack(estate.slack["warning"], "OutageCheckWarning")


def test_a_critical_alert_in_one_namespace_leaves_warnings_elsewhere_alone(estate: Estate) -> None:
    """The chart's severity ladders: same alert, same object only (namespace is in `equal`)."""
    name = "KubePersistentVolumeFillingUp"
    _post(
        estate,
        _raw_alert(
            alertname=name, severity="critical", namespace="team-a", persistentvolumeclaim="data"
        ),
    )
    wait_until(
        lambda: _statuses(estate, name).get("team-a", ("", 0))[0] == "active",
        timeout=30,
        what="the critical source to be active",
    )
    _post(
        estate,
        _raw_alert(
            alertname=name, severity="warning", namespace="team-a", persistentvolumeclaim="data"
        ),
        _raw_alert(
            alertname=name, severity="warning", namespace="team-b", persistentvolumeclaim="data"
        ),
    )

    def by_namespace_and_severity() -> dict[tuple[str, str], str]:
        from urllib.parse import quote

        matcher = quote(f'alertname="{name}"')
        alerts = estate.alertmanager.get_json(f"/api/v2/alerts?filter={matcher}")
        return {
            (a["labels"]["namespace"], a["labels"]["severity"]): a["status"]["state"]
            for a in alerts
        }

    wait_until(
        lambda: (
            len(by_namespace_and_severity()) == 3
            and by_namespace_and_severity()[("team-a", "warning")] == "suppressed"
        ),
        timeout=30,
        what="team-a's warning to be inhibited",
    )
    assert by_namespace_and_severity() == {
        ("team-a", "critical"): "active",
        ("team-a", "warning"): "suppressed",
        ("team-b", "warning"): "active",
    }
