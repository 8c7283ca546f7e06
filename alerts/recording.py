"""Recording rules for the seed's dashboard queries (section 2, "Example PromQL Queries").

Names follow Prometheus' level:metric:operations convention; every record keeps the `cluster`,
`namespace` and `job` of its series (`Settings.service_labels`), so that the alerts built on
them carry the labels Alertmanager's outage inhibition matches, and so that the same rules over
a store several clusters write to (their series carry the `cluster` external label) keep the
clusters apart. In the cluster's own Prometheus the series have no `cluster` label and the
records are what they were without it. The request, error and latency records are user-facing
SLIs: they leave out the kubelet's probes and Prometheus' scrapes (`Settings.excluded_routes`
of `Settings.route_label`), which the seed's middleware counts like any request. Three replicas
probed every 5s and 10s and scraped make ~0.9 req/s of 200s that dilute a real 20% error ratio
among 0.2 req/s of users to 3.6%, and pull p95 down.

Two of the seed's queries are corrected here: `histogram_quantile` is taken over `sum by
(cluster, namespace, job, le)` of the bucket rates (the seed's bare form gives one quantile per
series, not one for the service), and counters that prom-client creates only on their first
increment (5xx responses, cache hits and misses) are padded with `or 0 * <other side>`, so that
"no 5xx yet" reads as a 0% error ratio and "misses but no hit yet" as a 0% hit ratio rather
than as no data, which no alert can fire on.

With no traffic at all, a ratio is 0/0 = NaN: it compares false, so the alerts on it stay
silent, which is what an idle service deserves.
"""

from __future__ import annotations

from dataclasses import dataclass

from alerts.settings import Settings
from infra.rules import RecordingRule, RuleGroup
from infra.text import num

GROUP = "recording"


@dataclass(frozen=True)
class Records:
    """The recorded series' names, for the alerts (and dashboards) that read them."""

    requests: str
    errors: str
    error_ratio: str
    latency_buckets: str
    latency: str
    cache_hits: str
    cache_misses: str
    cache_hit_ratio: str
    signups: str
    db_latency: str


def records(s: Settings) -> Records:
    w = s.rate_window
    return Records(
        requests=f"job:http_requests:rate{w}",
        errors=f"job:http_request_errors:rate{w}",
        error_ratio=f"job:http_request_errors:ratio_rate{w}",
        latency_buckets=f"job_le:http_request_duration_seconds_bucket:rate{w}",
        latency="job_quantile:http_request_duration_seconds:histogram_quantile",
        cache_hits=f"job:cache_hits:rate{w}",
        cache_misses=f"job:cache_misses:rate{w}",
        cache_hit_ratio=f"job:cache_hits:ratio_rate{w}",
        signups=f"job:user_signups:rate{w}",
        db_latency="job_table_quantile:db_query_duration_seconds:histogram_quantile",
    )


def _rate(s: Settings, metric: str, *matchers: str, by: str = "") -> str:
    labels = ", ".join(x for x in (s.by, by) if x)
    return f"sum by ({labels}) (rate({metric}{s.selector(s.backend, *matchers)}[{s.rate_window}]))"


def group(s: Settings) -> RuleGroup:
    r = records(s)
    sel = s.backend_selector
    user = s.user_traffic_matcher
    hits = _rate(s, "cache_hits_total")
    misses = _rate(s, "cache_misses_total")
    rules = [
        RecordingRule(record=r.requests, expr=_rate(s, "http_requests_total", user)),
        RecordingRule(
            record=r.errors,
            expr=f"""
                {_rate(s, "http_requests_total", user, s.error_matcher)}
                or
                0 * {r.requests}{sel}
            """,
        ),
        RecordingRule(record=r.error_ratio, expr=f"{r.errors}{sel} / {r.requests}{sel}"),
        RecordingRule(
            record=r.latency_buckets,
            expr=_rate(s, "http_request_duration_seconds_bucket", user, by="le"),
        ),
        *(
            RecordingRule(
                record=r.latency,
                expr=f"histogram_quantile({num(q)}, {r.latency_buckets}{sel})",
                labels={"quantile": num(q)},
            )
            for q in s.recorded_quantiles
        ),
        RecordingRule(record=r.cache_hits, expr=f"{hits}\nor\n0 * {misses}"),
        RecordingRule(record=r.cache_misses, expr=f"{misses}\nor\n0 * {hits}"),
        RecordingRule(
            record=r.cache_hit_ratio,
            expr=f"{r.cache_hits}{sel}\n/\n({r.cache_hits}{sel} + {r.cache_misses}{sel})",
        ),
        RecordingRule(record=r.signups, expr=_rate(s, "user_signups_total")),
        RecordingRule(
            record=r.db_latency,
            expr=f"""
                histogram_quantile(
                  {num(s.db_quantile)},
                  {_rate(s, "db_query_duration_seconds_bucket", by="table, le")}
                )
            """,
            labels={"quantile": num(s.db_quantile)},
        ),
    ]
    return RuleGroup(name=GROUP, interval=s.recording_interval, rules=tuple(rules))
