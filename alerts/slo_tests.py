"""promtool unit tests generated from the SLO specs: every SLO, every burn tier.

Sloth and Pyrra generate burn-rate rules but no tests of them. Here the tests come from the
same specs as the rules (alerts/slos.py), so changing an objective in a stack file moves the
thresholds and the tests together, and a rule whose factor or window is wrong fails them
(tests/alerts/test_slo_tests.py renders such rules on purpose).

Each scenario is synthetic traffic: `USER_REQUESTS` user requests per sample, of which a share
is bad (5xx for availability, slower than the threshold for latency) from `start` on, plus
probe and scrape requests (`/health`, `/health/ready`, `/metrics`) that all fail and are all
slow, at a higher rate than the users: they must never count. What each alert should do at
each evaluation is computed here the way Prometheus computes it: a window's error ratio is
the increase of the bad counter over the increase of the total between the first and the last
sample inside the (left-open) window; `rate()`'s extrapolation scales both alike and cancels
in the ratio (counters start at `OFFSET`, far from zero, so no counter is clamped at zero).

Scenarios, per SLO:

- per tier, a burn just above its factor (x `ABOVE`) after a healthy history as long as its
  long window: the tier fires at the first evaluation where both windows exceed factor x
  budget (close to the workbook's start + long window x factor / burn), and not one
  evaluation before; a burn just below (x `BELOW`) leaves it silent once both its windows
  hold nothing but the burn (checked one and one and a half long windows after it began);
- probe and scrape traffic alone (every request failing and slow): no record, no alert;
- the acceptance cases: a fast burn (20x the budget: 2% errors for 99.9%) after six healthy
  hours pages within the hour (43 minutes); a slow burn (5x: 0.5%) after three healthy days
  opens a ticket within the day (14.4 hours) and never pages; an error rate inside the budget
  (0.8x) raises nothing over three days and six hours, more than the longest window.

Pure: builds dicts; the caller writes them next to the rendered rules and runs promtool.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from alerts.slos import (
    BUDGET_REMAINING_RECORD,
    ERROR_RATIO_WINDOW_RECORD,
    TIERS,
    BurnTier,
    Slo,
    burn_alert,
    error_ratio_record,
    le_values,
    threshold,
    windows,
)
from alerts.slos import (
    FAST_BURN as FAST,
)
from alerts.slos import (
    SLOW_BURN as SLOW,
)
from infra.core import durations

if TYPE_CHECKING:
    from alerts.settings import Settings

#: User requests per sample: a prime, so that no window's error ratio (bad x samples over
#: USER_REQUESTS x samples) can equal a threshold exactly and leave it to float rounding.
USER_REQUESTS = 99_991
#: Probe and scrape requests per sample: more than the users, all failing and slow.
PROBE_REQUESTS = 150_000
#: Every counter's first value: far from zero, so `rate()` never clamps its extrapolation.
OFFSET = 1_000_000
#: Just above and just below a tier's factor.
ABOVE = Decimal("1.1")
BELOW = Decimal("0.9")
#: The acceptance cases, as multiples of the budget (for 99.9%: 2%, 0.5% and 0.08%).
FAST_BURN = Decimal(20)
SLOW_BURN = Decimal(5)
INSIDE_BUDGET = Decimal("0.8")
#: What the acceptance cases must show: a page within the hour, a ticket within the day.
PAGE_WITHIN = 3600
TICKET_WITHIN = 86400
#: Seconds between samples and evaluations. 150s puts two samples in every 5m window (the
#: fastest tier's short window) at a fifth of the evaluations of 30s; the ticket tiers' shortest
#: window is 2h, so their own cases sample every 10m (a 3d case is 1000 evaluations, not 9000).
FINE_STEP = 150
COARSE_STEP = 600
#: promtool resolves this relative to each test file.
RULES_FILE = "rules.yaml"
HOUR, DAY = 3600, 86400


def seconds(window: str) -> int:
    """`1h` -> 3600."""
    return int(durations.seconds(window))


def duration(value: int) -> str:
    """3600 -> `60m`, 150 -> `150s`: a promtool duration."""
    return f"{value // 60}m" if value % 60 == 0 else f"{value}s"


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """Healthy user traffic until `start`, then `burn` x budget of it bad, until `length`
    (seconds; samples and evaluations every `step`)."""

    name: str
    slo: Slo
    #: Bad share of user requests from `start` on, as a multiple of the budget (0: none).
    burn: Decimal
    start: int
    length: int
    step: int = FINE_STEP
    #: False: only probe and scrape traffic, no user request at all.
    users: bool = True

    def __post_init__(self) -> None:
        if self.start % self.step or self.length % self.step:
            raise ValueError(f"{self.name}: start and length must be whole steps")

    @property
    def bad_per_sample(self) -> int:
        return round(self.burn * self.slo.budget * USER_REQUESTS)

    @property
    def error_ratio(self) -> float:
        """The bad share actually simulated (a whole number of requests per sample)."""
        return self.bad_per_sample / USER_REQUESTS

    def _counts(self, k: int) -> tuple[int, int]:
        """(bad, total) user requests counted by sample `k` (at k x step)."""
        burning = max(0, k - self.start // self.step)
        return burning * self.bad_per_sample, k * USER_REQUESTS

    def ratio(self, t: int, window: str) -> float | None:
        """The error ratio the window's record holds at `t`, None for no sample."""
        if not self.users:
            return None
        last = min(t, self.length) // self.step
        first = max((t - seconds(window)) // self.step + 1, 0)  # left-open: (t - w, t]
        if last - first < 1:
            return None
        bad_1, total_1 = self._counts(first)
        bad_2, total_2 = self._counts(last)
        return (bad_2 - bad_1) / (total_2 - total_1)

    def active(self, t: int, tier: BurnTier, *, strict: bool = True) -> bool:
        """Whether `tier` fires at `t`. `strict`: refuse a ratio within float noise of the
        threshold, where Prometheus' rounding could decide (a check there would test the
        noise, not the rule)."""
        limit = float(threshold(self.slo, tier))
        long, short = self.ratio(t, tier.long_window), self.ratio(t, tier.short_window)
        if strict:
            for value in (long, short):
                if value is not None and abs(value - limit) <= limit * 1e-9:
                    raise ValueError(f"{self.name}: a ratio sits on {limit} at {t}s; move it")
        return long is not None and short is not None and long > limit and short > limit

    def firing(self, t: int, tiers: Sequence[BurnTier] = TIERS) -> list[BurnTier]:
        """The tiers whose alert fires at `t` (a promtool check's expectation)."""
        return [tier for tier in tiers if self.active(t, tier)]

    def first_firing(self, tier: BurnTier) -> int | None:
        """The first evaluation at which `tier` fires, if any within `length`."""
        for t in range(self.step, self.length + 1, self.step):
            if self.active(t, tier, strict=False):
                return t
        return None

    def workbook_time(self, tier: BurnTier) -> float:
        """When the workbook says `tier` fires: start + long window x factor / burn."""
        factor = Decimal(repr(tier.factor))
        return self.start + seconds(tier.long_window) * float(factor / self.burn)


@dataclass(frozen=True)
class Check:
    """One `alert_rule_test`: at `t`, exactly the alerts of `alertname` that fire."""

    t: int
    alertname: str


@dataclass
class Case:
    """One promtool test: a scenario and the evaluations it asserts."""

    scenario: Scenario
    checks: list[Check] = field(default_factory=list)
    #: `promql_expr_test`s with no sample expected: (time, expression).
    empty: list[tuple[int, str]] = field(default_factory=list)


def _series(
    s: Settings, slo: Slo, name: str, labels: dict[str, str], values: str
) -> dict[str, str]:
    base = {"namespace": s.namespace, "job": s.job(slo.service), "instance": "10.0.0.1:4000"}
    text = ",".join(f'{k}="{v}"' for k, v in {**base, **labels}.items())
    return {"series": f"{name}{{{text}}}", "values": values}


def _linear(per_sample: int, samples: int) -> str:
    """A counter from OFFSET growing by `per_sample` at every sample."""
    return f"{OFFSET}+{per_sample}x{samples}"


def _two_phase(before: int, after: int, start: int, samples: int) -> str:
    """A counter growing by `before` per sample up to sample `start`, then by `after`."""
    if start <= 0:
        return _linear(after, samples)
    if start >= samples:
        return _linear(before, samples)
    at_start = OFFSET + before * start
    return f"{OFFSET}+{before}x{start} {at_start + after}+{after}x{samples - start - 1}"


_USER = {"method": "GET", "route": "/api/posts", "status_code": "200"}
_PROBES = (("/health", "503"), ("/health/ready", "500"), ("/metrics", "500"))


def input_series(s: Settings, sc: Scenario) -> list[dict[str, str]]:
    """The scenario's counters: user traffic (good, and bad from `start`), and failing, slow
    probe and scrape traffic that the SLIs must leave out."""
    slo, n, start = sc.slo, sc.length // sc.step, sc.start // sc.step
    bad = sc.bad_per_sample
    good = _two_phase(USER_REQUESTS, USER_REQUESTS - bad, start, n)
    probes = [{"method": "GET", "route": r, "status_code": c} for r, c in _PROBES]
    if slo.sli == "availability":
        name = "http_requests_total"
        users = [
            _series(s, slo, name, _USER, good),
            _series(s, slo, name, {**_USER, "status_code": "500"}, _two_phase(0, bad, start, n)),
        ]
        probe = [_series(s, slo, name, p, _linear(PROBE_REQUESTS, n)) for p in probes]
        return (users if sc.users else []) + probe
    assert slo.threshold_seconds is not None
    le = le_values(slo.threshold_seconds)[-1]  # what Prometheus 3 stores: `1.0`
    count, bucket = "http_request_duration_seconds_count", "http_request_duration_seconds_bucket"
    users = [
        _series(s, slo, count, _USER, _linear(USER_REQUESTS, n)),
        _series(s, slo, bucket, {**_USER, "le": "+Inf"}, _linear(USER_REQUESTS, n)),
        _series(s, slo, bucket, {**_USER, "le": le}, good),
    ]
    probe = []
    for p in probes:
        probe += [
            _series(s, slo, count, p, _linear(PROBE_REQUESTS, n)),
            _series(s, slo, bucket, {**p, "le": "+Inf"}, _linear(PROBE_REQUESTS, n)),
            # Every probe slower than the threshold: none in the good bucket.
            _series(s, slo, bucket, {**p, "le": le}, _linear(0, n)),
        ]
    return (users if sc.users else []) + probe


def humanize_percentage(value: float) -> str:
    """Prometheus' `humanizePercentage`: Go's `%.4g` of value x 100, then `%`."""
    return f"{value * 100:.4g}%"


def _expected(s: Settings, sc: Scenario, check: Check, tiers: Sequence[BurnTier]) -> list[Any]:
    alerts = []
    for tier in sc.firing(check.t, [t for t in tiers if t.alert == check.alertname]):
        rule = burn_alert(s, sc.slo, tier)
        value = sc.ratio(check.t, tier.long_window)
        assert value is not None
        annotations = dict(rule.annotations)
        annotations["description"] = annotations["description"].replace(
            "{{ $value | humanizePercentage }}", humanize_percentage(value)
        )
        labels = {**rule.all_labels, "namespace": s.namespace, "job": s.job(sc.slo.service)}
        alerts.append({"exp_labels": labels, "exp_annotations": annotations})
    return alerts


def render_case(s: Settings, case: Case) -> dict[str, Any]:
    """One promtool `tests[]` entry."""
    sc = case.scenario
    test: dict[str, Any] = {
        "name": sc.name,
        "interval": duration(sc.step),
        "input_series": input_series(s, sc),
        "alert_rule_test": [
            {
                "eval_time": duration(c.t),
                "alertname": c.alertname,
                "exp_alerts": _expected(s, sc, c, TIERS),
            }
            for c in case.checks
        ],
    }
    if case.empty:
        test["promql_expr_test"] = [
            {"expr": expr, "eval_time": duration(t), "exp_samples": []} for t, expr in case.empty
        ]
    return test


# --- the cases -------------------------------------------------------------------------------


def tier_cases(slo: Slo, action: str) -> Iterator[Case]:
    """Per tier of `action` (page, ticket): just above its factor fires at the first
    evaluation both windows exceed it (and not one before); just below stays silent."""
    step = FINE_STEP if action == "page" else COARSE_STEP
    for tier in (t for t in TIERS if t.action == action):
        long = seconds(tier.long_window)
        factor = Decimal(repr(tier.factor))
        above = Scenario(
            name=f"{slo.name}: {tier.alert} {tier.long_window}/{tier.short_window} fires at"
            f" {tier.factor:g}x{ABOVE} the budget-spending rate",
            slo=slo,
            burn=factor * ABOVE,
            start=long,
            length=3 * long,
            step=step,
        )
        fired = above.first_firing(tier)
        if fired is None:
            raise ValueError(f"{above.name}: never fires within {above.length}s")
        above = replace(above, length=fired)
        if above.active(fired - step, tier):
            raise ValueError(f"{above.name}: fires before {fired}s")
        yield Case(above, [Check(fired - step, tier.alert), Check(fired, tier.alert)])
        below = Scenario(
            name=f"{slo.name}: {tier.alert} {tier.long_window}/{tier.short_window} stays silent"
            f" at {tier.factor:g}x{BELOW} the budget-spending rate",
            slo=slo,
            burn=factor * BELOW,
            start=long,
            length=2 * long + long // 2,
            step=step,
        )
        # From start + long on, both windows hold nothing but the burn: its steady state.
        checks = [Check(t, tier.alert) for t in (2 * long, below.length)]
        for c in checks:
            if below.active(c.t, tier):
                raise ValueError(f"{below.name}: fires at {c.t}s")
        yield Case(below, checks)


def probe_case(slo: Slo) -> Case:
    """Probe and scrape traffic alone, every request failing and slow: no SLI sample, no
    alert, no budget spent, over more than the longest page window."""
    sc = Scenario(
        name=f"{slo.name}: probe and scrape traffic alone never burns budget",
        slo=slo,
        burn=Decimal(0),
        start=0,
        length=7 * HOUR,
        users=False,
    )
    times = (10 * 60, HOUR + 5 * 60, 6 * HOUR + 30 * 60, 7 * HOUR)
    checks = [Check(t, a) for t in times for a in (FAST, SLOW)]
    sel = f'{{slo="{slo.name}"}}'
    records = [error_ratio_record(w) for w in windows()]
    records += [ERROR_RATIO_WINDOW_RECORD, BUDGET_REMAINING_RECORD]
    return Case(sc, checks, [(7 * HOUR, f"{r}{sel}") for r in records])


def acceptance_cases(slo: Slo) -> Iterator[Case]:
    """The issue's three: a fast burn pages within the hour, a slow burn opens a ticket within
    the day and pages nobody, an error rate inside the budget raises nothing."""
    # Six healthy hours (the longest page window) before the fast burn; three days (the
    # longest window of all) before the slow one; inside the budget from the start.
    fast = Scenario(
        name=f"{slo.name}: fast burn, {_percent(slo, FAST_BURN)} bad"
        f" ({FAST_BURN}x the budget), pages within the hour",
        slo=slo,
        burn=FAST_BURN,
        start=6 * HOUR,
        length=6 * HOUR + PAGE_WITHIN,
    )
    page = TIERS[0]
    fired = fast.first_firing(page)
    if fired is None or fired - fast.start > PAGE_WITHIN:
        raise ValueError(f"{fast.name}: no page within {PAGE_WITHIN}s")
    fast = replace(fast, length=fired)
    yield Case(fast, [Check(fired - fast.step, FAST), Check(fired, FAST), Check(fired, SLOW)])
    slow = Scenario(
        name=f"{slo.name}: slow burn, {_percent(slo, SLOW_BURN)} bad"
        f" ({SLOW_BURN}x the budget), a ticket within the day and no page",
        slo=slo,
        burn=SLOW_BURN,
        start=3 * DAY,
        length=3 * DAY + TICKET_WITHIN,
    )
    opened = [
        t for t in (slow.first_firing(tier) for tier in TIERS if tier.action == "ticket") if t
    ]
    if not opened or min(opened) - slow.start > TICKET_WITHIN:
        raise ValueError(f"{slow.name}: no ticket within {TICKET_WITHIN}s")
    first = min(opened)
    slow = replace(slow, length=first + HOUR)
    every = range(slow.step, slow.length + 1, slow.step)
    if any(slow.active(t, tier, strict=False) for t in every for tier in TIERS[:2]):
        raise ValueError(f"{slow.name}: pages")
    hourly = range(slow.start, slow.length + 1, HOUR)
    yield Case(
        slow,
        [Check(first - slow.step, SLOW), Check(first, SLOW), *(Check(t, FAST) for t in hourly)],
    )
    inside = Scenario(
        name=f"{slo.name}: {_percent(slo, INSIDE_BUDGET)} bad ({INSIDE_BUDGET}x the budget)"
        " raises nothing",
        slo=slo,
        burn=INSIDE_BUDGET,
        start=0,
        length=3 * DAY + 6 * HOUR,
    )
    every = range(inside.step, inside.length + 1, inside.step)
    if any(inside.active(t, tier, strict=False) for t in every for tier in TIERS):
        raise ValueError(f"{inside.name}: fires")
    times = (10 * 60, HOUR + 5 * 60, *range(6 * HOUR, inside.length + 1, 6 * HOUR))
    yield Case(inside, [Check(t, a) for t in times for a in (FAST, SLOW)])


def _percent(slo: Slo, burn: Decimal) -> str:
    share = (burn * slo.budget * 100).normalize()
    return f"{share:f}%"


def suites(slo: Slo) -> dict[str, list[Case]]:
    """An SLO's cases by file kind; each file's cases share one step."""
    return {
        "page-tiers": list(tier_cases(slo, "page")),
        "ticket-tiers": list(tier_cases(slo, "ticket")),
        "probes": [probe_case(slo)],
        "acceptance": list(acceptance_cases(slo)),
    }


def documents(s: Settings, slos: Iterable[Slo] | None = None) -> dict[str, dict[str, Any]]:
    """promtool test files by name, `<slo>-<kind>.yaml`; their `rule_files` name
    `rules.yaml`, the rendered rules written beside them."""
    out: dict[str, dict[str, Any]] = {}
    for slo in s.slos if slos is None else slos:
        for kind, group in suites(slo).items():
            (step,) = {c.scenario.step for c in group}
            out[f"{slo.name}-{kind}.yaml"] = {
                "rule_files": [RULES_FILE],
                "evaluation_interval": duration(step),
                "tests": [render_case(s, case) for case in group],
            }
    return out
