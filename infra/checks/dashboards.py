"""Checks over Grafana dashboard JSON models: what Grafana would accept silently and show as
"No data", an error triangle, or a jumble of panels.

Each check is a pure function of a dashboard model (the JSON as Grafana stores it) and of what
the stack provides (a metrics catalog, the data sources by UID); each finding names the
dashboard and the panel. The checks:

- every Prometheus target's PromQL parses, once Grafana's macros ($__rate_interval, ...) and
  the dashboard's template variables are replaced by stand-ins (each variable's current
  value); a panel query must not be a range vector; a template variable it uses must exist;
- every metric a query (or a query variable's `label_values(...)`) selects is in the catalog;
- `rate`/`irate` windows are `$__rate_interval`, not a fixed window (a warning);
- every data source reference resolves to a known UID of the expected type;
- panel ids are unique; grid positions fit 24 columns and do not overlap;
- every panel has a title, and a unit unless it shows no numbers (logs, text, traces).

Across dashboards: `check_contract` compares them with infra/catalog/dashboard_refs.py (the UIDs,
titles and panel ids alerts rely on) and `check_alert_links` resolves every alert's `dashboard`
annotation (`/d/<uid>/<slug>?viewPanel=<id>`) to a real dashboard and panel.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal
from urllib.parse import parse_qs, urlparse

import promql_parser

from infra.catalog import dashboard_refs
from infra.catalog.metrics_catalog import metrics_catalog
from infra.estate import EstatePlan
from infra.naming import DATASOURCE_UIDS
from infra.render.grafana import AMP_DATASOURCE_TYPE, datasources
from infra.rules import RuleGroup, iter_alerts

Severity = Literal["error", "warning"]
Model = Mapping[str, Any]

#: Stand-ins for Grafana's macros. The rate interval's is odd on purpose (as in sloth's
#: validation): a rate window of exactly 7m13s came from the macro, any other is fixed.
MACROS: Mapping[str, str] = {
    "__rate_interval": "7m13s",
    "__interval": "1m",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
    "__interval_ms": "60000",
    "__rate_interval_ms": "433000",
    "__from": "1700000000000",
    "__to": "1700003600000",
}
RATE_INTERVAL_STAND_IN = timedelta(minutes=7, seconds=13)

#: Panel types that render no numbers, so a unit means nothing to them.
UNITLESS_PANELS = frozenset(
    {"row", "logs", "text", "news", "dashlist", "traces", "nodeGraph", "annolist", "alertlist"}
)
#: Data source references Grafana resolves itself.
BUILTIN_DATASOURCES = frozenset({"grafana", "-- Grafana --", "-- Mixed --", "-- Dashboard --"})
GRID_COLUMNS = 24

_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")
_LABEL_VALUES = re.compile(r"^\s*label_values\((?P<selector>.+),\s*(?P<label>\w+)\s*\)\s*$", re.S)
_QUERY_RESULT = re.compile(r"^\s*query_result\((?P<expr>.+)\)\s*$", re.S)
_RATES = frozenset({"rate", "irate"})


@dataclass(frozen=True)
class Finding:
    """One problem, where it is: the dashboard (its uid) and the panel (id and title)."""

    severity: Severity
    dashboard: str
    panel: str | None
    message: str

    def __str__(self) -> str:
        where = self.dashboard if self.panel is None else f"{self.dashboard}, {self.panel}"
        return f"{self.severity}: {where}: {self.message}"


@dataclass(frozen=True)
class Stack:
    """What a stack provides to its dashboards."""

    #: Series names known to exist (a MetricsCatalog, or any container of names).
    metrics: Container[str]
    #: Data source uid -> type (prometheus, loki, jaeger, ...).
    datasources: Mapping[str, str]
    #: Stand-ins for Grafana's macros (tests may pass shorter windows).
    macros: Mapping[str, str] = field(default_factory=lambda: MACROS)


# --------------------------------------------------------------------------- model walking


def panels(model: Model) -> Iterator[Mapping[str, Any]]:
    """Every panel, rows' nested panels (collapsed rows) included."""
    for panel in model.get("panels") or []:
        yield panel
        yield from panel.get("panels") or []


def panel_name(panel: Mapping[str, Any]) -> str:
    return f'panel {panel.get("id", "?")} "{panel.get("title") or ""}"'


def _dashboard_name(model: Model) -> str:
    return str(model.get("uid") or model.get("title") or "<no uid>")


def variables(model: Model) -> list[Mapping[str, Any]]:
    templating = model.get("templating") or {}
    return list(templating.get("list") or [])


def _current_value(variable: Mapping[str, Any]) -> str:
    current = variable.get("current") or {}
    value = current.get("value")
    if isinstance(value, list):
        value = "|".join(str(v) for v in value)
    if value in (None, "", "$__all"):
        options = variable.get("options") or []
        value = options[0].get("value") if options else None
    return str(value) if value not in (None, "") else "stand-in"


def variable_values(model: Model) -> dict[str, str]:
    """Template variable name -> its current value (the stand-in used when parsing)."""
    return {str(v["name"]): _current_value(v) for v in variables(model) if v.get("name")}


def substitute(
    expr: str, values: Mapping[str, str], macros: Mapping[str, str] = MACROS
) -> tuple[str, list[str]]:
    """`expr` with every `$var`, `${var}`, `${var:format}`, `[[var]]` and macro replaced;
    also the names it used that are neither a variable nor a known macro."""
    unknown: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g is not None)
        if name in values:
            return values[name]
        if name in macros:
            return macros[name]
        unknown.append(name)
        return "unknown"

    return _VARIABLE.sub(replace, expr), unknown


def _selected_names(tree: promql_parser.Expr) -> tuple[list[str], list[str]]:
    """Metric names a parsed expression selects, and selectors that name no metric."""
    names: list[str] = []
    nameless: list[str] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.append(node.name)
                return
            exact = [
                m.value
                for m in node.matchers.matchers
                if m.name == "__name__" and m.op == promql_parser.MatchOp.Equal
            ]
            if exact:
                names.extend(exact)
            else:
                nameless.append(str(node))

    promql_parser.walk(tree, visit)
    return names, nameless


def _fixed_rate_windows(tree: promql_parser.Expr) -> list[str]:
    """rate()/irate() calls whose window is not the $__rate_interval stand-in."""
    fixed: list[str] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.Call) and node.func.name in _RATES:
            for arg in node.args:
                if isinstance(arg, promql_parser.MatrixSelector):
                    if arg.range != RATE_INTERVAL_STAND_IN:
                        fixed.append(
                            f"{node.func.name}(...[{promql_parser.display_duration(arg.range)}])"
                        )
                elif isinstance(arg, promql_parser.SubqueryExpr):
                    fixed.append(f"{node.func.name}(<subquery>)")

    promql_parser.walk(tree, visit)
    return fixed


def promql_targets(
    model: Model, panel: Mapping[str, Any], macros: Mapping[str, str] = MACROS
) -> list[tuple[str, str]]:
    """(refId, PromQL) of a panel's Prometheus targets, variables and macros substituted
    (the current values and `macros`): the queries as Grafana would send them."""
    values = variable_values(model)
    panel_ref = panel.get("datasource")
    out: list[tuple[str, str]] = []
    for target in panel.get("targets") or []:
        ref = target.get("datasource") or panel_ref
        kind = ref.get("type") if isinstance(ref, Mapping) else None
        if kind == "prometheus" and target.get("expr"):
            text, _ = substitute(str(target["expr"]), values, macros)
            out.append((str(target.get("refId", "?")), text))
    return out


def panel_metrics(model: Model, panel: Mapping[str, Any]) -> frozenset[str]:
    """The metric names a panel's Prometheus targets read."""
    names: set[str] = set()
    for _, text in promql_targets(model, panel):
        names.update(_selected_names(promql_parser.parse(text))[0])
    return frozenset(names)


# --------------------------------------------------------------------------- PromQL


def check_promql(
    expr: str,
    *,
    stack: Stack,
    values: Mapping[str, str],
    dashboard: str,
    panel: str | None,
    what: str = "query",
) -> list[Finding]:
    """Parse one Prometheus query after substitution; check its metrics and rate windows."""
    findings: list[Finding] = []

    def add(severity: Severity, message: str) -> None:
        findings.append(Finding(severity, dashboard, panel, message))

    if not expr.strip():
        add("error", f"{what} is empty")
        return findings
    text, unknown = substitute(expr, values, stack.macros)
    for name in unknown:
        add("error", f"{what} uses ${name}, which is neither a template variable nor a macro")
    if unknown:  # the rest cannot be judged until the variable exists
        return findings
    try:
        tree = promql_parser.parse(text)
    except ValueError as err:
        add("error", f"{what} is not valid PromQL ({err}): {expr}")
        return findings
    if isinstance(tree, promql_parser.MatrixSelector | promql_parser.SubqueryExpr):
        add("error", f"{what} is a range vector; a panel needs an instant vector: {expr}")
    if isinstance(tree, promql_parser.StringLiteral):
        add("error", f"{what} is a string literal: {expr}")
    names, nameless = _selected_names(tree)
    for name in sorted(set(names)):
        if name not in stack.metrics:
            add("error", f"{what} reads {name}, which is not in the metrics catalog")
    for selector in nameless:
        add("error", f"{what} selects {selector} without a metric name")
    for call in _fixed_rate_windows(tree):
        add("warning", f"{what} takes {call}: use [$__rate_interval] so the window fits the step")
    return findings


def _variable_expr(query: Any) -> str | None:
    """The PromQL inside a Prometheus query variable's query, if it has any."""
    text = query.get("query") if isinstance(query, Mapping) else query
    if not isinstance(text, str):
        return None
    if m := _LABEL_VALUES.match(text):
        return m.group("selector")
    if m := _QUERY_RESULT.match(text):
        return m.group("expr")
    return None


# --------------------------------------------------------------------------- per dashboard


def check_datasource_ref(
    ref: Any, *, stack: Stack, expected: str | None, dashboard: str, panel: str | None, what: str
) -> list[Finding]:
    if ref is None:
        return []
    if isinstance(ref, str):  # a legacy reference by name
        return [Finding("error", dashboard, panel, f"{what} names data source {ref!r}, not a uid")]
    uid = ref.get("uid") if isinstance(ref, Mapping) else None
    if not isinstance(uid, str) or not uid:
        return [Finding("error", dashboard, panel, f"{what} has a data source without a uid")]
    if uid in BUILTIN_DATASOURCES or uid.startswith("$"):
        return []
    if uid not in stack.datasources:
        known = ", ".join(sorted(stack.datasources))
        return [
            Finding("error", dashboard, panel, f"{what} uses data source {uid!r}; known: {known}")
        ]
    actual = stack.datasources[uid]
    declared = ref.get("type")
    if declared is not None and declared != actual:
        return [
            Finding(
                "error",
                dashboard,
                panel,
                f"{what} says data source {uid!r} is {declared}, but it is {actual}",
            )
        ]
    if expected is not None and actual != expected:
        return [
            Finding("error", dashboard, panel, f"{what} uses {uid!r} ({actual}), not {expected}")
        ]
    return []


def _ref_type(ref: Any, stack: Stack) -> str | None:
    if isinstance(ref, Mapping):
        uid = ref.get("uid")
        if isinstance(uid, str) and uid in stack.datasources:
            return stack.datasources[uid]
        declared = ref.get("type")
        return declared if isinstance(declared, str) else None
    return None


def check_queries(model: Model, stack: Stack) -> list[Finding]:
    """Data source references of panels, targets and variables; PromQL of Prometheus targets
    and query variables."""
    dashboard = _dashboard_name(model)
    values = variable_values(model)
    findings: list[Finding] = []
    for variable in variables(model):
        where = f'variable "{variable.get("name")}"'
        ref = variable.get("datasource")
        findings += check_datasource_ref(
            ref, stack=stack, expected=None, dashboard=dashboard, panel=where, what="variable"
        )
        if variable.get("type") == "query" and _ref_type(ref, stack) == "prometheus":
            expr = _variable_expr(variable.get("query"))
            if expr is not None:
                findings += check_promql(
                    expr,
                    stack=stack,
                    values=values,
                    dashboard=dashboard,
                    panel=where,
                    what="variable query",
                )
    for panel in panels(model):
        if panel.get("type") == "row":
            continue
        where = panel_name(panel)
        panel_ref = panel.get("datasource")
        findings += check_datasource_ref(
            panel_ref, stack=stack, expected=None, dashboard=dashboard, panel=where, what="panel"
        )
        # A target's data source is the panel's, unless the panel mixes data sources.
        mixed = not isinstance(panel_ref, Mapping) or panel_ref.get("uid") in BUILTIN_DATASOURCES
        for target in panel.get("targets") or []:
            ref_id = target.get("refId", "?")
            what = f"query {ref_id}"
            ref = target.get("datasource") or panel_ref
            findings += check_datasource_ref(
                target.get("datasource"),
                stack=stack,
                expected=None if mixed else _ref_type(panel_ref, stack),
                dashboard=dashboard,
                panel=where,
                what=what,
            )
            if _ref_type(ref, stack) == "prometheus":
                findings += check_promql(
                    str(target.get("expr") or ""),
                    stack=stack,
                    values=values,
                    dashboard=dashboard,
                    panel=where,
                    what=what,
                )
            elif not target.get("expr") and _ref_type(ref, stack) == "loki":
                findings.append(Finding("error", dashboard, where, f"{what} has no LogQL"))
    return findings


def check_panel_ids(model: Model) -> list[Finding]:
    dashboard = _dashboard_name(model)
    findings: list[Finding] = []
    seen: dict[int, str] = {}
    for panel in panels(model):
        pid = panel.get("id")
        where = panel_name(panel)
        if not isinstance(pid, int):
            findings.append(Finding("error", dashboard, where, "has no numeric id"))
            continue
        if pid in seen:
            findings.append(Finding("error", dashboard, where, f"reuses id {pid} of {seen[pid]}"))
        else:
            seen[pid] = where
    return findings


@dataclass(frozen=True)
class _Box:
    x: int
    y: int
    w: int
    h: int

    def overlaps(self, other: _Box) -> bool:
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )


def check_layout(model: Model) -> list[Finding]:
    """Top-level panels (and expanded rows) on the 24-column grid, none overlapping."""
    dashboard = _dashboard_name(model)
    findings: list[Finding] = []
    placed: list[tuple[str, _Box]] = []
    for panel in model.get("panels") or []:
        where = panel_name(panel)
        pos = panel.get("gridPos")
        if not isinstance(pos, Mapping) or not all(
            isinstance(pos.get(k), int) for k in ("x", "y", "w", "h")
        ):
            findings.append(Finding("error", dashboard, where, "has no grid position"))
            continue
        box = _Box(pos["x"], pos["y"], pos["w"], pos["h"])
        if box.w <= 0 or box.h <= 0 or box.x < 0 or box.y < 0:
            findings.append(Finding("error", dashboard, where, f"has an empty grid box {pos}"))
            continue
        if box.x + box.w > GRID_COLUMNS:
            findings.append(
                Finding(
                    "error",
                    dashboard,
                    where,
                    f"ends at column {box.x + box.w}, past the grid's {GRID_COLUMNS}",
                )
            )
        for other_name, other in placed:
            if box.overlaps(other):
                findings.append(Finding("error", dashboard, where, f"overlaps {other_name}"))
        placed.append((where, box))
    return findings


def check_titles_units(model: Model) -> list[Finding]:
    dashboard = _dashboard_name(model)
    findings: list[Finding] = []
    if not str(model.get("title") or "").strip():
        findings.append(Finding("error", dashboard, None, "the dashboard has no title"))
    if not str(model.get("uid") or "").strip():
        findings.append(Finding("error", dashboard, None, "the dashboard has no uid"))
    for panel in panels(model):
        where = panel_name(panel)
        if not str(panel.get("title") or "").strip():
            findings.append(Finding("error", dashboard, where, "has no title"))
        if panel.get("type") in UNITLESS_PANELS:
            continue
        defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
        if not str(defaults.get("unit") or "").strip():
            findings.append(Finding("error", dashboard, where, "has no unit"))
    return findings


def check_dashboard(model: Model, stack: Stack) -> list[Finding]:
    """Every per-dashboard check."""
    return [
        *check_titles_units(model),
        *check_panel_ids(model),
        *check_layout(model),
        *check_queries(model, stack),
    ]


# --------------------------------------------------------------------------- across dashboards


def _panel_ids(model: Model) -> dict[int, str]:
    return {
        p["id"]: str(p.get("title") or "") for p in panels(model) if isinstance(p.get("id"), int)
    }


def check_contract(
    models: Iterable[Model], refs: Sequence[dashboard_refs.Dashboard] = dashboard_refs.DASHBOARDS
) -> list[Finding]:
    """The dashboards have the UIDs, titles and panels (ids and titles) dashboard_refs declares."""
    by_uid = {str(m.get("uid")): m for m in models}
    findings: list[Finding] = []
    for ref in refs:
        model = by_uid.get(ref.uid)
        if model is None:
            findings.append(
                Finding("error", ref.uid, None, "is declared in dashboard_refs but not built")
            )
            continue
        if model.get("title") != ref.title:
            findings.append(
                Finding(
                    "error", ref.uid, None, f"is titled {model.get('title')!r}, not {ref.title!r}"
                )
            )
        ids = _panel_ids(model)
        for panel in ref.panels:
            where = f'panel {panel.id} "{panel.title}"'
            if panel.id not in ids:
                findings.append(Finding("error", ref.uid, where, "is missing"))
            elif ids[panel.id] != panel.title:
                findings.append(
                    Finding("error", ref.uid, where, f"is titled {ids[panel.id]!r} instead")
                )
    return findings


def check_alert_links(models: Iterable[Model], links: Iterable[tuple[str, str]]) -> list[Finding]:
    """Each (alert, url) link opens an existing dashboard and panel (`viewPanel`)."""
    by_uid = {str(m.get("uid")): m for m in models}
    findings: list[Finding] = []
    for alert, url in links:
        parsed = urlparse(url)
        match = re.fullmatch(r".*/d/(?P<uid>[^/]+)(/[^/]*)?", parsed.path)
        where = f"alert {alert}"
        if match is None:
            findings.append(Finding("error", "?", where, f"link {url} is not a /d/<uid> link"))
            continue
        uid = match.group("uid")
        model = by_uid.get(uid)
        if model is None:
            findings.append(Finding("error", uid, where, f"links to {url}: no such dashboard"))
            continue
        view = parse_qs(parsed.query).get("viewPanel", [])
        if len(view) != 1 or not view[0].isdigit():
            findings.append(Finding("error", uid, where, f"link {url} names no viewPanel id"))
            continue
        if int(view[0]) not in _panel_ids(model):
            findings.append(
                Finding("error", uid, where, f"links to panel {view[0]}, which {uid} lacks")
            )
    return findings


def check_all(
    models: Sequence[Model],
    stack: Stack,
    *,
    alert_links: Iterable[tuple[str, str]] = (),
    refs: Sequence[dashboard_refs.Dashboard] = dashboard_refs.DASHBOARDS,
) -> list[Finding]:
    """Every check over a set of dashboards, plus the uids being unique among them."""
    findings: list[Finding] = []
    seen: set[str] = set()
    for model in models:
        uid = _dashboard_name(model)
        if uid in seen:
            findings.append(Finding("error", uid, None, "two dashboards share this uid"))
        seen.add(uid)
        findings += check_dashboard(model, stack)
    findings += check_contract(models, refs)
    findings += check_alert_links(models, alert_links)
    return findings


# --------------------------------------------------------------------------- a stack


def alert_links(groups: Iterable[RuleGroup]) -> list[tuple[str, str]]:
    """(alert name, dashboard link) of every alerting rule."""
    return [(alert.name, alert.dashboard) for alert in iter_alerts(groups)]


def stack_for(estate: EstatePlan) -> Stack:
    """The metrics catalog (with this stack's recording rules) and data sources of a stack,
    from its plan (the rule groups and data sources estate.plan() built). With metrics.store
    amp, Grafana also has the workspace's data source (declared with the workspace's endpoint,
    a value known only once it exists, so it is not among the in-cluster ones)."""
    monitoring = estate.monitoring
    grafana = monitoring.chart.grafana
    sources = {str(s["uid"]): str(s["type"]) for s in datasources(grafana)}
    if grafana.store is not None:
        sources[DATASOURCE_UIDS["amp"]] = AMP_DATASOURCE_TYPE
    return Stack(metrics=metrics_catalog(monitoring.groups), datasources=sources)


def check_estate(estate: EstatePlan) -> list[Finding]:
    """Every dashboard check over the dashboards one stack's plan holds, its alerts' links
    included."""
    models = [doc.json for doc in estate.dashboards.dashboards]
    groups = estate.monitoring.groups
    refs = (*dashboard_refs.DASHBOARDS, *slo_dashboard_refs(groups))
    return check_all(models, stack_for(estate), alert_links=alert_links(groups), refs=refs)


def slo_dashboard_refs(groups: Iterable[RuleGroup]) -> list[dashboard_refs.Dashboard]:
    """The SLO dashboards a stack must have: one per service its SLO alerts name, with the
    panels of the SLIs they carry, so a missing or renumbered SLO panel is a finding."""
    slis: dict[str, set[str]] = {}
    for alert in iter_alerts(groups):
        sli = alert.labels.get("sli")
        if sli is not None and "slo" in alert.labels:
            slis.setdefault(alert.service, set()).add(sli)
    return [
        dashboard_refs.slo_dashboard(service, tuple(sorted(found)))
        for service, found in sorted(slis.items())
    ]
