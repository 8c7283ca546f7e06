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
class StackDiff:
    stack: str
    resources: tuple[ResourceChange, ...] = ()
    rules: tuple[RuleChange, ...] = ()
    paging: tuple[PagingChange, ...] = ()
    routing: tuple[PropertyChange, ...] = ()
    dashboards: tuple[DashboardChange, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.resources or self.rules or self.paging or self.routing or self.dashboards)

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
