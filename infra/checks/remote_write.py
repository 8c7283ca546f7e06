"""The synthesized chart values' remote write, as the Prometheus configuration it becomes.

The operator turns `prometheus.prometheusSpec.remoteWrite` (camelCase RemoteWriteSpec) and
`externalLabels` into Prometheus's `remote_write` and `global.external_labels`. `estate check`
does the same translation with the renderer's own field tables
(infra/render/remote_write.py: to_prometheus) and gives the result to `promtool check
config`, so a SigV4 block, a queue or a relabelling regex Prometheus would refuse is found
before `pulumi up`. A field the table does not know is reported, never silently left out.

Pure (no Pulumi, no I/O).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.render.remote_write import to_prometheus


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
        entry, missed = to_prometheus(item)
        entries.append(entry)
        unknown += [f"remoteWrite[{index}].{path}" for path in missed]
    config: dict[str, Any] = {"remote_write": entries}
    labels = spec.get("externalLabels")
    if labels:
        config["global"] = {"external_labels": dict(labels)}
    return config, unknown
