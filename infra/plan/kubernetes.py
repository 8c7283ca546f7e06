"""The explicit Kubernetes provider, and the guard that keeps `pulumi up` off other clusters.

Pulumi's default Kubernetes provider deploys to whatever cluster the kubeconfig's current
context points at: a terminal left on prod's context would take the dev stack to prod. The
program therefore builds its own provider from the stack (the context the stack names, or
the current one) and, under the real engine, refuses to run unless that context's cluster is
the one the stack names (`blue-harvest:cluster.name`). Like `aws:allowedAccountIds` for AWS,
there is no switch to turn the guard off: the fix is the stack's cluster name or context.

Pure: the kubeconfig arrives as parsed data; `read_kubeconfig` is the one function that
reads files, the way kubectl does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.naming import PROJECT


@dataclass(frozen=True)
class KubernetesProviderPlan:
    """What the program's Kubernetes provider is built from."""

    #: blue-harvest:cluster.name: the cluster this stack deploys to.
    cluster: str
    #: The kubeconfig context (cluster.kubeconfigContext or kubernetes:context); None: the
    #: kubeconfig's current context.
    context: str | None = None
    #: kubernetes:kubeconfig, a path; None: $KUBECONFIG, else ~/.kube/config.
    kubeconfig: str | None = None


def kubeconfig_paths(explicit: str | None, environ: Mapping[str, str]) -> list[Path]:
    """The files kubectl would read: the stack's path, else $KUBECONFIG's list (':'
    separated), else ~/.kube/config."""
    if explicit:
        return [Path(explicit).expanduser()]
    listed = [Path(p).expanduser() for p in environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    if listed:
        return listed
    home = environ.get("HOME")
    return [Path(home) / ".kube" / "config"] if home else []


def read_kubeconfig(paths: Sequence[Path]) -> dict[str, Any]:
    """The kubeconfig the files make together, merged as kubectl merges them: the first file
    that sets current-context wins, and the first definition of each named context or
    cluster wins. Files that do not exist are skipped; an unreadable one raises OSError, a
    malformed one ValueError."""
    merged: dict[str, Any] = {"current-context": None, "contexts": [], "clusters": []}
    seen: dict[str, set[str]] = {"contexts": set(), "clusters": set()}
    for path in paths:
        if not path.is_file():
            continue
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as err:
            raise ValueError(f"{path}: not a kubeconfig: {err}") from None
        if not isinstance(doc, dict):
            raise ValueError(f"{path}: not a kubeconfig (not a mapping)")
        if merged["current-context"] is None and doc.get("current-context"):
            merged["current-context"] = str(doc["current-context"])
        for section in ("contexts", "clusters"):
            for entry in doc.get(section) or []:
                name = str(entry.get("name", "")) if isinstance(entry, dict) else ""
                if name and name not in seen[section]:
                    seen[section].add(name)
                    merged[section].append(entry)
    return merged


def names_cluster(kubeconfig_name: str, cluster: str) -> bool:
    """Whether a kubeconfig cluster or context name is the cluster called `cluster`, as the
    usual tools name it: the name itself, EKS's ARN (`aws eks update-kubeconfig`:
    `arn:aws:eks:<region>:<account>:cluster/<name>`), eksctl's `<name>.<region>.eksctl.io`,
    kind's `kind-<name>`, minikube's and k3d's own (`<name>`, `k3d-<name>`)."""
    return (
        kubeconfig_name == cluster
        or kubeconfig_name.endswith(f":cluster/{cluster}")
        or (kubeconfig_name.startswith(f"{cluster}.") and kubeconfig_name.endswith(".eksctl.io"))
        or kubeconfig_name in (f"kind-{cluster}", f"k3d-{cluster}")
    )


def cluster_guard_problem(
    plan: KubernetesProviderPlan, kubeconfig: Mapping[str, Any]
) -> str | None:
    """Why `pulumi up` must not run with this kubeconfig (None: it may): the context is
    missing, or its cluster is not the stack's."""
    context_name = plan.context or kubeconfig.get("current-context")
    where = f"kubeconfig context {context_name!r}"
    if not context_name:
        return (
            f"no kubeconfig context to deploy with: the kubeconfig has no current-context; set"
            f" {PROJECT}:cluster.kubeconfigContext to the context of cluster {plan.cluster!r}"
        )
    contexts = {str(c.get("name")): c for c in kubeconfig.get("contexts") or []}
    context = contexts.get(context_name)
    if context is None:
        known = ", ".join(sorted(contexts)) or "none"
        return f"{where} is not in the kubeconfig (contexts: {known})"
    cluster_name = str((context.get("context") or {}).get("cluster") or "")
    if names_cluster(cluster_name, plan.cluster):
        return None
    chosen = "the stack's" if plan.context else "the current"
    return (
        f"{where} ({chosen} context) points at cluster {cluster_name!r}, not at this stack's"
        f" cluster {plan.cluster!r} ({PROJECT}:cluster.name): refusing to deploy to another"
        f" cluster. Switch context (kubectl config use-context), or set"
        f" {PROJECT}:cluster.kubeconfigContext"
    )


def guard(plan: KubernetesProviderPlan, environ: Mapping[str, str]) -> str | None:
    """The guard as `pulumi up` runs it: read the kubeconfig the provider will read, then
    check it. An unreadable kubeconfig is a problem too."""
    try:
        kubeconfig = read_kubeconfig(kubeconfig_paths(plan.kubeconfig, environ))
    except (OSError, ValueError) as err:
        return f"the kubeconfig cannot be read: {err}"
    return cluster_guard_problem(plan, kubeconfig)
