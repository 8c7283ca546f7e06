"""The business group: signup spikes (bots) and a stalled post flow.

Corrections of the seed:

- SignupSpike compares the service's signup rate (summed over instances) with its average
  over the hour that ended `signup_baseline_offset` (15m) ago. The seed averaged over the last
  hour, spike included, so a spike raised its own baseline and fell silent after a few
  minutes, too soon to last its 10m `for`. A floor (`signup_min_rate`) keeps a quiet night's
  0 -> 1 signup from counting as an infinite spike.
- NoPostsCreated counts a missing counter as zero posts. prom-client exports
  posts_created_total{post_type=...} only after the first post since the process started, so
  the seed's `increase(...) == 0` had no series to compare after a restart or on a new
  deployment, and never fired exactly when nothing was being posted. It judges only while
  the backend has a live target (`up == 1`): during an outage no posts are created, and that
  is ServiceDown's page, not a business signal. It keeps `namespace` and `job`, so
  Alertmanager's outage inhibition (equal `namespace`, `service`) silences it too.
"""

from __future__ import annotations

from alerts.recording import records
from alerts.settings import Settings
from infra.catalog import dashboard_refs as panels
from infra.rules import AlertRule, RuleGroup
from infra.text import num

GROUP = "business"


def signup_spike(s: Settings) -> AlertRule:
    rate = f"{records(s).signups}{s.backend_selector}"
    baseline = (
        f"avg_over_time({rate}[{s.signup_baseline_window}] offset {s.signup_baseline_offset})"
    )
    return s.alert(
        "SignupSpike",
        expr=f"""
            {rate}
              > {s.threshold("SignupSpike")} * {baseline}
            and
            {rate} > {num(s.signup_min_rate)}
        """,
        severity="warning",
        service=s.backend,
        summary="Unusual spike in user signups",
        description=(
            'Signups run at {{ printf "%.2f" $value }}/s, far above their average of the'
            f" previous {s.signup_baseline_window}: possibly a bot attack."
        ),
        panel=panels.SIGNUPS,
    )


def no_posts_created(s: Settings) -> AlertRule:
    posts = f"increase(posts_created_total{s.backend_selector}[{s.posts_window}])"
    up = s.up(s.backend)
    return s.alert(
        "NoPostsCreated",
        expr=f"""
            (
              sum by ({s.by}) ({posts})
              or
              0 * {up}
            )
            < {s.threshold("NoPostsCreated")}
            and on ({s.by})
            {up}
        """,
        severity="info",
        service=s.backend,
        summary=f"No posts created in the last {s.posts_window}",
        description=(
            "{{ $value | humanize }} posts were created on"
            f" {s.backend} in the last {s.posts_window}."
        ),
        panel=panels.POSTS_CREATED,
    )


def group(s: Settings) -> RuleGroup:
    return RuleGroup(
        name=GROUP,
        interval=s.business_interval,
        rules=(signup_spike(s), no_posts_created(s)),
    )
