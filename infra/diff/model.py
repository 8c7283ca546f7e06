"""What `estate diff` reports, as plain typed data (rendered by infra.diff.report)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Change = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class PropertyChange:
    path: str
    before: Any
    after: Any
    forces_replacement: bool = False


@dataclass(frozen=True)
class ResourceChange:
    urn: str
    type: str
    kind: Literal["added", "deleted", "changed", "replaced"]
    properties: tuple[PropertyChange, ...] = ()
    stateful: bool = False
    retained: bool = False
    #: The resource is protected: the engine refuses to delete or replace it, so `pulumi up`
    #: stops here until someone unprotects it on purpose.
    protected: bool = False

    @property
    def data_loss(self) -> bool:
        """A stateful resource deleted or replaced without being retained loses its data."""
        return self.stateful and self.kind in ("deleted", "replaced") and not self.retained

    @property
    def blocked(self) -> bool:
        return self.protected and self.kind in ("deleted", "replaced")


@dataclass(frozen=True)
class RuleChange:
    alert: str
    service: str
    kind: Change
    fields: tuple[PropertyChange, ...] = ()


@dataclass(frozen=True)
class PagingChange:
    alert: str
    service: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    paged_before: bool
    pages_after: bool

    @property
    def lost_paging(self) -> bool:
        return self.paged_before and not self.pages_after


@dataclass(frozen=True)
class PanelChange:
    panel: str
    kind: Change
    fields: tuple[PropertyChange, ...] = ()


@dataclass(frozen=True)
class DashboardChange:
    uid: str
    title: str
    kind: Change
    panels: tuple[PanelChange, ...] = ()


@dataclass(frozen=True)
class BurnTier:
    """One burn-rate alert of an SLO, as one side's rule files and routing have it."""

    alert: str
    burn_rate: float
    long_window: str
    short_window: str
    #: The error ratio both windows must exceed: burn_rate x (1 - objective).
    threshold: float
    severity: str
    receivers: tuple[str, ...]
    pages: bool

    @property
    def name(self) -> str:
        """`14.4x 1h/5m`."""
        return f"{self.burn_rate:g}x {self.long_window}/{self.short_window}"


@dataclass(frozen=True)
class SloChange:
    """One SLO whose objective, window or burn tiers (thresholds, severity, receivers) differ.

    `pages_*` and `tickets_*` name the tiers (`14.4x 1h/5m`) that reach a paging receiver, and
    those that reach only others, on each side."""

    slo: str
    service: str
    sli: str
    kind: Change
    objective_before: float | None
    objective_after: float | None
    window_before: str | None
    window_after: str | None
    tiers_before: tuple[BurnTier, ...]
    tiers_after: tuple[BurnTier, ...]
    pages_before: tuple[str, ...]
    pages_after: tuple[str, ...]
    tickets_before: tuple[str, ...]
    tickets_after: tuple[str, ...]
    #: Per tier (`14.4x 1h/5m`): what moved (threshold, severity, receivers).
    moved: tuple[PropertyChange, ...] = ()

    @property
    def lost_paging(self) -> tuple[str, ...]:
        """Tiers that paged before and no longer do."""
        return tuple(t for t in self.pages_before if t not in self.pages_after)


@dataclass(frozen=True)
class StackDiff:
    stack: str
    resources: tuple[ResourceChange, ...] = ()
    rules: tuple[RuleChange, ...] = ()
    paging: tuple[PagingChange, ...] = ()
    routing: tuple[PropertyChange, ...] = ()
    dashboards: tuple[DashboardChange, ...] = ()
    notes: tuple[str, ...] = ()
    slos: tuple[SloChange, ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.resources
            or self.rules
            or self.paging
            or self.routing
            or self.dashboards
            or self.slos
        )

    @property
    def data_loss(self) -> tuple[ResourceChange, ...]:
        return tuple(r for r in self.resources if r.data_loss)

    @property
    def lost_paging(self) -> tuple[PagingChange, ...]:
        return tuple(p for p in self.paging if p.lost_paging)

    @property
    def blocked(self) -> tuple[ResourceChange, ...]:
        """Protected resources the change deletes or replaces: `pulumi up` refuses them."""
        return tuple(r for r in self.resources if r.blocked)


@dataclass(frozen=True)
class DiffReport:
    base: str
    head: str
    stacks: tuple[StackDiff, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return all(s.empty for s in self.stacks)
