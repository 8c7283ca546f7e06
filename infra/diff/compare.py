"""Compare two synth trees (out/<stack>/ of base and head): resources, rules, paging,
routing, dashboards, SLOs and the metrics store. Pure except for `paging`, which asks the
real amtool."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from infra.core import durations
from infra.diff.model import (
    BurnTier,
    DashboardChange,
    MetricsStoreChange,
    MetricsStoreSide,
    PagingChange,
    PanelChange,
    PropertyChange,
    ResourceChange,
    RuleChange,
    SloChange,
    StackDiff,
)
from infra.naming import MONITORING_RELEASE
from infra.review.policies import STATEFUL_TYPES
from infra.review.route_match import paging_receivers
from infra.tools.amtool import route_receivers

#: Inputs whose change makes the provider replace the resource (delete and create), from the
#: providers' schemas; `*` matches every type of a package.
REPLACE_ON: dict[str, frozenset[str]] = {
    "aws:cloudwatch/logGroup:LogGroup": frozenset({"name", "namePrefix", "logGroupClass"}),
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": frozenset({"name", "logGroupName"}),
    "aws:cloudwatch/metricAlarm:MetricAlarm": frozenset({"name"}),
    "aws:cloudwatch/queryDefinition:QueryDefinition": frozenset(),
    "aws:kms/key:Key": frozenset({"customerMasterKeySpec", "keyUsage", "multiRegion"}),
    "aws:kms/alias:Alias": frozenset({"name"}),
    "aws:sns/topic:Topic": frozenset({"name", "fifoTopic"}),
    "aws:sns/topicSubscription:TopicSubscription": frozenset({"topic", "protocol", "endpoint"}),
    "aws:iam/role:Role": frozenset({"name", "path"}),
    "aws:iam/policy:Policy": frozenset({"name", "path", "description"}),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": frozenset({"role", "policyArn"}),
    "aws:iam/rolePolicy:RolePolicy": frozenset({"name", "namePrefix", "role"}),
    "aws:amp/workspace:Workspace": frozenset({"kmsKeyArn"}),
    "aws:amp/workspaceConfiguration:WorkspaceConfiguration": frozenset({"workspaceId"}),
    "aws:s3/bucketV2:BucketV2": frozenset({"bucket", "bucketPrefix"}),
    "aws:s3/bucket:Bucket": frozenset({"bucket", "bucketPrefix"}),
    "kubernetes:helm.sh/v3:Release": frozenset({"name", "namespace"}),
    "kubernetes:*": frozenset({"metadata.name", "metadata.namespace"}),
    "random:*": frozenset({"length", "special", "upper", "lower", "numeric", "keepers"}),
}

_WORKSPACE = "aws:amp/workspace:Workspace"
#: Resources whose deletion or replacement loses data: the set the policies protect, and the
#: metrics workspace (its samples go with it).
STATEFUL = STATEFUL_TYPES | {_WORKSPACE}

_OPTION_KEYS = ("protect", "retainOnDelete", "parent", "provider", "dependsOn")


def _replace_keys(typ: str) -> frozenset[str]:
    exact = REPLACE_ON.get(typ)
    if exact is not None:
        return exact
    return REPLACE_ON.get(f"{typ.split(':', 1)[0]}:*", frozenset())


def _parse_json_strings(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested inputs as dotted paths (lists indexed), JSON strings parsed so a policy change
    shows the statement that changed."""
    value = _parse_json_strings(value)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key in sorted(value):
            out.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out or ({prefix: {}} if prefix else {})
    if isinstance(value, list):
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{i}]"))
        return out or ({prefix: []} if prefix else {})
    return {prefix: value}


def changed_paths(before: Any, after: Any) -> list[tuple[str, Any, Any]]:
    a, b = flatten(before), flatten(after)
    return [(p, a.get(p), b.get(p)) for p in sorted(set(a) | set(b)) if a.get(p) != b.get(p)]


def _forces(path: str, keys: frozenset[str]) -> bool:
    return any(path == k or path.startswith(f"{k}.") or path.startswith(f"{k}[") for k in keys)


def _load_resources(tree: Path) -> dict[str, dict[str, Any]]:
    path = tree / "resources.json"
    if not path.is_file():
        return {}
    doc = json.loads(path.read_text())
    return {r["urn"]: r for r in doc["resources"]}


def resources(base: Path, head: Path) -> tuple[ResourceChange, ...]:
    before, after = _load_resources(base), _load_resources(head)
    changes: list[ResourceChange] = []
    for urn in sorted(set(before) | set(after)):
        old, new = before.get(urn), after.get(urn)
        if old is None and new is not None:
            changes.append(ResourceChange(urn, new["type"], "added"))
            continue
        if new is None and old is not None:
            changes.append(
                ResourceChange(
                    urn,
                    old["type"],
                    "deleted",
                    stateful=old["type"] in STATEFUL,
                    retained=bool(old.get("retainOnDelete")),
                    protected=bool(old.get("protect")),
                )
            )
            continue
        assert old is not None
        assert new is not None
        keys = _replace_keys(new["type"])
        props = [
            PropertyChange(path, a, b, _forces(path, keys))
            for path, a, b in changed_paths(old["inputs"], new["inputs"])
        ]
        props += [
            PropertyChange(key, old.get(key), new.get(key))
            for key in _OPTION_KEYS
            if old.get(key) != new.get(key)
        ]
        if not props:
            continue
        replaced = any(p.forces_replacement for p in props)
        changes.append(
            ResourceChange(
                urn,
                new["type"],
                "replaced" if replaced else "changed",
                tuple(props),
                stateful=new["type"] in STATEFUL,
                retained=bool(old.get("retainOnDelete")) and not replaced,
                protected=bool(old.get("protect")),
            )
        )
    return tuple(changes)


def _alerts(tree: Path) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    rules_dir = tree / "prometheus" / "rules"
    if not rules_dir.is_dir():
        return out
    for path in sorted(rules_dir.glob("*.yaml")):
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            for rule in group.get("rules", []):
                if "alert" in rule:
                    labels = rule.get("labels") or {}
                    service = str(labels.get("service", ""))
                    out[(_alert_id(rule), service)] = {"group": group["name"], **rule}
    return out


#: The labels that tell apart the rules of one alert name: an SLO's burn tiers share
#: `ErrorBudgetFastBurn` (alerts/slos.py) and differ by SLO and windows.
_DISTINGUISHING = ("slo", "long_window", "short_window")


def _alert_id(rule: dict[str, Any]) -> str:
    """`HighErrorRate`, or `ErrorBudgetFastBurn{slo=backend-availability,long_window=1h,...}`
    for an alert whose name several rules share."""
    labels = rule.get("labels") or {}
    parts = [f"{k}={labels[k]}" for k in _DISTINGUISHING if k in labels]
    return f"{rule['alert']}{{{','.join(parts)}}}" if parts else str(rule["alert"])


def rules(base: Path, head: Path) -> tuple[RuleChange, ...]:
    before, after = _alerts(base), _alerts(head)
    changes: list[RuleChange] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old is None:
            changes.append(RuleChange(key[0], key[1], "added"))
        elif new is None:
            changes.append(RuleChange(key[0], key[1], "removed"))
        else:
            fields = tuple(PropertyChange(p, a, b) for p, a, b in changed_paths(old, new))
            if fields:
                changes.append(RuleChange(key[0], key[1], "changed", fields))
    return tuple(changes)


def _am(tree: Path) -> tuple[Path, dict[str, Any]] | None:
    path = tree / "alertmanager" / "alertmanager.yaml"
    if not path.is_file():
        return None
    return path, yaml.safe_load(path.read_text()) or {}


def _receivers(am: tuple[Path, dict[str, Any]] | None, labels: dict[str, str]) -> tuple[str, ...]:
    if am is None:
        return ()
    return route_receivers(am[0], labels)


def paging(base: Path, head: Path) -> tuple[PagingChange, ...]:
    """For every alert on either side: the receivers it reaches before and after (real
    amtool on each side's config). Only alerts whose receivers changed are returned."""
    before_alerts, after_alerts = _alerts(base), _alerts(head)
    before_am, after_am = _am(base), _am(head)
    paging_before = paging_receivers(before_am[1]) if before_am else frozenset()
    paging_after = paging_receivers(after_am[1]) if after_am else frozenset()
    changes: list[PagingChange] = []
    for key in sorted(set(before_alerts) | set(after_alerts)):
        old, new = before_alerts.get(key), after_alerts.get(key)
        before = _receivers(before_am, _labels(old)) if old else ()
        after = _receivers(after_am, _labels(new)) if new else ()
        if before != after:
            changes.append(
                PagingChange(
                    key[0],
                    key[1],
                    before,
                    after,
                    paged_before=bool(set(before) & paging_before),
                    pages_after=bool(set(after) & paging_after),
                )
            )
    return tuple(changes)


def _labels(rule: dict[str, Any]) -> dict[str, str]:
    return {
        "alertname": str(rule["alert"]),
        **{k: str(v) for k, v in (rule.get("labels") or {}).items()},
    }


def routing(base: Path, head: Path) -> tuple[PropertyChange, ...]:
    before, after = _am(base), _am(head)
    old = {
        k: v for k, v in (before[1] if before else {}).items() if k in ("route", "inhibit_rules")
    }
    new = {k: v for k, v in (after[1] if after else {}).items() if k in ("route", "inhibit_rules")}
    return tuple(PropertyChange(p, a, b) for p, a, b in changed_paths(old, new))


def _dashboards(tree: Path) -> dict[str, dict[str, Any]]:
    folder = tree / "grafana" / "dashboards"
    if not folder.is_dir():
        return {}
    docs = (json.loads(p.read_text()) for p in sorted(folder.rglob("*.json")))
    return {str(d.get("uid")): d for d in docs}


def _panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def _panel_key(panel: dict[str, Any]) -> str:
    return f"{panel.get('id')}: {panel.get('title', '')}"


def dashboards(base: Path, head: Path) -> tuple[DashboardChange, ...]:
    before, after = _dashboards(base), _dashboards(head)
    changes: list[DashboardChange] = []
    for uid in sorted(set(before) | set(after)):
        old, new = before.get(uid), after.get(uid)
        if old is None or new is None:
            doc = new or old or {}
            changes.append(
                DashboardChange(
                    uid, str(doc.get("title", uid)), "added" if old is None else "removed"
                )
            )
            continue
        old_panels = {p.get("id"): p for p in _panels(old)}
        new_panels = {p.get("id"): p for p in _panels(new)}
        panels: list[PanelChange] = []
        for pid in sorted(set(old_panels) | set(new_panels), key=str):
            a, b = old_panels.get(pid), new_panels.get(pid)
            if a is None and b is not None:
                panels.append(PanelChange(_panel_key(b), "added"))
            elif b is None and a is not None:
                panels.append(PanelChange(_panel_key(a), "removed"))
            elif a is not None and b is not None:
                fields = tuple(PropertyChange(p, x, y) for p, x, y in changed_paths(a, b))
                if fields:
                    panels.append(PanelChange(_panel_key(b), "changed", fields))
        rest = [
            PropertyChange(p, x, y)
            for p, x, y in changed_paths(
                {k: v for k, v in old.items() if k != "panels"},
                {k: v for k, v in new.items() if k != "panels"},
            )
        ]
        if panels or rest:
            extra = (PanelChange("(dashboard settings)", "changed", tuple(rest)),) if rest else ()
            changes.append(
                DashboardChange(uid, str(new.get("title", uid)), "changed", tuple(panels) + extra)
            )
    return tuple(changes)


def _slo_rules(tree: Path) -> dict[str, list[dict[str, Any]]]:
    """The burn-rate alerts by SLO (`slo` label): alerts carrying `objective` and `burn_rate`."""
    out: dict[str, list[dict[str, Any]]] = {}
    for rule in _alerts(tree).values():
        labels = rule.get("labels") or {}
        if {"slo", "objective", "burn_rate"} <= set(labels):
            out.setdefault(str(labels["slo"]), []).append(rule)
    return out


#: The SLO window's ratio record: the average of the shortest window's ratio over the SLO
#: window (alerts/slos.py), e.g. `avg_over_time(slo:sli_error:ratio_rate5m{...}[30d])`.
_WINDOW_AVERAGE = re.compile(r"^\s*avg_over_time\(.*\[([0-9]+[smhdwy])\]\)\s*$", re.DOTALL)


def _slo_windows(tree: Path) -> dict[str, str]:
    """SLO (`slo` label) -> its window, read from its window-average recording rule."""
    out: dict[str, str] = {}
    rules_dir = tree / "prometheus" / "rules"
    if not rules_dir.is_dir():
        return out
    for path in sorted(rules_dir.glob("*.yaml")):
        for group in (yaml.safe_load(path.read_text()) or {}).get("groups", []):
            for rule in group.get("rules", []):
                slo = (rule.get("labels") or {}).get("slo")
                match = _WINDOW_AVERAGE.match(str(rule.get("expr", "")))
                if "record" in rule and slo is not None and match:
                    out[str(slo)] = match.group(1)
    return out


def _tier(
    rule: dict[str, Any],
    am: tuple[Path, dict[str, Any]] | None,
    paging_set: frozenset[str],
) -> BurnTier:
    labels = rule.get("labels") or {}
    burn = Decimal(str(labels["burn_rate"]))
    budget = Decimal(1) - Decimal(str(labels["objective"]))
    receivers = _receivers(am, _labels(rule))
    return BurnTier(
        alert=str(rule["alert"]),
        burn_rate=float(burn),
        long_window=str(labels.get("long_window", "")),
        short_window=str(labels.get("short_window", "")),
        threshold=float(burn * budget),
        severity=str(labels.get("severity", "")),
        receivers=receivers,
        pages=bool(set(receivers) & paging_set),
    )


def _slo_side(
    rules: list[dict[str, Any]], am: tuple[Path, dict[str, Any]] | None, recorded: str | None
) -> tuple[tuple[BurnTier, ...], float | None, str | None]:
    """The tiers, objective and window of one SLO on one side (`recorded`: the window its
    window-average record reads, when the alerts carry no `window` label)."""
    paging_set = paging_receivers(am[1]) if am else frozenset()
    tiers = sorted(
        (_tier(r, am, paging_set) for r in rules), key=lambda t: (-t.burn_rate, t.long_window)
    )
    labels = (rules[0].get("labels") or {}) if rules else {}
    objective = float(labels["objective"]) if "objective" in labels else None
    window = str(labels["window"]) if "window" in labels else recorded
    return tuple(tiers), objective, window


def _tier_fields(t: BurnTier | None) -> dict[str, Any]:
    if t is None:
        return {}
    return {
        "threshold": t.threshold,
        "severity": t.severity,
        "receivers": list(t.receivers),
        "pages": t.pages,
    }


def slos(base: Path, head: Path) -> tuple[SloChange, ...]:
    """Every SLO whose objective, window or burn tiers differ, with the tiers that page on
    each side (real amtool on each side's routing)."""
    before, after = _slo_rules(base), _slo_rules(head)
    windows_before, windows_after = _slo_windows(base), _slo_windows(head)
    changes: list[SloChange] = []
    for name in sorted(set(before) | set(after)):
        old_rules, new_rules = before.get(name, []), after.get(name, [])
        old_recorded = windows_before.get(name) if old_rules else None
        new_recorded = windows_after.get(name) if new_rules else None
        if (
            _comparable(old_rules) == _comparable(new_rules)
            and old_recorded == new_recorded
            and _am_same(base, head)
        ):
            continue
        old, old_objective, old_window = _slo_side(old_rules, _am(base), old_recorded)
        new, new_objective, new_window = _slo_side(new_rules, _am(head), new_recorded)
        old_by = {t.name: t for t in old}
        new_by = {t.name: t for t in new}
        moved = [
            PropertyChange(f"{tier}.{path}", a, b)
            for tier in [*old_by, *(t for t in new_by if t not in old_by)]
            for path, a, b in changed_paths(
                _tier_fields(old_by.get(tier)), _tier_fields(new_by.get(tier))
            )
        ]
        if old == new and old_objective == new_objective and old_window == new_window:
            continue
        labels = ((new_rules or old_rules)[0].get("labels")) or {}
        changes.append(
            SloChange(
                slo=name,
                service=str(labels.get("service", "")),
                sli=str(labels.get("sli", "")),
                kind="added" if not old_rules else "removed" if not new_rules else "changed",
                objective_before=old_objective,
                objective_after=new_objective,
                window_before=old_window,
                window_after=new_window,
                tiers_before=old,
                tiers_after=new,
                pages_before=tuple(t.name for t in old if t.pages),
                pages_after=tuple(t.name for t in new if t.pages),
                tickets_before=tuple(t.name for t in old if not t.pages),
                tickets_after=tuple(t.name for t in new if not t.pages),
                moved=tuple(moved),
            )
        )
    return tuple(changes)


def _comparable(rules: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in rules)


def _am_same(base: Path, head: Path) -> bool:
    """Both sides have the same Alertmanager config (so unchanged SLO rules reach the same
    receivers on both, without asking amtool)."""
    before, after = _am(base), _am(head)
    return (before[1] if before else None) == (after[1] if after else None)


_STORE = "blueharvest:observability:MetricsStore"
_CHART_VALUES = f"helm/{MONITORING_RELEASE}.values.yaml"
#: `https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/...`
_WORKSPACE_URL = re.compile(
    r"^https://aps-workspaces\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/workspaces/(?P<id>ws-[^/]+)/"
)


def _store_side(tree: Path) -> MetricsStoreSide | None:
    """Where one side's samples go; None when the side has no monitoring chart."""
    path = tree / _CHART_VALUES
    if not path.is_file():
        return None
    values = yaml.safe_load(path.read_text()) or {}
    spec = (values.get("prometheus") or {}).get("prometheusSpec") or {}
    urls = tuple(sorted(str(w.get("url")) for w in spec.get("remoteWrite") or []))
    match = next((m for m in map(_WORKSPACE_URL.match, urls) if m), None)
    owned = [r for r in _load_resources(tree).values() if f"{_STORE}$" in r["urn"]]
    workspace = next((r for r in owned if r["type"] == _WORKSPACE), None)
    retention = next(
        (
            r["inputs"].get("retentionPeriodInDays")
            for r in owned
            if r["type"] == "aws:amp/workspaceConfiguration:WorkspaceConfiguration"
        ),
        None,
    )
    return MetricsStoreSide(
        local_retention=str(spec["retention"]) if spec.get("retention") else None,
        remote_urls=urls,
        workspace_id=match.group("id") if match else None,
        region=match.group("region") if match else None,
        workspace_alias=str(workspace["inputs"].get("alias")) if workspace else None,
        workspace_retention_days=int(retention) if retention is not None else None,
        workspace_protected=bool(workspace and workspace.get("protect")),
        workspace_retained=bool(workspace and workspace.get("retainOnDelete")),
        roles=_store_roles(owned),
    )


def _store_roles(owned: list[dict[str, Any]]) -> tuple[str, ...]:
    """`role (namespace/service-account: actions)` for each IAM role of the store."""
    actions: dict[str, list[str]] = {}
    for r in owned:
        if r["type"] == "aws:iam/rolePolicy:RolePolicy":
            document = _parse_json_strings(r["inputs"].get("policy"))
            for statement in (document or {}).get("Statement", []):
                listed = statement.get("Action", [])
                listed = [listed] if isinstance(listed, str) else listed
                actions.setdefault(str(r["inputs"].get("role")), []).extend(listed)
    out = []
    for r in owned:
        if r["type"] != "aws:iam/role:Role":
            continue
        name = str(r["inputs"].get("name"))
        trust = _parse_json_strings(r["inputs"].get("assumeRolePolicy")) or {}
        subjects = [
            value.removeprefix("system:serviceaccount:").replace(":", "/")
            for statement in trust.get("Statement", [])
            for key, value in ((statement.get("Condition") or {}).get("StringEquals") or {}).items()
            if key.endswith(":sub")
        ]
        granted = ", ".join(sorted(actions.get(name, []))) or "no actions"
        out.append(f"{name} ({', '.join(subjects) or 'no service account'}: {granted})")
    return tuple(sorted(out))


def _shorter(before: str | None, after: str | None) -> bool:
    return (
        before is not None
        and after is not None
        and durations.seconds(after) < durations.seconds(before)
    )


def _store_effects(a: MetricsStoreSide, b: MetricsStoreSide) -> tuple[list[str], list[str]]:
    """(effects, losses) of going from `a` to `b`."""
    effects: list[str] = []
    losses: list[str] = []
    moved = a.workspace_key != b.workspace_key
    if moved and a.workspace_key is not None:
        if a.workspace_alias is None:
            effects.append(
                f"This cluster stops writing to {a.workspace}; the history there stays (the"
                " stack that declares the workspace keeps it)."
            )
        elif a.workspace_retained:
            effects.append(
                f"{a.workspace} leaves the stack but is retained (retainOnDelete): its history"
                " stays in AMP, billed for storage, until someone deletes the workspace."
            )
        else:
            effects.append(
                f"DATA LOSS: {a.workspace} is deleted with its history (every sample it holds)."
            )
        if a.workspace_protected:
            effects.append(
                "The workspace is protected: pulumi up stops until someone unprotects it on"
                " purpose."
            )
    if moved and b.workspace_key is not None:
        effects.append(
            f"Prometheus starts writing to {b.workspace} (SigV4, through its IRSA role);"
            " the workspace holds samples from the first write on: older history stays on"
            " Prometheus's disk only."
        )
    if a.remote_urls and not b.remote_urls:
        effects.append(
            "Samples stay on Prometheus's disk only: Grafana loses the workspace's data"
            " source, and nothing older than the local retention can be queried any more."
        )
    if _shorter(a.local_retention, b.local_retention):
        losses.append(
            f"Prometheus keeps {b.local_retention} instead of {a.local_retention}: samples"
            f" older than {b.local_retention} are deleted from its disk."
        )
    same_workspace = not moved and b.workspace_alias is not None
    if (
        same_workspace
        and a.workspace_retention_days is not None
        and b.workspace_retention_days is not None
        and b.workspace_retention_days < a.workspace_retention_days
    ):
        losses.append(
            f"{b.workspace} keeps {b.workspace_retention_days}d instead of"
            f" {a.workspace_retention_days}d: samples older than that are deleted from AMP."
        )
    return effects, losses


def metrics_store(base: Path, head: Path) -> MetricsStoreChange | None:
    """Where the samples go on each side, when that differs (store, workspace, roles,
    retention), with what the change deletes."""
    before, after = _store_side(base), _store_side(head)
    if before is None or after is None or before == after:
        return None
    effects, losses = _store_effects(before, after)
    return MetricsStoreChange(before, after, tuple(effects), tuple(losses))


def compare_stack(stack: str, base: Path, head: Path) -> StackDiff:
    notes = []
    if not base.is_dir():
        notes.append(f"{stack} does not exist at the base: everything is added")
    if not head.is_dir():
        notes.append(f"{stack} does not exist at the head: everything is removed")
    return StackDiff(
        stack=stack,
        resources=resources(base, head),
        rules=rules(base, head),
        paging=paging(base, head),
        routing=routing(base, head),
        dashboards=dashboards(base, head),
        notes=tuple(notes),
        slos=slos(base, head),
        metrics_store=metrics_store(base, head),
    )
