"""Service level objectives as typed specs, and the burn-rate rules rendered from them.

An SLO is a service, an SLI and an objective over a 30-day window (`blue-harvest:slos` in the
stack file, defaults per environment in infra/config/defaults.py). Two SLIs exist, both on
user traffic only (the kubelet's probes and Prometheus' scrapes, `Settings.excluded_routes`,
never count):

- availability: the share of user requests not answered 5xx (`Settings.error_status`);
- latency: the share of user requests served within `thresholdSeconds`, which must be one of
  the seed's `http_request_duration_seconds` buckets (a histogram can tell nothing finer).

The rules follow the Google SRE workbook ("Alerting on SLOs", the multiwindow,
multi-burn-rate alerts): one error-ratio record per window and SLO, evaluated once and read
by every tier, and four tiers (`TIERS`). A tier fires when both its long and its short window
burn the budget faster than its factor; the short window makes it resolve soon after the burn
stops. With `page: false` (dev, local) every tier is a warning: a ticket, never a page.

Pure: no Pulumi, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, get_args

from infra.catalog import dashboard_refs
from infra.config.errors import ConfigError, ConfigProblem
from infra.core import durations
from infra.naming import PROJECT
from infra.rules import AlertRule, RecordingRule, RuleGroup, Severity

if TYPE_CHECKING:
    from alerts.settings import Settings
    from infra.config.model import EstateConfig

Sli = Literal["availability", "latency"]
SLIS: tuple[Sli, ...] = get_args(Sli)

#: The seed's `http_request_duration_seconds` buckets (prom-client, seed section 2): a
#: latency SLO's threshold must be one of them.
LATENCY_BUCKETS: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 1.0, 3.0, 5.0, 7.0, 10.0)

#: The SLO window: the error budget is spent over 30 days (the workbook's factors assume it).
WINDOW = "30d"

#: The `slo` alerts' group name (out/<stack>/prometheus/rules/).
GROUP = "slos"

#: The alert names: the two fast tiers and the two slow ones.
FAST_BURN = "ErrorBudgetFastBurn"
SLOW_BURN = "ErrorBudgetSlowBurn"

#: The series an SLO's rules record, per window; labels: cluster (where the series carry it),
#: namespace, job, service, slo, sli.
ERROR_RATIO_RECORD = "slo:sli_error:ratio_rate{window}"
#: The error ratio over the whole SLO window (30d), and the share of the budget left.
ERROR_RATIO_WINDOW_RECORD = "slo:sli_error:ratio_rate30d"
BUDGET_REMAINING_RECORD = "slo:error_budget:remaining_ratio"


@dataclass(frozen=True)
class BurnTier:
    """One multiwindow burn-rate condition: both windows burn faster than `factor` times the
    rate that spends exactly the budget over the SLO window."""

    #: How many times the budget-spending rate, e.g. 14.4 (2% of a 30d budget in 1h).
    factor: float
    long_window: str
    short_window: str
    #: `page` tiers are critical where the SLO pages; `ticket` tiers are always warnings.
    action: Literal["page", "ticket"]

    @property
    def alert(self) -> str:
        return FAST_BURN if self.action == "page" else SLOW_BURN


#: The workbook's tiers for a 30-day SLO (ch. 5, table 5-8).
TIERS: tuple[BurnTier, ...] = (
    BurnTier(14.4, "1h", "5m", "page"),
    BurnTier(6.0, "6h", "30m", "page"),
    BurnTier(3.0, "1d", "2h", "ticket"),
    BurnTier(1.0, "3d", "6h", "ticket"),
)


def windows(tiers: Sequence[BurnTier] = TIERS) -> tuple[str, ...]:
    """Every window some tier reads, shortest first: one record each per SLO."""
    seen = {w for t in tiers for w in (t.long_window, t.short_window)}
    return tuple(sorted(seen, key=_seconds))


def _seconds(window: str) -> int:
    return int(durations.seconds(window))


@dataclass(frozen=True, kw_only=True)
class Slo:
    """One objective of one service."""

    service: str
    sli: Sli
    #: The share of good events over `window`, in (0, 1), e.g. 0.999.
    objective: float
    #: Latency only: a request within this many seconds is good (a histogram bucket).
    threshold_seconds: float | None = None
    #: Whether the fast tiers page (severity critical); else every tier is a ticket (warning).
    page: bool = True
    window: str = WINDOW

    @property
    def name(self) -> str:
        """The `slo` label, e.g. `backend-availability`."""
        return f"{self.service}-{self.sli}"

    @property
    def budget(self) -> Decimal:
        """1 - objective, exactly as written (0.999 -> 0.001, not 0.0010000000000000009)."""
        return Decimal(1) - Decimal(repr(self.objective))

    def severity(self, tier: BurnTier) -> Severity:
        return "critical" if self.page and tier.action == "page" else "warning"

    def describe(self) -> str:
        """`99.9% of user requests not answered 5xx` / `99% of user requests within 1s`."""
        percent = f"{Decimal(repr(self.objective)) * 100:f}".rstrip("0").rstrip(".")
        if self.sli == "latency":
            return f"{percent}% of user requests within {self.threshold_seconds:g}s"
        return f"{percent}% of user requests not answered 5xx"


def error_ratio_record(window: str) -> str:
    """`slo:sli_error:ratio_rate1h`: the share of bad user requests over `window`."""
    return ERROR_RATIO_RECORD.format(window=window)


def slos_from_config(config: EstateConfig, *, source: str) -> tuple[Slo, ...]:
    """The stack's SLOs (`blue-harvest:slos`), every problem reported at once, naming its key."""
    problems: list[ConfigProblem] = []
    slos: list[Slo] = []
    scraped = config.scraped_services
    for service, by_sli in sorted(config.slos.items()):
        key = f"{PROJECT}:slos.{service}"
        if service not in config.services:
            known = ", ".join(sorted(config.services))
            problems.append(ConfigProblem(key, f"no service named {service}; services: {known}"))
            continue
        if service not in scraped:
            problems.append(
                ConfigProblem(
                    key,
                    f"{service} serves no metrics (services.{service}.metrics.enabled is"
                    " false): its SLIs cannot be measured",
                )
            )
            continue
        for sli, spec in sorted(by_sli.items()):
            where = f"{key}.{sli}"
            if sli not in SLIS:
                problems.append(
                    ConfigProblem(where, f"no SLI named {sli}; known SLIs: {', '.join(SLIS)}")
                )
                continue
            threshold = spec.threshold_seconds
            if sli == "latency":
                if threshold is None:
                    problems.append(
                        ConfigProblem(
                            f"{where}.thresholdSeconds",
                            "is required for a latency SLO: one of the histogram's buckets, "
                            + _buckets(),
                        )
                    )
                    continue
                if float(threshold) not in LATENCY_BUCKETS:
                    problems.append(
                        ConfigProblem(
                            f"{where}.thresholdSeconds",
                            f"{threshold:g} is no bucket boundary of"
                            f" http_request_duration_seconds; allowed: {_buckets()}",
                        )
                    )
                    continue
            elif threshold is not None:
                problems.append(
                    ConfigProblem(
                        f"{where}.thresholdSeconds",
                        "applies to latency SLOs only (availability counts 5xx answers)",
                    )
                )
                continue
            slos.append(
                Slo(
                    service=service,
                    sli=sli,
                    objective=spec.objective,
                    threshold_seconds=None if threshold is None else float(threshold),
                    page=spec.page,
                )
            )
    if problems:
        raise ConfigError(source, problems)
    return tuple(slos)


def _buckets() -> str:
    return ", ".join(f"{b:g}" for b in LATENCY_BUCKETS)


# --- rules -----------------------------------------------------------------------------------

#: The SLO group's evaluation interval: the shortest window is 5m, a minute is plenty.
INTERVAL = "1m"


def _text(value: Decimal) -> str:
    """A Decimal as PromQL reads it: `0.0144`, `1`, never `1.44E-2`."""
    text = f"{value.normalize():f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def threshold(slo: Slo, tier: BurnTier) -> Decimal:
    """The error ratio above which `tier` burns `slo`'s budget: factor x (1 - objective)."""
    return Decimal(repr(tier.factor)) * slo.budget


def le_values(seconds: float) -> tuple[str, ...]:
    """The `le` label values a bucket boundary may carry: prom-client writes `1`, Prometheus 3
    normalizes classic histograms' `le` to `1.0` on ingestion."""
    text = f"{seconds:g}"
    return (text, f"{text}.0") if float(seconds).is_integer() else (text,)


def _sum_rate(s: Settings, service: str, metric: str, window: str, *matchers: str) -> str:
    return f"sum by ({s.by}) (rate({metric}{s.selector(service, *matchers)}[{window}]))"


def error_ratio_expr(s: Settings, slo: Slo, window: str) -> str:
    """The share of `slo`'s bad user requests over `window`, from the counters; no sample at
    all where the window holds no user request (an idle service burns no budget)."""
    user = s.user_traffic_matcher
    if slo.sli == "availability":
        total = _sum_rate(s, slo.service, "http_requests_total", window, user)
        bad = _sum_rate(s, slo.service, "http_requests_total", window, user, s.error_matcher)
        # prom-client creates the 5xx series on the first 5xx: none yet reads as 0 errors.
        return f"(\n{bad}\nor\n0 * {total}\n)\n/\n({total} > 0)"
    assert slo.threshold_seconds is not None  # slos_from_config requires it for latency
    le = "|".join(re.escape(v) for v in le_values(slo.threshold_seconds))
    count = "http_request_duration_seconds_count"
    total = _sum_rate(s, slo.service, count, window, user)
    good = _sum_rate(
        s,
        slo.service,
        "http_request_duration_seconds_bucket",
        window,
        user,
        s.matcher("le", le, "=~"),
    )
    return f"1 - (\n{good}\n/\n({total} > 0)\n)"


def _labels(slo: Slo) -> dict[str, str]:
    return {"service": slo.service, "slo": slo.name, "sli": slo.sli}


def records(s: Settings, slo: Slo) -> list[RecordingRule]:
    """One error-ratio record per window any tier reads, the ratio over the SLO window and
    the budget left. The window ratio is the average of the 5m ratio over the window (as
    Sloth records it): each evaluation weighs the same whatever its traffic, and it reads one
    series instead of every request counter over 30 days."""
    sel = "{" + s.matcher("slo", slo.name) + "}"
    shortest = windows()[0]
    return [
        *(
            RecordingRule(
                record=error_ratio_record(w), expr=error_ratio_expr(s, slo, w), labels=_labels(slo)
            )
            for w in windows()
        ),
        RecordingRule(
            record=ERROR_RATIO_WINDOW_RECORD,
            expr=f"avg_over_time({error_ratio_record(shortest)}{sel}[{slo.window}])",
            labels=_labels(slo),
        ),
        RecordingRule(
            record=BUDGET_REMAINING_RECORD,
            expr=f"1 - {ERROR_RATIO_WINDOW_RECORD}{sel} / {_text(slo.budget)}",
            labels=_labels(slo),
        ),
    ]


def burn_alert(s: Settings, slo: Slo, tier: BurnTier) -> AlertRule:
    """`tier` over `slo`: both windows' error ratios above factor x budget."""
    sel = "{" + s.matcher("slo", slo.name) + "}"
    limit = _text(threshold(slo, tier))
    factor = f"{tier.factor:g}"
    pages = slo.severity(tier) == "critical"
    speed = "fast" if tier.action == "page" else "slowly"
    return AlertRule(
        name=tier.alert,
        expr=f"""
            {error_ratio_record(tier.long_window)}{sel} > {limit}
            and
            {error_ratio_record(tier.short_window)}{sel} > {limit}
        """,
        severity=slo.severity(tier),
        service=slo.service,
        summary=f"{slo.service} is burning its {slo.sli} error budget {speed}",
        description=(
            "{{ $value | humanizePercentage }} of "
            f"{slo.service} user requests were bad over the last {tier.long_window} (and still"
            f" over {tier.short_window}): {factor}x the rate that spends the whole"
            f" {slo.window} error budget of the objective, {slo.describe()}."
            + (
                f" It pages: at this rate the budget is gone in {_days(slo.window, tier.factor)}."
                if pages
                else " A ticket: fix it within days, before the budget is gone in"
                f" {_days(slo.window, tier.factor)}."
            )
        ),
        runbook_url=f"{s.runbook_base_url.rstrip('/')}/{tier.alert}",
        dashboard=dashboard_refs.slo_panel(slo.service, slo.sli).url(s.grafana_url),
        labels={
            "slo": slo.name,
            "sli": slo.sli,
            "objective": repr(slo.objective),
            "window": slo.window,
            "burn_rate": factor,
            "long_window": tier.long_window,
            "short_window": tier.short_window,
        },
    )


def _days(window: str, factor: float) -> str:
    hours = _seconds(window) / 3600 / factor
    return f"{hours / 24:.0f} days" if hours >= 72 else f"{hours:.0f} hours"


def group(s: Settings, tiers: Sequence[BurnTier] = TIERS) -> RuleGroup | None:
    """The SLO group: every SLO's records, then its tiers' alerts; None without SLOs."""
    if not s.slos:
        return None
    rules: list[RecordingRule | AlertRule] = []
    for slo in s.slos:
        rules += records(s, slo)
    for slo in s.slos:
        rules += [burn_alert(s, slo, tier) for tier in tiers]
    return RuleGroup(name=GROUP, interval=INTERVAL, rules=tuple(rules))


__all__ = [
    "BUDGET_REMAINING_RECORD",
    "ERROR_RATIO_RECORD",
    "ERROR_RATIO_WINDOW_RECORD",
    "FAST_BURN",
    "GROUP",
    "INTERVAL",
    "LATENCY_BUCKETS",
    "SLIS",
    "SLOW_BURN",
    "TIERS",
    "WINDOW",
    "BurnTier",
    "Sli",
    "Slo",
    "burn_alert",
    "error_ratio_expr",
    "error_ratio_record",
    "group",
    "le_values",
    "records",
    "slos_from_config",
    "threshold",
    "windows",
]
