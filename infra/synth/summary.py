"""What `estate synth` says about a stack: resources, protected resources, paging, secrets.

Pure: it reads the files synth renders (the Alertmanager config and the rule files) and the
recorded registrations, never the config, so the summary describes exactly what was written.
Paging is derived from the synthesized Alertmanager config with the same router `estate
check` uses (Alertmanager's own route semantics): for each severity, the receivers an alert
of that severity reaches, which of them page (they have PagerDuty configs), and which of the
estate's own alerts of that severity page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from infra.review.route_match import paging_receivers, receivers
from infra.synth.recorder import Registration

#: Where render_files puts the Alertmanager config and the rule files.
ALERTMANAGER_FILE = "alertmanager/alertmanager.yaml"
RULES_DIR = "prometheus/rules/"
#: libyaml's safe loader where PyYAML has it (the summary reads every rule file of a stack).
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: The severities the estate's rules and routes use, in order of urgency.
SEVERITIES: tuple[str, ...] = ("critical", "warning", "info")


@dataclass(frozen=True)
class ProtectedResource:
    type: str
    name: str
    urn: str


@dataclass(frozen=True)
class PagingRoute:
    """Where an alert of one severity goes, and whether that wakes someone."""

    severity: str
    #: Every receiver an alert with only this severity label reaches, in routing order.
    receivers: tuple[str, ...]
    #: Those of `receivers` that page (PagerDuty).
    paging: tuple[str, ...]
    #: The estate's own alerts of this severity that page, sorted.
    alerts: tuple[str, ...]

    @property
    def pages(self) -> bool:
        return bool(self.paging)


@dataclass(frozen=True)
class StackSummary:
    stack: str
    resources: int
    types: Mapping[str, int]
    protected: tuple[ProtectedResource, ...]
    paging: tuple[PagingRoute, ...]
    #: How many secret values the program reads from the stack (never the values; provider
    #: credentials such as sentry:token, read by the providers alone, are not counted).
    secrets: int
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "resources": self.resources,
            "types": dict(self.types),
            "protected": [{"type": p.type, "name": p.name, "urn": p.urn} for p in self.protected],
            "paging": [
                {
                    "severity": r.severity,
                    "receivers": list(r.receivers),
                    "paging": list(r.paging),
                    "pages": r.pages,
                    "alerts": list(r.alerts),
                }
                for r in self.paging
            ],
            "secrets": self.secrets,
            "warnings": list(self.warnings),
        }


def _rules(files: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every alerting rule of the rendered rule files, in file and rule order."""
    out: list[dict[str, Any]] = []
    for path in sorted(p for p in files if p.startswith(RULES_DIR)):
        document = yaml.load(files[path], Loader=_LOADER) or {}
        for group in document.get("groups") or []:
            out += [rule for rule in group.get("rules") or [] if "alert" in rule]
    return out


def paging_routes(files: Mapping[str, str]) -> tuple[PagingRoute, ...]:
    """Per severity: receivers reached, those that page, and the estate's alerts that page.
    Empty when the stack renders no Alertmanager config."""
    text = files.get(ALERTMANAGER_FILE)
    if text is None:
        return ()
    config: dict[str, Any] = yaml.load(text, Loader=_LOADER) or {}
    pagers = paging_receivers(config)
    rules = _rules(files)
    severities = list(SEVERITIES)
    severities += sorted(
        {str((r.get("labels") or {}).get("severity", "")) for r in rules} - set(SEVERITIES) - {""}
    )
    routes: list[PagingRoute] = []
    for severity in severities:
        reached = receivers(config, {"severity": severity})
        paged_alerts = sorted(
            {
                str(rule["alert"])
                for rule in rules
                if str((rule.get("labels") or {}).get("severity", "")) == severity
                and pagers.intersection(
                    receivers(
                        config,
                        {
                            **{str(k): str(v) for k, v in (rule.get("labels") or {}).items()},
                            "alertname": str(rule["alert"]),
                        },
                    )
                )
            }
        )
        routes.append(
            PagingRoute(
                severity=severity,
                receivers=reached,
                paging=tuple(r for r in reached if r in pagers),
                alerts=tuple(paged_alerts),
            )
        )
    return tuple(routes)


def summarize(
    stack: str,
    registrations: Iterable[Registration],
    files: Mapping[str, str],
    *,
    secrets: int,
    warnings: Iterable[str] = (),
) -> StackSummary:
    regs = list(registrations)
    types: dict[str, int] = {}
    for reg in regs:
        types[reg.type] = types.get(reg.type, 0) + 1
    return StackSummary(
        stack=stack,
        resources=len(regs),
        types=dict(sorted(types.items())),
        protected=tuple(
            sorted(
                (ProtectedResource(r.type, r.name, r.urn) for r in regs if r.protect),
                key=lambda p: p.urn,
            )
        ),
        paging=paging_routes(files),
        secrets=secrets,
        warnings=tuple(warnings),
    )
