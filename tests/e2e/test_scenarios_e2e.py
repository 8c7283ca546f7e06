"""Acceptance scenarios: how the prod estate's alerting behaves with a real cluster's traffic.

Two parts, each proving what the other cannot (docs/alerting.md has the table):

1. Hours, on promtool (the production version, >= 3.5): the prod stack's rules, as the real
   program builds them with production timing (no `for` or window shortened), evaluated over
   six simulated hours of the seed's metrics as Prometheus would scrape them from three
   replicas (tests/e2e/cluster.py: users on a daily curve with Poisson noise and background
   4xx/5xx, kubelet probes and scrapes counted by the middleware, a rolling deployment, a
   container restart). Healthy hours raise no alert but the Watchdog; each seeded fault fires
   exactly its alerts (every alert that fired in the six hours is listed, from `ALERTS`).
   This proves the rules' behaviour over time; it sends no notification.
2. Minutes, on the real servers (Prometheus >= 3.5, Alertmanager >= 0.28), time-compressed
   30 times: the second half of this module. It proves what promtool cannot: that each
   scenario's notifications reach exactly the expected receivers (PagerDuty, the Slack
   channel of the severity, the heartbeat), that ServiceDown inhibits the service's warnings,
   and that the heartbeat stops when Prometheus does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from alerts import application, build, business, platform, rule_groups
from alerts.settings import Settings
from harness.servers import LOOPBACK, Server, alertmanager, free_port, prometheus, wait_until
from infra.render.prometheus import rule_file, to_yaml
from infra.rules import RuleGroup, iter_alerts
from infra.tools import promtool
from tests.conftest import stack_config
from tests.e2e.cluster import (
    Cluster,
    Fault,
    Kubelet,
    LiveReplica,
    Pod,
    Users,
    replicas,
    rolling_update,
)
from tests.e2e.prod_estate import Sinks, seconds, synthesize_prod, write_alertmanager_config

pytestmark = pytest.mark.e2e
#: The tests on the module's live estate run on one worker (pytest-xdist loadgroup), each
#: from a healthy estate, in any order (pytest-randomly); the long scenarios spread out.
LIVE = pytest.mark.xdist_group("e2e-scenarios-live")

HOUR = 3600
HOURS = 6
#: The alerts these scenarios are about: the application's, the business', the platform's.
#: (The telemetry pipeline's own alerts need its components' metrics, not simulated here.)
ALERTS_IN_SCOPE = sorted(
    {a.name for g in (application.group(Settings()), business.group(Settings())) for a in g.alerts}
    | {a.name for a in platform.group(Settings()).alerts}
)
FIRED = (
    'group by (alertname, severity, metric) (count_over_time(ALERTS{alertstate="firing",'
    f'alertname=~"{"|".join(ALERTS_IN_SCOPE)}"}}[{HOURS}h]))'
)
#: The seed's HighErrorRate expression, for comparison: probes and scrapes count as traffic.
SEED_ERROR_RATIO = (
    'sum(rate(http_requests_total{status_code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))'
)

#: Quiet hours prove something only if the SLIs were judged: from the first 30m on, user
#: traffic never fell below the floor (0.1 req/s) that HighErrorRate and SlowResponseTime need.
JUDGED = (
    f'min(min_over_time(job:http_requests:rate5m{{job="backend"}}[{HOURS * 60 - 30}m]))'
    f" >= bool {Settings().min_request_rate}",
    f"{HOURS}h",
    1.0,
)

Fired = tuple[str, str, str]  # alertname, severity, metric ("" but for MetricAbsent)
WATCHDOG: Fired = ("Watchdog", "info", "")


def _restart(pod: Pod, at: int, seconds: int) -> Pod:
    return Pod(pod.name, pod.instance, pod.start, pod.end, ((at, at + seconds),), pod.missing)


def _deployed(
    *, crash: tuple[int, int] | None = None, missing: frozenset[str] = frozenset()
) -> tuple[Pod, ...]:
    """Three replicas, replaced by a rolling deployment at 2h; optionally the first new pod's
    container crashes (`crash` = (at, seconds)) and the new release lacks `missing` metrics."""
    pods = list(rolling_update(replicas(3), 2 * HOUR, prefix="backend-5c6b", missing=missing))
    if crash is not None:
        pods[1] = _restart(pods[1], *crash)
    return tuple(pods)


@dataclass(frozen=True)
class LongScenario:
    name: str
    cluster: Callable[[], Cluster]
    #: Alerts expected to have fired during the hours, besides the Watchdog.
    fired: tuple[Fired, ...]
    #: Extra promtool expression tests: (expr, evaluation time, expected value).
    checks: tuple[tuple[str, str, float], ...] = ()


LONG_SCENARIOS = (
    LongScenario(
        "healthy night, 00:00-06:00: rolling deployment at 02:00, a container restart at 04:00",
        lambda: Cluster(pods=_deployed(crash=(4 * HOUR, 60)), clock=0.0),
        (),
        (JUDGED,),
    ),
    LongScenario(
        "healthy day, 08:00-14:00: rolling deployment at 10:00, a container restart at 12:00",
        lambda: Cluster(pods=_deployed(crash=(4 * HOUR, 60)), clock=8.0),
        (),
        (JUDGED,),
    ),
    LongScenario(
        "errors under probe traffic: 20% of users' requests fail for 30m at 03:00",
        lambda: Cluster(pods=replicas(3), clock=2.0, faults=(Fault(HOUR, HOUR + 1800, 0.2),)),
        (("HighErrorRate", "critical", ""),),
        # Over the 30m of errors, the seed's expression never reaches 5%: probes and scrapes
        # outnumber the users at night.
        ((f"max_over_time(({SEED_ERROR_RATIO})[30m:30s]) < bool 0.05", "1h30m", 1.0),),
    ),
    LongScenario(
        "one replica of three crash-looping for 20m at 10:00",
        lambda: Cluster(pods=_deployed(crash=(4 * HOUR, 1200)), clock=8.0),
        (("ServiceReplicaDown", "warning", ""),),
    ),
    LongScenario(
        "every replica down for 15m at 11:00",
        lambda: Cluster(pods=tuple(_restart(p, 3 * HOUR, 900) for p in replicas(3)), clock=8.0),
        (("ServiceDown", "critical", ""), ("ServiceReplicaDown", "warning", "")),
    ),
    LongScenario(
        "a release at 10:00 no longer exports http_request_duration_seconds",
        lambda: Cluster(
            pods=_deployed(missing=frozenset({"http_request_duration_seconds"})), clock=8.0
        ),
        (("MetricAbsent", "warning", "http_request_duration_seconds_bucket"),),
    ),
)


def prod_rule_groups() -> list[RuleGroup]:
    """The prod stack's rules, as the program builds them (production timing), of the groups
    whose alerts are in scope and the records they read: the SLO and pipeline groups' rules
    would triple promtool's work and cannot change which alerts in scope fire."""
    groups = [g for g in rule_groups(stack_config("prod")) if g.name in LIVE_GROUPS]
    assert set(ALERTS_IN_SCOPE) <= {a.name for a in iter_alerts(groups)}
    return groups


def promtool_scenario(scenario: LongScenario, groups: list[RuleGroup]) -> dict[str, Any]:
    cluster = scenario.cluster().run()
    expected = sorted({WATCHDOG, *scenario.fired})
    names = ("alertname", "severity", "metric")
    samples = [
        {
            "labels": "{"
            + ",".join(f'{k}="{v}"' for k, v in zip(names, f, strict=True) if v)
            + "}",
            "value": 1,
        }
        for f in expected
    ]
    checks = [
        {"expr": expr, "eval_time": at, "exp_samples": [{"labels": "{}", "value": value}]}
        for expr, at, value in scenario.checks
    ]
    return {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "30s",
        "group_eval_order": [g.name for g in groups],
        "tests": [
            {
                "name": scenario.name,
                "interval": "30s",
                "input_series": cluster.input_series(),
                "promql_expr_test": [
                    {"expr": FIRED, "eval_time": f"{HOURS}h", "exp_samples": samples},
                    *checks,
                ],
            }
        ],
    }


@pytest.mark.parametrize(
    "scenario", LONG_SCENARIOS, ids=[s.name.split(":")[0] for s in LONG_SCENARIOS]
)
def test_hours_of_production_traffic_fire_exactly_the_expected_alerts(
    scenario: LongScenario, tmp_path: Path
) -> None:
    groups = prod_rule_groups()
    (tmp_path / "rules.yaml").write_text(to_yaml(rule_file(groups)), encoding="utf-8")
    test_file = tmp_path / "scenario.yaml"
    test_file.write_text(
        yaml.safe_dump(promtool_scenario(scenario, groups), width=10**9), encoding="utf-8"
    )
    result = promtool.test_rules([test_file])
    assert result.ok, str(result)[-4000:]


# ====================================================================== part 2: live servers
#
# The prod stack synthesized by the real program; its Alertmanager config with the test-only
# changes of tests/e2e/prod_estate.py (fast grouping, the heartbeat's repeat interval, the
# sinks' URLs in the secret files: PagerDuty, one Slack webhook per channel, the heartbeat).
# Its rules are built by the same code from the same settings, time-compressed SPEED times:
# every window, `for` and evaluation interval divided by SPEED, every rate floor multiplied by
# it (a test checks that uncompressed they are the synthesized rules). Three live replicas of
# the backend (tests/e2e/cluster.py) are scraped every second (30s / SPEED) and count their
# users', kubelet probes' and scrapes' requests. What this part proves: routing, inhibition
# and delivery at the right receivers, on Prometheus >= 3.5 and Alertmanager >= 0.28.

SPEED = 30
#: The groups the live estate loads (the telemetry pipeline's need its components' targets).
LIVE_GROUPS = ("recording", "application", "business", "platform")
#: Night-time users: 0.2 req/s, the issue's example; probes and scrapes are ~1 req/s.
USER_RATE = 0.2
RESEND_DELAY = "2s"  # 1m / SPEED: Alertmanager holds an alert 4x this after the last send
FIGURES_LIVE: dict[str, Any] = {}

Event = tuple[str, str, str]  # receiver, alertname, firing|resolved


def _compressed(duration: str, speed: int = SPEED) -> str:
    value = seconds(duration) / speed
    return f"{value:g}s" if value == int(value) else f"{round(value * 1000)}ms"


def compress(settings: Settings, speed: int = SPEED) -> Settings:
    """The same settings running `speed` times faster: windows, `for` and intervals divided,
    rate floors multiplied. Thresholds, selectors and expressions are unchanged."""

    def c(duration: str) -> str:
        return _compressed(duration, speed)

    tuning = {
        name: dataclasses.replace(t, for_=c(t.for_) if t.for_ else None)
        for name, t in settings.tuning.items()
    }
    return dataclasses.replace(
        settings,
        rate_window=c(settings.rate_window),
        signup_baseline_window=c(settings.signup_baseline_window),
        signup_baseline_offset=c(settings.signup_baseline_offset),
        posts_window=c(settings.posts_window),
        application_interval=c(settings.application_interval),
        business_interval=c(settings.business_interval),
        platform_interval=c(settings.platform_interval),
        recording_interval=c(settings.recording_interval),
        absence_lookback={k: c(v) for k, v in settings.absence_lookback.items()},
        min_request_rate=settings.min_request_rate * speed,
        signup_min_rate=settings.signup_min_rate * speed,
        tuning=MappingProxyType(tuning),
    )


def prod_settings() -> Settings:
    return Settings.from_config(stack_config("prod"), source="stacks/Pulumi.prod.yaml")


@dataclass
class LiveEstate:
    prometheus: Server
    alertmanager: Server
    sinks: Sinks
    replicas: list[LiveReplica]
    started: float
    namespace: str


@contextlib.contextmanager
def _live_estate(work: Path) -> Iterator[LiveEstate]:
    """Three backend replicas under kubelet probes and user traffic, scraped by a real
    Prometheus with the prod rules, alerting through a real Alertmanager into sinks."""
    sinks = Sinks()
    sinks.start()
    namespace = stack_config("prod").cluster.namespace
    pods = [LiveReplica(f"backend-7d9f-{i}", free_port(), seed=i) for i in range(3)]
    kubelet = Kubelet(pods, speed=SPEED, max_seconds=900)
    users = Users(pods, rate=USER_RATE, speed=SPEED, max_seconds=900)
    try:
        out = synthesize_prod(work)
        groups = [g for g in build(compress(prod_settings())) if g.name in LIVE_GROUPS]
        rules = work / "rules.yaml"
        rules.write_text(to_yaml(rule_file(groups)), encoding="utf-8")
        am_config = write_alertmanager_config(out, work, sinks)
        for pod in pods:
            pod.start()
        kubelet.start()
        users.start()
        with alertmanager(am_config, work) as am:
            prom_config = work / "prometheus.yaml"
            prom_config.write_text(
                yaml.safe_dump(
                    {
                        "global": {
                            "scrape_interval": "1s",
                            "evaluation_interval": "1s",
                            "external_labels": {"cluster": "bh-prod", "environment": "prod"},
                        },
                        "rule_files": [str(rules)],
                        "scrape_configs": [
                            {
                                "job_name": "backend",
                                # What the ServiceMonitor's relabelling gives each target.
                                "static_configs": [
                                    {
                                        "targets": [f"{LOOPBACK}:{pod.port}"],
                                        "labels": {"namespace": namespace, "pod": pod.name},
                                    }
                                    for pod in pods
                                ],
                            }
                        ],
                        "alerting": {
                            "alertmanagers": [
                                {"static_configs": [{"targets": [f"{LOOPBACK}:{am.port}"]}]}
                            ]
                        },
                    }
                )
            )
            with prometheus(
                prom_config, work, f"--rules.alert.resend-delay={RESEND_DELAY}"
            ) as prom:
                yield LiveEstate(prom, am, sinks, pods, time.monotonic(), namespace)
    finally:
        kubelet.halt()
        users.halt()
        for pod in pods:
            pod.stop()
        sinks.stop()
        if FIGURES_LIVE:
            print("\nscenario figures:", json.dumps(FIGURES_LIVE, indent=2, sort_keys=True))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEstate]:
    with _live_estate(tmp_path_factory.mktemp("scenarios")) as estate:
        yield estate


@pytest.fixture
def own_live(tmp_path: Path) -> Iterator[LiveEstate]:
    """An estate of its own, for a test that stops a part of it."""
    with _live_estate(tmp_path) as estate:
        yield estate


_SLACK_TITLE = re.compile(r"\[(FIRING|RESOLVED)(?::\d+)?\] (\w+)")


def events(sinks: Sinks, since: float, *, heartbeat: bool = False) -> set[Event]:
    """What reached each receiver since `since` (monotonic): (receiver, alertname, status)."""
    found: set[Event] = set()
    for received in list(sinks.pagerduty.received):
        if received.at >= since:
            body = received.body
            status = "firing" if body.get("event_action") == "trigger" else "resolved"
            found.add(("pagerduty", str(body["payload"].get("class")), status))
    for severity, sink in sinks.slack.items():
        for received in list(sink.received):
            if received.at >= since:
                for attachment in received.body.get("attachments", []):
                    match = _SLACK_TITLE.search(attachment.get("title", ""))
                    assert match, attachment
                    found.add((f"slack-{severity}", match[2], match[1].lower()))
    if heartbeat:
        for received in list(sinks.heartbeat.received):
            if received.at >= since:
                for alert in received.body.get("alerts", []):
                    found.add(("heartbeat", alert["labels"]["alertname"], alert["status"]))
    return found


def _query(prom: Server, expr: str) -> list[dict[str, Any]]:
    result = prom.get_json(f"/api/v1/query?query={quote(expr)}")
    return list(result["data"]["result"])


def _arrive(live: LiveEstate, since: float, expected: set[Event], what: str) -> float:
    return wait_until(
        lambda: expected <= events(live.sinks, since),
        timeout=90,
        interval=0.5,
        what=f"{what}: {sorted(expected - events(live.sinks, since))}",
    )


def _settle() -> None:
    """Two group intervals and a rule evaluation: whatever else would be sent, is."""
    time.sleep(6)


def _healthy(live: LiveEstate) -> float:
    """Wait until every replica is scraped, user traffic is recorded and no critical or
    warning alert fires (what an earlier test broke has healed), let whatever that sends
    arrive, and return the instant from which a test's own events count."""
    wait_until(
        lambda: (
            len(_query(live.prometheus, 'up{job="backend"} == 1')) == 3
            and bool(_query(live.prometheus, "job:http_requests:rate10s > 0"))
            and not _query(
                live.prometheus, 'ALERTS{alertstate="firing",severity=~"critical|warning"}'
            )
        ),
        timeout=120,
        what="a healthy estate: three replicas up, traffic recorded, nothing firing",
    )
    _settle()
    return time.monotonic()


def test_uncompressed_the_live_rules_are_the_synthesized_prod_rules(tmp_path: Path) -> None:
    out = synthesize_prod(tmp_path)
    synthesized = {
        g["name"]: g
        for path in sorted((out / "prometheus" / "rules").glob("*.yaml"))
        for g in yaml.safe_load(path.read_text())["groups"]
    }
    built = {g["name"]: g for g in rule_file(build(prod_settings()))["groups"]}
    assert built == synthesized
    assert set(LIVE_GROUPS) <= set(built)


@LIVE
def test_healthy_estate_sends_nothing_but_heartbeats(live: LiveEstate) -> None:
    prom = live.prometheus
    since = _healthy(live)
    window = 40.0  # 20 simulated minutes
    time.sleep(window)
    elapsed = time.monotonic() - since
    assert events(live.sinks, since) == set()
    loud = _query(
        prom,
        'count_over_time(ALERTS{alertstate="firing",severity=~"critical|warning"}'
        f"[{int(elapsed)}s])",
    )
    assert loud == [], loud
    beats = [r.at for r in live.sinks.heartbeat.received if r.at >= since]
    # A beat every repeat + group interval (6 s): the gaps below are the tight check.
    assert len(beats) >= window / 8
    gaps = [b - a for a, b in itertools.pairwise(beats)]
    FIGURES_LIVE["healthy"] = {
        "simulated_minutes": round(elapsed * SPEED / 60),
        "heartbeats": len(beats),
        "max_heartbeat_gap_s": round(max(gaps), 1),
    }
    assert max(gaps) <= 4 + 2 + 1.5  # repeat interval + group interval + scheduling slack


@LIVE
def test_errors_under_probe_traffic_page_and_post_to_the_critical_channel(
    live: LiveEstate,
) -> None:
    since = _healthy(live)
    for pod in live.replicas:
        pod.error_ratio = 0.2
    firing = {
        ("pagerduty", "HighErrorRate", "firing"),
        ("slack-critical", "HighErrorRate", "firing"),
    }
    paged = _arrive(live, since, firing, "the HighErrorRate page")
    # What the seed's expression reads meanwhile: probes and scrapes dilute it below 5%.
    [seed] = _query(live.prometheus, f"({SEED_ERROR_RATIO})".replace("[5m]", "[10s]"))
    [ours] = _query(live.prometheus, 'job:http_request_errors:ratio_rate10s{job="backend"}')
    for pod in live.replicas:
        pod.error_ratio = 0.0
    healed = time.monotonic()
    resolved = {(r, a, "resolved") for r, a, _ in firing}
    _arrive(live, healed, resolved, "the HighErrorRate resolve")
    _settle()
    assert events(live.sinks, since) == firing | resolved
    assert float(seed["value"][1]) < 0.05 < float(ours["value"][1])
    FIGURES_LIVE["errors_under_probes"] = {
        "seconds_to_page": round(paged, 1),
        "seed_ratio": round(float(seed["value"][1]), 3),
        "user_ratio": round(float(ours["value"][1]), 3),
    }


@LIVE
def test_one_replica_down_warns_in_the_warning_channel_only(live: LiveEstate) -> None:
    since = _healthy(live)
    live.replicas[2].stop()
    firing = {("slack-warning", "ServiceReplicaDown", "firing")}
    warned = _arrive(live, since, firing, "the ServiceReplicaDown warning")
    live.replicas[2].start()
    resolved = {("slack-warning", "ServiceReplicaDown", "resolved")}
    _arrive(live, time.monotonic(), resolved, "the ServiceReplicaDown resolve")
    _settle()
    assert events(live.sinks, since) == firing | resolved
    FIGURES_LIVE["one_replica_down"] = {"seconds_to_warning": round(warned, 1)}


def _suppressed(live: LiveEstate, alertname: str) -> list[dict[str, Any]]:
    alerts = live.alertmanager.get_json(
        f"/api/v2/alerts?filter={quote(f'alertname={chr(34)}{alertname}{chr(34)}')}"
    )
    return [
        a for a in alerts if a["status"]["state"] == "suppressed" and a["status"]["inhibitedBy"]
    ]


@LIVE
def test_every_replica_down_pages_once_and_inhibits_the_services_warnings(
    live: LiveEstate,
) -> None:
    since = _healthy(live)
    for pod in live.replicas:
        pod.stop()
    page = {("pagerduty", "ServiceDown", "firing"), ("slack-critical", "ServiceDown", "firing")}
    paged = _arrive(live, since, page, "the ServiceDown page")
    # The three ServiceReplicaDown warnings fire in Prometheus and are inhibited by ServiceDown.
    wait_until(
        lambda: len(_suppressed(live, "ServiceReplicaDown")) == 3,
        timeout=60,
        what="three ServiceReplicaDown alerts inhibited in Alertmanager",
    )
    quiet = _query(
        live.prometheus, 'ALERTS{alertname=~"NoPostsCreated|MetricAbsent|HighErrorRate"}'
    )
    assert quiet == [], quiet
    assert events(live.sinks, since) == page  # nothing reached the warning or info channel
    # Pods come back one at a time: the first ends the outage; the two still down are now
    # plain replica warnings, as they would be in production.
    live.replicas[0].start()
    after = {
        ("pagerduty", "ServiceDown", "resolved"),
        ("slack-critical", "ServiceDown", "resolved"),
        ("slack-warning", "ServiceReplicaDown", "firing"),
    }
    _arrive(live, since, after, "the outage's end")
    for pod in live.replicas[1:]:
        pod.start()
    last = {("slack-warning", "ServiceReplicaDown", "resolved")}
    _arrive(live, since, last, "the last replicas back")
    _settle()
    assert events(live.sinks, since) == page | after | last
    FIGURES_LIVE["all_down"] = {"seconds_to_page": round(paged, 1), "inhibited_warnings": 3}


@LIVE
def test_a_vanished_metric_warns_that_an_alert_is_blind(live: LiveEstate) -> None:
    since = _healthy(live)
    for pod in live.replicas:
        pod.missing = {"http_request_duration_seconds"}
    firing = {("slack-warning", "MetricAbsent", "firing")}
    warned = _arrive(live, since, firing, "the MetricAbsent warning")
    [alert] = _query(live.prometheus, 'ALERTS{alertname="MetricAbsent",alertstate="firing"}')
    assert alert["metric"]["metric"] == "http_request_duration_seconds_bucket"
    assert alert["metric"]["severity"] == "warning"
    for pod in live.replicas:
        pod.missing = set()
    resolved = {("slack-warning", "MetricAbsent", "resolved")}
    _arrive(live, time.monotonic(), resolved, "the MetricAbsent resolve")
    _settle()
    assert events(live.sinks, since) == firing | resolved
    FIGURES_LIVE["vanished_metric"] = {"seconds_to_warning": round(warned, 1)}


def test_prometheus_stopped_stops_the_heartbeat_and_nothing_else_is_sent(
    own_live: LiveEstate,
) -> None:
    live = own_live
    since = _healthy(live)
    wait_until(
        lambda: ("heartbeat", "Watchdog", "firing") in events(live.sinks, since, heartbeat=True),
        timeout=30,
        what="a heartbeat",
    )
    live.prometheus.process.terminate()
    live.prometheus.process.wait(timeout=30)
    stopped = time.monotonic()
    hold = 4 * seconds(RESEND_DELAY)
    time.sleep(hold + 4 + 2 + 20)  # hold, one repeat interval, a group interval, then 20 s
    beats = [r.at for r in live.sinks.heartbeat.received if r.at >= stopped]
    assert all(at <= stopped + hold + 4 + 2 + 1.5 for at in beats), beats
    assert events(live.sinks, since) == set()  # nothing but heartbeats, which stopped
    FIGURES_LIVE["prometheus_stopped"] = {
        "heartbeats_after_stop": len(beats),
        "last_heartbeat_after_stop_s": round(max(beats) - stopped, 1) if beats else None,
        "silent_for_s": round(time.monotonic() - max([stopped, *beats]), 1),
    }
