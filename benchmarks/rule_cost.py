"""What the stack's rule groups cost a real Prometheus to evaluate, group by group.

    python -m benchmarks.rule_cost                    # prod, 3 minutes of evaluations
    python -m benchmarks.rule_cost --stack staging --seconds 120 --interval 5s

The stack is synthesized by the real CLI (`estate synth <stack>`); every rule file of
out/<stack>/prometheus/rules/ is loaded, unchanged but for the groups' evaluation interval
(`--interval`, so that a short run gives many evaluations), into the Prometheus of the tools
folder (`make tools`; the production version) on 127.0.0.1. It scrapes the simulated backend
of the end-to-end tests (job=backend, the seed's metrics, 5% errors) every second. Once every
group has evaluated, Prometheus' own /metrics is read every interval:
`prometheus_rule_group_last_duration_seconds` (wall time of the group's last evaluation) and
`prometheus_rule_group_last_evaluation_samples` per group. The report gives, per group, its
recording rules and alerts, and the median and max duration over the samples.

Without history the series are minutes old, so a `[30d]` or `[3d]` range reads only what
exists: the durations are the rules' fixed cost (parsing, selection, aggregation over one
service's series). `--history-days N` first backfills, with `promtool tsdb
create-blocks-from openmetrics`, N days of the backend's request counters and latency
histogram (a 30s scrape, 1% errors) and 30 days of every SLO's 5m error-ratio record (a 1m
evaluation), ending where the live scrape begins: the long windows then read as many samples
as they would in production for one backend target.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.estates import ROOT
from harness.backend import SimulatedBackend
from harness.servers import LOOPBACK, prometheus, wait_until
from infra.core import durations


@dataclass(frozen=True)
class GroupCost:
    file: str
    group: str
    records: int
    alerts: int
    samples: int
    median_ms: float
    max_ms: float
    evaluations: int


def synth(stack: str, out: Path) -> Path:
    estate = Path(sys.executable).with_name("estate")
    subprocess.run(
        [str(estate), "synth", stack, "--stacks-dir", str(ROOT / "stacks"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return out / stack / "prometheus" / "rules"


def _read_metrics(url: str) -> dict[tuple[str, str], dict[str, float]]:
    """(metric, rule_group label) -> value, for the two rule-group gauges."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as resp:
        body = resp.read().decode()
    wanted = (
        "prometheus_rule_group_last_duration_seconds",
        "prometheus_rule_group_last_evaluation_samples",
        "prometheus_rule_group_last_evaluation_timestamp_seconds",
    )
    out: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name in wanted:
                out[(sample.name, "")][sample.labels["rule_group"]] = sample.value
    return out


#: The backfilled backend's labels (as the live scrape below sets them).
NAMESPACE = "blue-harvest"
BUCKETS = ("0.1", "0.3", "0.5", "0.7", "1", "3", "5", "7", "10", "+Inf")


def _counter_lines(
    name: str, labels: str, per_step: float, *, steps: int, start: int, step: int
) -> Iterator[str]:
    for i in range(steps):
        yield f"{name}{{{labels}}} {per_step * (i + 1):.1f} {start + i * step}\n"


def backfill(rules_dir: Path, data: Path, days: int, end: int) -> int:
    """Write N days of backend series and 30 days of the SLO 5m records into `data` as TSDB
    blocks (real promtool). Returns the number of samples written."""
    base = f'job="backend",namespace="{NAMESPACE}",method="GET",route="/api/posts"'
    step, steps = 30, days * 86400 // 30
    start = end - steps * step
    span = {"steps": steps, "start": start, "step": step}
    lines = ["# TYPE http_requests counter\n"]
    for status, per in (("200", 297.0), ("500", 3.0)):
        lines += _counter_lines(
            "http_requests_total", f'{base},status_code="{status}"', per, **span
        )
    lines.append("# TYPE http_request_duration_seconds histogram\n")
    for status, per in (("200", 297.0), ("500", 3.0)):
        labels = f'{base},status_code="{status}"'
        for le in BUCKETS:
            share = 0.5 if le in ("0.1", "0.3") else 0.995 if le in ("0.5", "0.7", "1") else 1.0
            lines += _counter_lines(
                "http_request_duration_seconds_bucket",
                f'{labels},le="{le}"',
                per * share,
                **span,
            )
        lines += _counter_lines("http_request_duration_seconds_count", labels, per, **span)
        lines += _counter_lines("http_request_duration_seconds_sum", labels, per * 0.2, **span)
    record_labels = []
    for path in sorted(rules_dir.glob("*.yaml")):
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            for rule in group.get("rules", []):
                if rule.get("record") == "slo:sli_error:ratio_rate5m":
                    extra = ",".join(
                        f'{k}="{v}"' for k, v in sorted(rule.get("labels", {}).items())
                    )
                    record_labels.append(f'job="backend",namespace="{NAMESPACE}",{extra}')
    if record_labels:
        lines.append("# TYPE slo:sli_error:ratio_rate5m gauge\n")
        rstep, rsteps = 60, 30 * 86400 // 60
        for labels in record_labels:
            lines += (
                f"slo:sli_error:ratio_rate5m{{{labels}}} 0.01 {end - rsteps * rstep + i * rstep}\n"
                for i in range(rsteps)
            )
    lines.append("# EOF\n")
    source = data.parent / "history.om"
    source.write_text("".join(lines))
    from infra.tools import tool_path

    subprocess.run(
        [
            tool_path("promtool"),
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=24h",
            str(source),
            str(data),
        ],
        check=True,
        capture_output=True,
    )
    return sum(1 for line in lines if not line.startswith("#"))


#: What the longest windows read at the end of a run (printed, to show the backfill is read).
WINDOW_READS = (
    ("one 5m record series over 30d", "max(count_over_time(slo:sli_error:ratio_rate5m[30d]))"),
    (
        "one request counter series over 3d",
        'max(count_over_time(http_requests_total{job="backend"}[3d]))',
    ),
)


def measure(stack: str, seconds: float, interval: str, history_days: int = 0) -> list[GroupCost]:
    with tempfile.TemporaryDirectory(prefix="rule-cost-") as tmp:
        work = Path(tmp)
        rules_dir = synth(stack, work / "out")
        if history_days:
            written = backfill(rules_dir, work / "prom-data", history_days, int(time.time()) - 60)
            sys.stderr.write(f"backfilled {written} samples\n")
        counts: dict[str, tuple[str, str, int, int]] = {}
        rule_files = []
        for path in sorted(rules_dir.glob("*.yaml")):
            doc: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
            for group in doc.get("groups", []):
                group["interval"] = interval
                rules = group.get("rules", [])
                key = f"{work / path.name};{group['name']}"
                counts[key] = (
                    path.name,
                    group["name"],
                    sum("record" in r for r in rules),
                    sum("alert" in r for r in rules),
                )
            target = work / path.name
            target.write_text(yaml.safe_dump(doc, sort_keys=False))
            rule_files.append(str(target))
        backend = SimulatedBackend(max_seconds=seconds + 120)
        backend.error_ratio = 0.05
        backend.start()
        try:
            config = work / "prometheus.yml"
            config.write_text(
                yaml.safe_dump(
                    {
                        "global": {"scrape_interval": "1s", "evaluation_interval": interval},
                        "rule_files": rule_files,
                        "scrape_configs": [
                            {
                                "job_name": "backend",
                                "static_configs": [
                                    {
                                        "targets": [f"{LOOPBACK}:{backend.port}"],
                                        "labels": {"namespace": NAMESPACE},
                                    }
                                ],
                            }
                        ],
                    }
                )
            )
            with prometheus(config, work, "--storage.tsdb.retention.time=60d") as prom:

                def evaluated() -> bool:
                    stamps = _read_metrics(prom.url)[
                        ("prometheus_rule_group_last_evaluation_timestamp_seconds", "")
                    ]
                    return len(stamps) == len(counts) and all(v > 0 for v in stamps.values())

                wait_until(evaluated, timeout=120, what="every rule group to evaluate once")
                durations: dict[str, list[float]] = defaultdict(list)
                samples: dict[str, float] = {}
                seen: dict[str, set[float]] = defaultdict(set)
                step = _seconds(interval)
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    m = _read_metrics(prom.url)
                    stamps = m[("prometheus_rule_group_last_evaluation_timestamp_seconds", "")]
                    last = m[("prometheus_rule_group_last_duration_seconds", "")]
                    for key, stamp in stamps.items():
                        if stamp not in seen[key]:
                            seen[key].add(stamp)
                            durations[key].append(last[key])
                    samples.update(m[("prometheus_rule_group_last_evaluation_samples", "")])
                    time.sleep(step / 2)
                for name, expr in WINDOW_READS:
                    with urllib.request.urlopen(
                        f"{prom.url}/api/v1/query?query={quote(expr)}", timeout=10
                    ) as resp:
                        result = json.load(resp)["data"]["result"]
                    read = int(float(result[0]["value"][1])) if result else 0
                    sys.stderr.write(f"{name}: {read} samples\n")
                # Each rule's own last evaluation time, for the slowest rules of every group.
                rules = prom.get_json("/api/v1/rules")["data"]["groups"]
                slowest = sorted(
                    (
                        (r["evaluationTime"], g["name"], r["name"])
                        for g in rules
                        for r in g["rules"]
                    ),
                    reverse=True,
                )[:8]
                for seconds_, group_name, rule_name in slowest:
                    sys.stderr.write(f"{group_name} {rule_name}: {seconds_ * 1000:.2f} ms\n")
        finally:
            backend.stop()
    return [
        GroupCost(
            file=file,
            group=group,
            records=records,
            alerts=alerts,
            samples=int(samples.get(key, 0)),
            median_ms=statistics.median(durations[key]) * 1000,
            max_ms=max(durations[key]) * 1000,
            evaluations=len(durations[key]),
        )
        for key, (file, group, records, alerts) in sorted(counts.items())
    ]


def _seconds(interval: str) -> float:
    """An --interval as seconds, by the project's one duration parser."""
    try:
        return durations.seconds(interval)
    except durations.DurationError as err:
        raise ValueError(f"--interval: {err}") from None


def report(stack: str, costs: list[GroupCost], version: str) -> str:
    lines = [
        f"Rule groups of `{stack}` on {version} (one backend scraped every 1s, 5% errors):",
        "",
        "| group | records | alerts | samples/eval | evaluations | median ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {c.group} | {c.records} | {c.alerts} | {c.samples} | {c.evaluations}"
        f" | {c.median_ms:.2f} | {c.max_ms:.2f} |"
        for c in costs
    ]
    return "\n".join(lines) + "\n"


def _version() -> str:
    from infra.tools import tool_path

    out = subprocess.run(
        [tool_path("prometheus"), "--version"], check=True, capture_output=True, text=True
    )
    first = (out.stdout or out.stderr).splitlines()[0]
    return " ".join(first.split()[:3])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--interval", default="5s")
    parser.add_argument("--history-days", type=int, default=0)
    args = parser.parse_args(argv)
    _seconds(args.interval)
    costs = measure(args.stack, args.seconds, args.interval, args.history_days)
    sys.stdout.write(report(args.stack, costs, _version()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
