"""The synthesized chart values' remote write, as the Prometheus configuration it becomes.

The operator turns `prometheus.prometheusSpec.remoteWrite` (camelCase RemoteWriteSpec) and
`externalLabels` into Prometheus's `remote_write` and `global.external_labels`. `estate check`
does the same translation with the field table the renderer is held to
(infra/render/remote_write.py: OPERATOR_TO_PROMETHEUS) and gives the result to `promtool check
config`, so a SigV4 block, a queue or a relabelling regex Prometheus would refuse is found
before `pulumi up`. A field the table does not know is reported, never silently left out.

Pure (no Pulumi, no I/O).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.render.remote_write import OPERATOR_TO_PROMETHEUS, RELABEL_OPERATOR_TO_PROMETHEUS


def _flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}{key}"
        if isinstance(item, Mapping):
            out.update(_flatten(item, f"{path}."))
        else:
            out[path] = item
    return out


def _put(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


def remote_write_entry(spec: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """One RemoteWriteSpec as a Prometheus remote_write entry, and the fields it could not
    translate (dotted operator paths)."""
    entry: dict[str, Any] = {}
    unknown: list[str] = []
    for path, value in _flatten(
        {k: v for k, v in spec.items() if k != "writeRelabelConfigs"}
    ).items():
        if path in OPERATOR_TO_PROMETHEUS:
            _put(entry, OPERATOR_TO_PROMETHEUS[path], value)
        else:
            unknown.append(path)
    relabels: list[dict[str, Any]] = []
    for index, rule in enumerate(spec.get("writeRelabelConfigs") or []):
        translated: dict[str, Any] = {}
        for key, value in rule.items():
            if key in RELABEL_OPERATOR_TO_PROMETHEUS:
                translated[RELABEL_OPERATOR_TO_PROMETHEUS[key]] = value
            else:
                unknown.append(f"writeRelabelConfigs[{index}].{key}")
        relabels.append(translated)
    if relabels:
        entry["write_relabel_configs"] = relabels
    return entry, unknown


def prometheus_config(chart_values: Mapping[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """The Prometheus configuration the chart's remote write becomes (None without one), and
    every field that was not translated."""
    spec = chart_values.get("prometheus", {}).get("prometheusSpec", {})
    remote = spec.get("remoteWrite") or []
    if not remote:
        return None, []
    entries: list[dict[str, Any]] = []
    unknown: list[str] = []
    for index, item in enumerate(remote):
        entry, missed = remote_write_entry(item)
        entries.append(entry)
        unknown += [f"remoteWrite[{index}].{path}" for path in missed]
    config: dict[str, Any] = {"remote_write": entries}
    labels = spec.get("externalLabels")
    if labels:
        config["global"] = {"external_labels": dict(labels)}
    return config, unknown
