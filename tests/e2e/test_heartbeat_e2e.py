"""The dead man's switch, end to end: the prod stack's Watchdog reaches the heartbeat URL (read
from its secret file) at its interval, and the pings stop when Prometheus dies.

Real Prometheus and Alertmanager on 127.0.0.1, the prod stack's synthesized rules and
Alertmanager config (test-only changes in tests/e2e/prod_estate.py). Two more test-only
timings: the Watchdog's repeat interval is HEARTBEAT_REPEAT instead of `heartbeatInterval`
(5m), and Prometheus re-sends firing alerts every second (`--rules.alert.resend-delay=1s`,
default 1m), so Alertmanager considers the Watchdog resolved 4 s (4 x max(resend delay,
evaluation interval)) after Prometheus' last send instead of 4 minutes.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from harness.backend import SimulatedBackend
from harness.servers import LOOPBACK, Server, alertmanager, prometheus, wait_until
from tests.e2e.prod_estate import (
    GROUP_INTERVAL,
    Sinks,
    seconds,
    synthesize_prod,
    write_alertmanager_config,
    write_prometheus_config,
    write_rules,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-heartbeat")]

HEARTBEAT_REPEAT = "4s"
RESEND_DELAY = "1s"
#: How long Alertmanager keeps an alert firing after Prometheus' last send of it.
ALERT_HOLD = 4 * seconds(RESEND_DELAY)
#: A heartbeat comes at the first group-interval tick after the repeat interval has passed.
PERIOD_MAX = seconds(HEARTBEAT_REPEAT) + seconds(GROUP_INTERVAL)
FIGURES: dict[str, Any] = {}


@dataclass
class Pipeline:
    prometheus: Server
    alertmanager: Server
    sinks: Sinks


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    work = tmp_path_factory.mktemp("heartbeat")
    sinks = Sinks()
    backend = SimulatedBackend(max_seconds=180)
    sinks.start()
    try:
        out = synthesize_prod(work)
        rules = write_rules(out, work)
        am_config = write_alertmanager_config(out, work, sinks, heartbeat_repeat=HEARTBEAT_REPEAT)
        backend.start()
        with alertmanager(am_config, work) as am:
            prom_config = write_prometheus_config(
                work, rules, am.port, f"{LOOPBACK}:{backend.port}"
            )
            with prometheus(
                prom_config, work, f"--rules.alert.resend-delay={RESEND_DELAY}"
            ) as prom:
                yield Pipeline(prom, am, sinks)
    finally:
        backend.stop()
        sinks.stop()
        if FIGURES:
            print("\nheartbeat e2e figures:", json.dumps(FIGURES, indent=2, sort_keys=True))


def _pings(pipeline: Pipeline) -> list[float]:
    """Arrival times of the Watchdog notifications at the heartbeat URL."""
    return [
        r.at
        for r in list(pipeline.sinks.heartbeat.received)
        if r.path == "/ping/e2e" and r.body.get("commonLabels", {}).get("alertname") == "Watchdog"
    ]


def test_the_heartbeat_arrives_at_its_interval_then_stops_with_prometheus(
    pipeline: Pipeline,
) -> None:
    wait_until(lambda: len(_pings(pipeline)) >= 4, timeout=60, what="four heartbeats")
    pings = _pings(pipeline)
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    repeat = seconds(HEARTBEAT_REPEAT)
    # Never faster than the repeat interval, never slower than the next tick after it.
    assert all(repeat - 0.5 <= gap <= PERIOD_MAX + 1.5 for gap in gaps), gaps
    (first,) = pipeline.sinks.heartbeat.bodies()[:1]
    assert first["status"] == "firing"
    assert first["receiver"] == "heartbeat"
    assert not any(b for sink in pipeline.sinks.slack.values() for b in sink.bodies())
    assert not pipeline.sinks.pagerduty.bodies()  # the heartbeat never pages

    # Prometheus dies: nothing sends the Watchdog any more.
    pipeline.prometheus.process.kill()
    pipeline.prometheus.process.wait(timeout=10)
    killed = time.monotonic()
    # Alertmanager holds the alert ALERT_HOLD after the last send, so one more ping may come.
    settle = ALERT_HOLD + PERIOD_MAX + 1.0
    time.sleep(settle)
    after_settle = len(_pings(pipeline))
    silence = 2.5 * PERIOD_MAX
    time.sleep(silence)
    late = [t - killed for t in _pings(pipeline) if t > killed]
    assert len(_pings(pipeline)) == after_settle, f"heartbeats after the silence began: {late}"
    assert all(t <= settle for t in late), late
    assert not [
        b
        for b in pipeline.sinks.heartbeat.bodies()
        if b.get("status") == "resolved"  # send_resolved is off: silence is the signal
    ]
    FIGURES["heartbeat"] = {
        "repeat_interval_s": repeat,
        "gaps_s": [round(g, 1) for g in gaps],
        "pings_after_kill": len(late),
        "last_ping_after_kill_s": round(max(late), 1) if late else None,
        "silent_for_s": round(silence, 1),
    }
