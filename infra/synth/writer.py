"""Turn a SynthRun into the review artifact out/<stack>/: deterministic bytes, no secrets."""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from infra.config.secrets import PLACEHOLDER_PREFIX
from infra.render import yamlout
from infra.render.grafana import synth_dashboard_files
from infra.synth.engine import SynthRun
from infra.synth.recorder import Registration

#: AWS resource types -> the file under aws/ that holds them.
_AWS_FILES = {
    "aws:cloudwatch/logGroup:LogGroup": "log-groups.json",
    "aws:cloudwatch/logMetricFilter:LogMetricFilter": "metric-filters.json",
    "aws:cloudwatch/queryDefinition:QueryDefinition": "saved-queries.json",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "alarms.json",
    "aws:kms/key:Key": "kms.json",
    "aws:kms/alias:Alias": "kms.json",
    "aws:sns/topic:Topic": "sns.json",
    "aws:sns/topicSubscription:TopicSubscription": "sns.json",
    "aws:iam/policy:Policy": "iam.json",
    "aws:iam/role:Role": "iam.json",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "iam.json",
}
#: Inputs that hold a JSON document as a string; shown parsed in the per-area files.
_JSON_STRING_INPUTS = ("policy", "assumeRolePolicy")


class SecretLeakError(RuntimeError):
    """A config secret's placeholder reached an artifact: some code unwrapped a secret."""


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _area_entry(reg: Registration) -> dict[str, Any]:
    inputs = dict(reg.inputs)
    for key in _JSON_STRING_INPUTS:
        value = inputs.get(key)
        if isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):
                inputs[key] = json.loads(value)
    return {
        "name": reg.name,
        "type": reg.type,
        "urn": reg.urn,
        "protect": reg.protect,
        "retainOnDelete": reg.retain_on_delete,
        "inputs": inputs,
    }


_HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
_PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"


def _manifest_name(manifest: dict[str, Any]) -> str:
    meta = manifest.get("metadata") or {}
    parts = [str(manifest.get("kind", "Object")).lower(), meta.get("namespace"), meta.get("name")]
    return "-".join(str(p) for p in parts if p)


def kubernetes_files(registrations: tuple[Registration, ...]) -> dict[str, str]:
    """helm/<release>.values.yaml, alertmanager/alertmanager.yaml, prometheus/rules/*.yaml,
    kubernetes/*.yaml and grafana/dashboards/*.json, all taken from what the program
    registered (nothing re-rendered)."""
    files: dict[str, str] = {}
    for reg in registrations:
        if not reg.type.startswith("kubernetes:") or not reg.custom:
            continue
        inputs = reg.inputs
        if reg.type == _HELM_RELEASE:
            values = inputs.get("values") or {}
            files[f"helm/{inputs['name']}.values.yaml"] = yamlout.dump(values)
            am_config = (values.get("alertmanager") or {}).get("config")
            if am_config:
                files["alertmanager/alertmanager.yaml"] = yamlout.dump(am_config)
            continue
        if reg.type == _PROMETHEUS_RULE:
            rule_name = inputs["metadata"]["name"]
            files[f"prometheus/rules/{rule_name}.yaml"] = yamlout.dump(
                {"groups": inputs["spec"]["groups"]}
            )
        path = f"kubernetes/{_manifest_name(inputs)}.yaml"
        if path in files:
            raise ValueError(
                f"two resources declare {path.removeprefix('kubernetes/')}: they would collide"
                f" in the cluster (the second is {reg.urn})"
            )
        files[path] = yamlout.dump(inputs)
    for reg in registrations:
        if reg.custom:
            files.update(synth_dashboard_files(reg.type, reg.inputs))
    return files


def _forbidden(secrets: Iterable[str]) -> list[str]:
    """Each secret and its base64 form; short values are skipped (they would match by chance)."""
    out: list[str] = []
    for value in secrets:
        if len(value) >= 8:
            out += [value, base64.b64encode(value.encode()).decode()]
    return out


def render_files(run: SynthRun, secrets: Iterable[str] = ()) -> dict[str, str]:
    """Relative path -> file text for everything `estate synth` writes for one stack.

    Refuses (SecretLeakError) to produce a file holding a config secret's placeholder, or
    any of `secrets` (the config's secret values) as text or base64."""
    files: dict[str, str] = {
        "resources.json": canonical_json(
            {"stack": run.stack, "resources": [r.as_dict() for r in run.registrations]}
        )
    }
    aws: dict[str, list[dict[str, Any]]] = {}
    for reg in run.registrations:
        if reg.type.startswith("aws:") and reg.custom:
            name = _AWS_FILES.get(reg.type, f"{reg.type.split(':')[1].split('/')[0]}.json")
            aws.setdefault(name, []).append(_area_entry(reg))
    for name, entries in aws.items():
        files[f"aws/{name}"] = canonical_json(entries)
    files.update(kubernetes_files(run.registrations))
    forbidden = _forbidden(secrets)
    for path, text in files.items():
        if PLACEHOLDER_PREFIX in text or any(value in text for value in forbidden):
            raise SecretLeakError(
                f"a secret reached out/{run.stack}/{path} unwrapped; pass secrets to resources"
                " as pulumi.Output.secret(...)"
            )
    return files


def write_tree(out_dir: Path, stack: str, files: dict[str, str]) -> Path:
    """Replace out/<stack>/ with exactly `files`, atomically enough that a failure leaves the
    previous tree in place."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / stack
    staging = Path(tempfile.mkdtemp(prefix=f".{stack}.", dir=out_dir))
    try:
        for rel, text in files.items():
            path = staging / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def type_counts(run: SynthRun) -> dict[str, int]:
    return dict(sorted(Counter(r.type for r in run.registrations).items()))
