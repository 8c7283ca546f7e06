"""The application group: the seed's HTTP, database, cache and availability alerts.

Paging follows symptoms users see (docs/alerting.md lists every deviation from the seed):

- HighErrorRate and SlowResponseTime read user traffic only: the recording rules leave out
  the kubelet's probes and Prometheus' scrapes, which the seed's middleware counts. Below
  `Settings.min_request_rate` user requests per second they do not judge (two failures of ten
  requests are noise, not an outage).
- ServiceDown pages when the share of a service's replicas that are up, per namespace, is at
  or below its threshold (0: no replica left), not for each unreachable instance: the seed
  paged for one pod of three restarting at 3 a.m. One replica down for 5m is
  ServiceReplicaDown, a warning.

Other corrections: SlowResponseTime reads the p95 of the service (`sum by (cluster, namespace, job,
le)` before `histogram_quantile`, via the recording rules) instead of one quantile per series;
DatabasePoolExhaustion ignores a pool whose maximum is 0 rather than dividing by it; the
ratios (error, cache hit) come from recording rules that read a missing 5xx or hit counter as
0, so LowCacheHitRate fires when the cache only misses. ServiceDown and ServiceReplicaDown
cover every service with a /metrics target in one rule each (`job=~` all their jobs, grouped
by job), so their cost does not grow with the services; the `service` label is the series'
job, so it still says which one is down, and they keep `namespace`, which Alertmanager's
outage inhibition matches together with `service`.
"""

from __future__ import annotations

from alerts.recording import records
from alerts.settings import Settings
from infra.catalog import dashboard_refs as panels
from infra.rules import AlertRule, RuleError, RuleGroup
from infra.text import num

GROUP = "application"


def with_enough_traffic(s: Settings, condition: str) -> str:
    """`condition`, where the service serves at least `min_request_rate` user requests/s."""
    r = records(s)
    floor = f"{r.requests}{s.backend_selector} >= {num(s.min_request_rate)}"
    return f"{condition}\nand on ({s.by})\n{floor}"


def high_error_rate(s: Settings) -> AlertRule:
    r = records(s)
    return s.alert(
        "HighErrorRate",
        expr=with_enough_traffic(
            s, f"{r.error_ratio}{s.backend_selector} > {s.threshold('HighErrorRate')}"
        ),
        severity="critical",
        service=s.backend,
        summary="High error rate detected",
        description=(
            "{{ $value | humanizePercentage }} of "
            f"{s.backend} user requests failed with a 5xx status over the last {s.rate_window}."
        ),
        panel=panels.ERROR_RATE,
    )


def slow_response_time(s: Settings) -> AlertRule:
    r = records(s)
    if s.alert_quantile not in s.recorded_quantiles:
        raise RuleError("SlowResponseTime", f"quantile {s.alert_quantile} is not recorded")
    q = num(s.alert_quantile)
    selector = s.selector(s.backend, s.matcher("quantile", q))
    return s.alert(
        "SlowResponseTime",
        expr=with_enough_traffic(s, f"{r.latency}{selector} > {s.threshold('SlowResponseTime')}"),
        severity="warning",
        service=s.backend,
        summary="Slow response time",
        description=(
            f"p{num(s.alert_quantile * 100)} {s.backend} response time is "
            "{{ $value | humanizeDuration }}"
            f" over the last {s.rate_window}."
        ),
        panel=panels.RESPONSE_TIME,
    )


def database_pool_exhaustion(s: Settings) -> AlertRule:
    sel = s.backend_selector
    return s.alert(
        "DatabasePoolExhaustion",
        expr=f"""
            db_pool_active_connections{sel}
            /
            (db_pool_max_connections{sel} > 0)
            > {s.threshold("DatabasePoolExhaustion")}
        """,
        severity="warning",
        service=s.backend,
        summary="Database connection pool nearly exhausted",
        description=(
            "{{ $labels.instance }} is using {{ $value | humanizePercentage }}"
            " of its database pool connections."
        ),
        panel=panels.CONNECTION_POOL,
    )


def low_cache_hit_rate(s: Settings) -> AlertRule:
    r = records(s)
    return s.alert(
        "LowCacheHitRate",
        expr=f"{r.cache_hit_ratio}{s.backend_selector} < {s.threshold('LowCacheHitRate')}",
        severity="info",
        service=s.backend,
        summary="Low cache hit rate",
        description=(
            "Only {{ $value | humanizePercentage }} of "
            f"{s.backend} cache lookups hit over the last {s.rate_window}."
        ),
        panel=panels.CACHE_HIT_RATE,
    )


#: The `service` label of the alerts shared by every service: the series' job, which is the
#: service (`Settings.job(service) == service`), so each alert names the one that is down.
SERVICE_FROM_JOB = "{{ $labels.job }}"


def scraped_selector(s: Settings) -> str:
    """`{job=~"backend|frontend"}`: every service with a /metrics target, in one selector.

    One rule over all of them, grouped by job, costs Prometheus one evaluation where a rule
    per service cost one per service (benchmarks/README.md: 1.3 KB of rules and ~0.1 ms per
    evaluation per service). Prometheus anchors the regular expression; job names are service
    names, DNS labels, which hold no RE2 metacharacter. Not `namespace`: other jobs (the
    exporters, the telemetry pipeline) may share it.
    """
    jobs = "|".join(sorted({s.job(service) for service in s.services}))
    return "{" + s.matcher("job", jobs, "=~") + "}"


def service_down(s: Settings) -> AlertRule:
    up = f"up{scraped_selector(s)}"
    share = s.threshold_value("ServiceDown")
    when = "no replica is up" if share == 0 else f"{share:.0%} or fewer of its replicas are up"
    return s.alert(
        "ServiceDown",
        expr=f"""
            sum by ({s.by}) ({up})
            /
            count by ({s.by}) ({up})
            <= {s.threshold("ServiceDown")}
        """,
        severity="critical",
        service=SERVICE_FROM_JOB,
        service_from_label=True,
        # "Backend service is down": the job with its first letter upper-cased, as
        # str.capitalize() wrote it when the rule was per service (`title` would write
        # "User-Api" for user-api).
        summary="{{ slice $labels.job 0 1 | toUpper }}{{ slice $labels.job 1 }} service is down",
        description=(
            "{{ $value | humanizePercentage }} of the scrape targets of job"
            " {{ $labels.job }} in namespace {{ $labels.namespace }} are up"
            f" (it pages when {when})."
        ),
        panel=panels.SCRAPE_TARGETS,
    )


def service_replica_down(s: Settings) -> AlertRule:
    return s.alert(
        "ServiceReplicaDown",
        expr=f"up{scraped_selector(s)} == 0",
        severity="warning",
        service=SERVICE_FROM_JOB,
        service_from_label=True,
        summary="A {{ $labels.job }} replica is down",
        description=(
            "Prometheus cannot scrape {{ $labels.instance }}"
            " of job {{ $labels.job }}: the replica is down or not serving /metrics. The"
            " other replicas still serve; ServiceDown pages when none is left."
        ),
        panel=panels.SCRAPE_TARGETS,
    )


def group(s: Settings) -> RuleGroup:
    return RuleGroup(
        name=GROUP,
        interval=s.application_interval,
        rules=(
            high_error_rate(s),
            slow_response_time(s),
            database_pool_exhaustion(s),
            low_cache_hit_rate(s),
            service_down(s),
            service_replica_down(s),
        ),
    )
