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
class MetricsStoreSide:
    """Where one side's Prometheus keeps its samples, read from its chart values and the
    MetricsStore component's resources."""

    #: prometheusSpec.retention: how long Prometheus's own disk keeps samples.
    local_retention: str | None
    #: remoteWrite URLs (none: the cluster's disk only).
    remote_urls: tuple[str, ...] = ()
    #: The AMP workspace written to (from the URL) and its region.
    workspace_id: str | None = None
    region: str | None = None
    #: The workspace's alias when this stack declares it; None when another stack does.
    workspace_alias: str | None = None
    workspace_retention_days: int | None = None
    workspace_protected: bool = False
    workspace_retained: bool = False
    #: The store's IAM roles: `name (namespace/service-account: actions)`.
    roles: tuple[str, ...] = ()

    @property
    def workspace_key(self) -> tuple[str, str] | None:
        """The workspace's identity: its alias when declared here, else its id."""
        if self.workspace_alias is not None:
            return ("declared", self.workspace_alias)
        if self.workspace_id is not None:
            return ("existing", self.workspace_id)
        return None

    @property
    def workspace(self) -> str:
        """`AMP workspace blue-harvest-prod-metrics in us-east-1 (declared by this stack,
        keeps 150d)`, or `... ws-... in us-east-1 (another stack's)`."""
        where = f" in {self.region}" if self.region else ""
        if self.workspace_alias is not None:
            keeps = (
                f", keeps {self.workspace_retention_days}d"
                if self.workspace_retention_days is not None
                else ""
            )
            return f"AMP workspace {self.workspace_alias}{where} (declared by this stack{keeps})"
        return f"AMP workspace {self.workspace_id}{where} (another stack's)"

    @property
    def where(self) -> str:
        """Where samples go, in one line."""
        local = f"Prometheus's disk ({self.local_retention or 'default retention'})"
        if not self.remote_urls:
            return f"{local} only"
        if self.workspace_key is not None:
            return f"{local} and {self.workspace}"
        return f"{local} and remote write to {', '.join(self.remote_urls)}"


@dataclass(frozen=True)
class MetricsStoreChange:
    """A change of where the stack's metrics go, said as what it is."""

    before: MetricsStoreSide
    after: MetricsStoreSide
    #: What follows from the change, one sentence each (deleted or retained workspaces, where
    #: new samples go, which history stays where).
    effects: tuple[str, ...] = ()
    #: Samples the change deletes that no resource change shows (a shorter local or workspace
    #: retention): each is a data-loss headline.
    losses: tuple[str, ...] = ()


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
    metrics_store: MetricsStoreChange | None = None

    @property
    def empty(self) -> bool:
        return not (
            self.metrics_store
            or self.resources
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
