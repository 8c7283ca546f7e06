"""The one settings object every rule reads: selectors, windows, thresholds and links.

As in kubernetes-mixin's config.libsonnet, nothing a rule depends on is written inline: the
job selectors, the rate window, each alert's threshold and `for` window live here, each with
a default and a comment, and an environment changes them through
`blue-harvest:alerting.overrides.<AlertName>` (threshold and `for` only).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from alerts.slos import Slo, slos_from_config
from infra.catalog.dashboard_refs import PanelRef
from infra.config.errors import ConfigError, ConfigProblem
from infra.config.model import AlertingConfig, AlertOverride, EstateConfig
from infra.core.labels import is_label_name
from infra.naming import PROJECT
from infra.rules import AlertRule, RuleError, Severity, check_duration
from infra.text import num


@dataclass(frozen=True)
class Threshold:
    """An alert's threshold and the open interval an override must stay within."""

    value: float
    #: What the number means, for the error an out-of-range override gets.
    meaning: str
    above: float = 0.0
    below: float | None = None
    #: True when `above` itself is allowed (ServiceDown's 0: "no replica up").
    from_above: bool = False

    def problem(self, value: float) -> str | None:
        low = value < self.above if self.from_above else value <= self.above
        if low or (self.below is not None and value >= self.below):
            return f"{value:g} is out of range: the threshold is {self.meaning}"
        return None


@dataclass(frozen=True)
class Tuning:
    """What an environment may change about one alert."""

    for_: str | None
    threshold: Threshold | None = None
    #: False for the Watchdog heartbeat: delaying or gating it defeats its purpose.
    overridable: bool = True


#: Every alert the estate declares, with its seed `for` window and threshold. The alert
#: modules read their numbers from here; `alerting.overrides` may name only these alerts.
DEFAULT_TUNING: Mapping[str, Tuning] = MappingProxyType(
    {
        "HighErrorRate": Tuning(
            "5m", Threshold(0.05, "the share of requests answered 5xx, between 0 and 1", 0, 1)
        ),
        "SlowResponseTime": Tuning("10m", Threshold(2.0, "a latency in seconds, above 0")),
        "DatabasePoolExhaustion": Tuning(
            "5m", Threshold(0.9, "the share of pool connections in use, between 0 and 1", 0, 1)
        ),
        "LowCacheHitRate": Tuning(
            "15m", Threshold(0.5, "the share of cache lookups that hit, between 0 and 1", 0, 1)
        ),
        # Seed: `up == 0` per instance, so one replica of three restarting paged. Now the
        # share of the service's replicas that are up, per namespace: it pages at or below
        # this share (0: no replica left). One replica down is ServiceReplicaDown's warning.
        "ServiceDown": Tuning(
            "1m",
            Threshold(
                0.0,
                "the largest share of a service's replicas up that still counts as down,"
                " from 0 (none up) to below 1",
                0,
                1,
                from_above=True,
            ),
        ),
        # Not in the seed: one replica down for longer than a pod restart takes.
        "ServiceReplicaDown": Tuning("5m"),
        "SignupSpike": Tuning(
            "10m", Threshold(3.0, "how many times the baseline rate counts as a spike, above 1", 1)
        ),
        "NoPostsCreated": Tuning(
            "1h", Threshold(1.0, "the fewest posts expected per window, above 0")
        ),
        "Watchdog": Tuning(None, overridable=False),
        "ScrapeTargetMissing": Tuning("5m"),
        # Not in the seed: a metric some alert reads is gone while its target is up.
        "MetricAbsent": Tuning("10m"),
        # Not in the seed: the telemetry pipeline's own health (alerts/pipeline.py), warnings.
        "PipelineTargetDown": Tuning("10m"),
        "CollectorRefusingSpans": Tuning("10m"),
        "CollectorExportFailing": Tuning("10m"),
        "JaegerStorageFailing": Tuning("10m"),
        "LokiPushErrors": Tuning(
            "10m", Threshold(0.05, "the share of pushes answered 5xx, between 0 and 1", 0, 1)
        ),
        "LokiDiscardingLogs": Tuning("15m"),
        "AlloyComponentUnhealthy": Tuning("15m"),
        "AlloyDroppingLogs": Tuning("10m"),
    }
)


#: A Kubernetes namespace name (a DNS label).
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Selectors, windows, thresholds and link targets for every rule. Defaults are the seed's."""

    #: The namespace the workloads run in (`cluster.namespace`). Series that do not come
    #: from the services' own targets (the kubelet's `container_*`, kube-state-metrics'
    #: `kube_pod_*`) are told apart only by it: select them with `container_selector`, never
    #: with a namespace written into a rule.
    namespace: str = "blue-harvest"
    #: The service whose metrics (seed section 2: http_*, db_*, cache_*, signups, posts) the
    #: application, business and recording rules read.
    backend: str = "backend"
    #: Every service with a /metrics target; each gets ServiceDown, ServiceReplicaDown and
    #: ScrapeTargetMissing.
    services: tuple[str, ...] = ("backend", "frontend")
    #: The labels a service-level series keeps: the cluster, the namespace its
    #: ServiceMonitor's targets carry and the job. Alertmanager's outage inhibition matches
    #: `namespace` and `service`, so every aggregation keeps them. `cluster` is Prometheus's
    #: external label: absent in the cluster's own TSDB, where the rules run (grouping by an
    #: absent label changes no output), present on every series in a store several clusters
    #: write to (metrics.store amp), where the same rules then never add clusters together.
    service_labels: tuple[str, ...] = ("cluster", "namespace", "job")
    #: The label the seed's metrics middleware puts the route in (`req.route?.path`).
    route_label: str = "route"
    #: Routes that are not user traffic: the kubelet's probes (seed section 5: /health,
    #: /health/ready, /health/startup) and Prometheus' scrapes (/metrics). The middleware
    #: counts them like any request; the SLIs (request, error and latency records) leave them
    #: out. RE2 patterns, anchored by Prometheus.
    excluded_routes: tuple[str, ...] = ("/health", "/health/.*", "/metrics")
    #: Below this rate of user requests per second (over `rate_window`), HighErrorRate and
    #: SlowResponseTime do not judge: two failures of ten requests are not an outage.
    #: 0.1/s is 30 requests in 5m, where one 5xx is 3.3%.
    min_request_rate: float = 0.1
    #: The window of every rate() and histogram_quantile() (seed: 5m).
    rate_window: str = "5m"
    #: status_code values that count as errors (seed: 5..).
    error_status: str = "5.."
    #: The latency quantile SlowResponseTime watches (seed: p95).
    alert_quantile: float = 0.95
    #: The latency quantiles recorded for the Application Overview dashboard.
    recorded_quantiles: tuple[float, ...] = (0.5, 0.95, 0.99)
    #: The database query-duration quantile recorded per table (seed: p95).
    db_quantile: float = 0.95
    #: SignupSpike's baseline: the average signup rate over this window...
    signup_baseline_window: str = "1h"
    #: ...ending this long ago, so that a spike is not averaged into its own baseline before
    #: it has lasted `for` (10m) plus a rate window (5m).
    signup_baseline_offset: str = "15m"
    #: Below this many signups per second a multiple of the baseline is noise (0 -> 1 signup
    #: is an infinite spike): 0.05/s is 3 a minute.
    signup_min_rate: float = 0.05
    #: NoPostsCreated's window (seed: 1h).
    posts_window: str = "1h"
    #: Evaluation intervals (seed: application 30s, business 1m).
    application_interval: str = "30s"
    business_interval: str = "1m"
    platform_interval: str = "30s"
    #: How long a metric that prom-client creates on its first increment (a labelled counter
    #: of rare events) may be missing before MetricAbsent counts it as vanished: after a
    #: restart, posts_created_total{post_type} has no series until the first post.
    absence_lookback: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType(
            {"posts_created_total": "1h", "cache_hits_total": "1h", "cache_misses_total": "1h"}
        )
    )
    recording_interval: str = "30s"
    #: Alert links: `<runbook_base_url>/<AlertName>` and a Grafana panel URL.
    # The config's defaults (alerting.runbookBaseUrl, alerting.grafanaUrl), written once there.
    runbook_base_url: str = AlertingConfig.model_fields["runbook_base_url"].default
    grafana_url: str = AlertingConfig.model_fields["grafana_url"].default
    tuning: Mapping[str, Tuning] = field(default_factory=lambda: DEFAULT_TUNING)
    #: The stack's service level objectives (`blue-harvest:slos`, alerts/slos.py): the SLO
    #: group's records and burn-rate alerts. None by default (dev and local have none).
    slos: tuple[Slo, ...] = ()

    def __post_init__(self) -> None:
        if not is_label_name(self.route_label):
            raise RuleError("settings", f"route_label {self.route_label!r} is no label name")
        if not self.excluded_routes or not all(self.excluded_routes):
            raise RuleError("settings", "excluded_routes needs at least one non-empty route")
        if self.min_request_rate < 0:
            raise RuleError("settings", "min_request_rate is a rate of requests/s, at least 0")
        if "job" not in self.service_labels:
            raise RuleError("settings", "service_labels must keep `job`")
        if not _NAMESPACE.fullmatch(self.namespace):
            raise RuleError("settings", f"namespace {self.namespace!r} is no Kubernetes namespace")
        for series, window in self.absence_lookback.items():
            check_duration(f"settings: absence_lookback.{series}", "window", window)

    # --- selectors -------------------------------------------------------------------------

    def job(self, service: str) -> str:
        """The `job` label of a service's target: the ServiceMonitor sets job=<service>."""
        return service

    def selector(self, service: str, *matchers: str) -> str:
        """`{job="<service>",<matchers>}` for a service's series."""
        return "{" + ",".join((self.matcher("job", self.job(service)), *matchers)) + "}"

    def container_selector(self, service: str, *matchers: str) -> str:
        """`{namespace="<cluster.namespace>",container="<service>",<matchers>}`: a service's
        containers in the series of the kubelet (cAdvisor) and kube-state-metrics, which carry
        the pod's namespace and container name but not the service's job."""
        scope = (self.matcher("namespace", self.namespace), self.matcher("container", service))
        return "{" + ",".join((*scope, *matchers)) + "}"

    @staticmethod
    def matcher(label: str, value: str, op: str = "=") -> str:
        """One label matcher, `label="value"`, with the value quoted as PromQL needs."""
        return f"{label}{op}{_quote(value)}"

    @property
    def backend_selector(self) -> str:
        return self.selector(self.backend)

    @property
    def error_matcher(self) -> str:
        return self.matcher("status_code", self.error_status, "=~")

    @property
    def user_traffic_matcher(self) -> str:
        """`route!~"<probe and scrape routes>"`: what the SLIs count as user requests."""
        return self.matcher(self.route_label, "|".join(self.excluded_routes), "!~")

    @property
    def by(self) -> str:
        """`cluster, namespace, job`: the grouping every service-level aggregation keeps."""
        return ", ".join(self.service_labels)

    def up(self, service: str) -> str:
        """`max by (cluster, namespace, job) (up{job=...} == 1)`: 1 where the service has a
        live target."""
        return f"max by ({self.by}) (up{self.selector(service)} == 1)"

    # --- tuning ----------------------------------------------------------------------------

    def threshold(self, alert: str) -> str:
        """The alert's threshold, formatted for PromQL."""
        return num(self.threshold_value(alert))

    def threshold_value(self, alert: str) -> float:
        threshold = self._tuning(alert).threshold
        if threshold is None:
            raise RuleError(alert, "has no threshold in the settings")
        return threshold.value

    def _tuning(self, alert: str) -> Tuning:
        try:
            return self.tuning[alert]
        except KeyError:
            raise RuleError(alert, "is not declared in the settings' tuning table") from None

    def alert(
        self,
        name: str,
        *,
        expr: str,
        severity: Severity,
        service: str,
        summary: str,
        description: str,
        panel: PanelRef,
        labels: Mapping[str, str] | None = None,
        service_from_label: bool = False,
    ) -> AlertRule:
        """An AlertRule with its `for`, runbook and dashboard link filled in from here."""
        return AlertRule(
            name=name,
            expr=expr,
            for_=self._tuning(name).for_,
            severity=severity,
            service=service,
            summary=summary,
            description=description,
            runbook_url=f"{self.runbook_base_url.rstrip('/')}/{name}",
            dashboard=panel.url(self.grafana_url),
            labels=labels or {},
            service_from_label=service_from_label,
        )

    # --- overrides -------------------------------------------------------------------------

    def with_overrides(self, overrides: Mapping[str, AlertOverride], *, source: str) -> Settings:
        """These settings with `alerting.overrides` applied; every bad override is reported."""
        key = f"{PROJECT}:alerting.overrides"
        known = ", ".join(sorted(n for n, t in self.tuning.items() if t.overridable))
        problems: list[ConfigProblem] = []
        tuning = dict(self.tuning)
        for name, override in sorted(overrides.items()):
            current = self.tuning.get(name)
            if current is None:
                problems.append(
                    ConfigProblem(f"{key}.{name}", f"no alert named {name}; known alerts: {known}")
                )
                continue
            if not current.overridable:
                problems.append(
                    ConfigProblem(
                        f"{key}.{name}",
                        f"{name} is the always-firing heartbeat and takes no overrides",
                    )
                )
                continue
            threshold = current.threshold
            if override.threshold is not None:
                if threshold is None:
                    problems.append(
                        ConfigProblem(
                            f"{key}.{name}.threshold",
                            f"{name} has no threshold; only `for` can be overridden",
                        )
                    )
                    continue
                problem = threshold.problem(override.threshold)
                if problem:
                    problems.append(ConfigProblem(f"{key}.{name}.threshold", problem))
                    continue
                threshold = replace(threshold, value=override.threshold)
            tuning[name] = replace(
                current,
                threshold=threshold,
                for_=override.for_ if override.for_ is not None else current.for_,
            )
        if problems:
            raise ConfigError(source, problems)
        return replace(self, tuning=MappingProxyType(tuning))

    @classmethod
    def from_config(cls, config: EstateConfig, *, source: str) -> Settings:
        """The defaults, with the stack's namespace, services, links and overrides."""
        defaults = cls()
        # Every problem at once: a stack file's mistakes are reported in one run.
        problems: list[ConfigProblem] = []
        if defaults.backend not in config.services:
            problems.append(
                ConfigProblem(
                    f"{PROJECT}:services",
                    f"has no `{defaults.backend}` service: the application and business"
                    " alerts read the backend's metrics",
                )
            )
        elif defaults.backend not in config.scraped_services:
            problems.append(
                ConfigProblem(
                    f"{PROJECT}:services.{defaults.backend}.metrics.enabled",
                    "must be true: the application and business alerts read the backend's metrics",
                )
            )
        settings = replace(
            defaults,
            namespace=config.cluster.namespace,
            # Only services that serve metrics have a target to be down or missing.
            services=config.scraped_services,
            runbook_base_url=config.alerting.runbook_base_url,
            grafana_url=config.alerting.grafana_url,
            min_request_rate=(
                defaults.min_request_rate
                if config.alerting.min_request_rate is None
                else config.alerting.min_request_rate
            ),
        )
        try:
            settings = settings.with_overrides(config.alerting.overrides, source=source)
        except ConfigError as exc:
            problems += exc.problems
        try:
            settings = replace(settings, slos=slos_from_config(config, source=source))
        except ConfigError as exc:
            problems += exc.problems
        if problems:
            raise ConfigError(source, problems)
        return settings
