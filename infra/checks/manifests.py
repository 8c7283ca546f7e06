"""Plain Kubernetes manifests from a synth, checked against the API's own schemas offline
(kubernetes-validate, strict) at the stack's Kubernetes version."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml
from kubernetes_validate.utils import SchemaNotFoundError, ValidationError

from infra.config.secrets import SECRET_MARKER


def _unmask(manifest: dict[str, Any]) -> dict[str, Any]:
    """The synth masks a Secret's whole data with the marker string; validate the shape as
    an empty map (the keys are not visible offline)."""
    out = dict(manifest)
    for key in ("data", "stringData"):
        if out.get(key) == SECRET_MARKER:
            out[key] = {}
    return out


def validate_manifest(manifest: dict[str, Any], version: str) -> list[str] | None:
    """Strict validation errors ("path: message"); None for a kind the schemas do not know
    (a custom resource: kubernetes-validate knows no CRDs)."""
    try:
        kubernetes_validate.validate(_unmask(manifest), version, strict=True)
    except SchemaNotFoundError:
        return None
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.path) or "(root)"
        return [f"{where}: {exc.message}"]
    return []


def validate_tree(tree: Path, version: str) -> Iterator[tuple[Path, str, str]]:
    """(file, location, message) for every invalid plain manifest under tree/kubernetes/."""
    for path in sorted((tree / "kubernetes").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not isinstance(doc, dict):
                continue
            for error in validate_manifest(doc, version) or []:
                location, _, message = error.partition(": ")
                yield path, location, message
