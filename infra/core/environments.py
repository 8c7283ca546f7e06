"""What each environment must meet: the one table the config's validation
(infra/config) and the policies (infra/review/policies.py, which the CrossGuard pack runs)
both read, so a bound is never written twice.

`production_like` environments (staging, prod) run like production; `prod_rules` says where
prod's own rules apply. A stack's environment itself is fixed by its name
(infra/config/identity.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EnvironmentName = Literal["local", "dev", "staging", "prod"]
#: Weakest first: each environment's rules include the previous one's guardrails.
ENVIRONMENTS: tuple[EnvironmentName, ...] = ("local", "dev", "staging", "prod")


def production_like(environment: str) -> bool:
    """Runs like production: staging and prod. Sized for it (replicas, volumes), runs its
    code as production, pages the on-call, is watched from outside (a dead man's switch,
    links that open) and deploys only into its own AWS account."""
    return environment in ("staging", "prod")


def prod_rules(environment: str) -> bool:
    """Takes prod's own rules besides: encrypted, protected and retained data, bounded paging,
    real stores (https, S3), no debug switches."""
    return environment == "prod"


@dataclass(frozen=True)
class PagingBounds:
    """Where critical alerts page: how soon a page must leave and how rarely it may repeat
    (Alertmanager's group timings at most these), and how long a critical alert may wait
    before it fires (its `for` at most this). Prometheus durations, as messages quote them."""

    group_wait: str = "5m"
    group_interval: str = "30m"
    repeat_interval: str = "24h"
    critical_for: str = "1h"

    def limits(self) -> tuple[tuple[str, str], ...]:
        """(Alertmanager's key, its bound) for the three group timings."""
        return (
            ("group_wait", self.group_wait),
            ("group_interval", self.group_interval),
            ("repeat_interval", self.repeat_interval),
        )


@dataclass(frozen=True)
class ProdBounds:
    """prod's floors and ceilings beyond paging."""

    #: CloudWatch log groups keep at least this many days.
    log_retention_days: int = 30


PAGING = PagingBounds()
PROD = ProdBounds()
