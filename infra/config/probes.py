"""Health probes: the rules that refuse settings which would kill or hide a healthy pod, and
the typed specs the workloads are built from.

The rules run once, in one place: EstateConfig's validator calls `probe_problems` for every
service, so a stack file's probe mistakes are reported with its other errors, each keyed
``blue-harvest:services.<name>.<field>``. The specs (`ProbesSpec.from_config`) are plain data
built from that validated config and check nothing again.

The rules, each keyed by the field to change (relative to the service, e.g.
``probes.liveness.timeoutSeconds``):

1. ``timeoutSeconds`` must be below ``periodSeconds``: a probe that may run longer than its
   period overlaps the next one, and the kubelet counts the late answer as a failure.
2. ``successThreshold`` must be 1 for liveness and startup probes (the API server refuses
   anything else; only readiness may ask for several successes).
3. The startup budget, ``initialDelaySeconds + periodSeconds * failureThreshold``, must be at
   least the service's ``bootSeconds``: the kubelet kills a container whose startup probe
   fails ``failureThreshold`` times in a row. ``periodSeconds * failureThreshold`` is the
   worst-case start time the Kubernetes documentation gives for a startup probe; it is a
   period longer than the exact earliest kill (the last failing probe runs
   ``(failureThreshold - 1) * periodSeconds`` after the first), so the rule leaves a margin
   of one period rather than none.
4. A liveness probe must not be able to kill a pod that is still starting. With a startup
   probe the kubelet holds liveness (and readiness) back until startup has succeeded, and
   rule 3 makes startup cover the boot, so nothing more is needed. Without one, the liveness
   budget (same formula) must be at least ``bootSeconds``.

Pure: no Pulumi, and the config model is imported only for type checking, so it can call
`probe_problems` from its own validator without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from infra.config.model import ProbeConfig, ProbesConfig

ProbeKind = Literal["liveness", "readiness", "startup"]
#: http: GET a health route; tcp: the container port accepts a connection (a service with no
#: health route, such as the seed's Next.js frontend).
ProbeType = Literal["http", "tcp"]

#: Stack-file (camelCase) names of the probe fields, for keys a user can type.
_FIELD = {
    "initial_delay_seconds": "initialDelaySeconds",
    "period_seconds": "periodSeconds",
    "timeout_seconds": "timeoutSeconds",
    "failure_threshold": "failureThreshold",
    "success_threshold": "successThreshold",
}


class ProbeLike(Protocol):
    """What a probe needs to say: ProbeConfig and ProbeSpec both have these."""

    @property
    def type(self) -> ProbeType: ...
    @property
    def path(self) -> str | None: ...
    @property
    def initial_delay_seconds(self) -> int: ...
    @property
    def period_seconds(self) -> int: ...
    @property
    def timeout_seconds(self) -> int: ...
    @property
    def failure_threshold(self) -> int: ...
    @property
    def success_threshold(self) -> int: ...


def _key(kind: ProbeKind, field: str) -> str:
    return f"probes.{kind}.{_FIELD[field]}"


def budget_seconds(probe: ProbeLike) -> int:
    """How long a probe tolerates failure before the kubelet acts on it."""
    return probe.initial_delay_seconds + probe.period_seconds * probe.failure_threshold


def _budget_text(probe: ProbeLike) -> str:
    return (
        f"{probe.initial_delay_seconds}s initial delay + {probe.period_seconds}s period x "
        f"{probe.failure_threshold} failures = {budget_seconds(probe)}s"
    )


def field_problems(kind: ProbeKind, probe: ProbeLike) -> list[tuple[str, str]]:
    """Rules 1 and 2: what is wrong with one probe on its own."""
    problems: list[tuple[str, str]] = []
    if probe.timeout_seconds >= probe.period_seconds:
        problems.append(
            (
                _key(kind, "timeout_seconds"),
                f"the {kind} probe's timeoutSeconds ({probe.timeout_seconds}) must be below its"
                f" periodSeconds ({probe.period_seconds}), or one probe overlaps the next",
            )
        )
    if kind != "readiness" and probe.success_threshold != 1:
        problems.append(
            (
                _key(kind, "success_threshold"),
                f"the {kind} probe's successThreshold must be 1 (is {probe.success_threshold});"
                " only a readiness probe may require several successes",
            )
        )
    return problems


def boot_problems(
    liveness: ProbeLike, startup: ProbeLike | None, boot_seconds: int
) -> list[tuple[str, str]]:
    """Rules 3 and 4: whether a pod that takes `boot_seconds` to start survives its probes."""
    if startup is not None:
        if budget_seconds(startup) < boot_seconds:
            return [
                (
                    _key("startup", "failure_threshold"),
                    f"the startup probe gives up after {_budget_text(startup)}, shorter than the"
                    f" service's bootSeconds ({boot_seconds}s): raise failureThreshold or"
                    " periodSeconds",
                )
            ]
        return []
    if budget_seconds(liveness) < boot_seconds:
        return [
            (
                _key("liveness", "initial_delay_seconds"),
                f"without a startup probe the liveness probe can kill a pod still starting: it"
                f" gives up after {_budget_text(liveness)}, shorter than bootSeconds"
                f" ({boot_seconds}s); add a startup probe or raise initialDelaySeconds",
            )
        ]
    return []


def probe_problems(probes: ProbesConfig, boot_seconds: int) -> list[tuple[str, str]]:
    """Every rule over a service's configured probes: (key relative to the service, message).

    EstateConfig prefixes each key with ``blue-harvest:services.<name>.``."""
    problems: list[tuple[str, str]] = []
    kinds: tuple[ProbeKind, ...] = ("liveness", "readiness", "startup")
    for kind in kinds:
        problems += field_problems(kind, getattr(probes, kind))
    problems += boot_problems(probes.liveness, probes.startup, boot_seconds)
    return problems


@dataclass(frozen=True)
class ProbeSpec:
    """One probe, as the Deployment states it (plain data: the rules ran on the config)."""

    kind: ProbeKind
    path: str | None
    initial_delay_seconds: int
    period_seconds: int
    timeout_seconds: int
    failure_threshold: int
    success_threshold: int = 1
    type: ProbeType = "http"

    @classmethod
    def from_config(cls, kind: ProbeKind, probe: ProbeConfig) -> ProbeSpec:
        return cls(
            kind=kind,
            type=probe.type,
            path=probe.path,
            initial_delay_seconds=probe.initial_delay_seconds,
            period_seconds=probe.period_seconds,
            timeout_seconds=probe.timeout_seconds,
            failure_threshold=probe.failure_threshold,
            success_threshold=probe.success_threshold,
        )

    @property
    def budget_seconds(self) -> int:
        return budget_seconds(self)


@dataclass(frozen=True)
class ProbesSpec:
    """A container's probes and the boot time they were checked against."""

    liveness: ProbeSpec
    readiness: ProbeSpec
    startup: ProbeSpec | None
    boot_seconds: int

    @classmethod
    def from_config(cls, probes: ProbesConfig, boot_seconds: int) -> ProbesSpec:
        """The spec of a service's probes in a validated EstateConfig, whose validator already
        ran every rule (`probe_problems`) on them: nothing is checked again here."""
        return cls(
            liveness=ProbeSpec.from_config("liveness", probes.liveness),
            readiness=ProbeSpec.from_config("readiness", probes.readiness),
            startup=ProbeSpec.from_config("startup", probes.startup),
            boot_seconds=boot_seconds,
        )


def probe_dict(probe: ProbeLike, port_name: str) -> dict[str, Any]:
    """The Kubernetes probe: an HTTP GET of `probe.path` on the named container port, or a TCP
    connect to that port."""
    action: dict[str, Any] = (
        {"httpGet": {"path": probe.path, "port": port_name, "scheme": "HTTP"}}
        if probe.type == "http"
        else {"tcpSocket": {"port": port_name}}
    )
    return {
        **action,
        "initialDelaySeconds": probe.initial_delay_seconds,
        "periodSeconds": probe.period_seconds,
        "timeoutSeconds": probe.timeout_seconds,
        "failureThreshold": probe.failure_threshold,
        "successThreshold": probe.success_threshold,
    }
