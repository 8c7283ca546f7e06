"""The cluster guard (infra/plan/kubernetes.py): a kubeconfig is read as kubectl reads it, and
`pulumi up` may run only where the context points at the stack's own cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.plan.kubernetes import (
    KubernetesProviderPlan,
    cluster_guard_problem,
    guard,
    kubeconfig_paths,
    names_cluster,
    read_kubeconfig,
)

EKS_PROD = "arn:aws:eks:us-east-1:333333333333:cluster/bh-prod"
EKS_DEV = "arn:aws:eks:us-east-1:111111111111:cluster/bh-dev"


def kubeconfig(current: str | None, **contexts: str) -> dict[str, Any]:
    """A kubeconfig whose contexts (name -> cluster) each have a cluster entry."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": current,
        "contexts": [
            {"name": n, "context": {"cluster": c, "user": "u"}} for n, c in contexts.items()
        ],
        "clusters": [
            {"name": c, "cluster": {"server": f"https://{i}.example"}}
            for i, c in enumerate(contexts.values())
        ],
    }


@pytest.mark.parametrize(
    ("name", "cluster", "expected"),
    [
        ("bh-prod", "bh-prod", True),
        (EKS_PROD, "bh-prod", True),
        ("bh-prod.us-east-1.eksctl.io", "bh-prod", True),
        ("kind-bh-local", "bh-local", True),
        ("k3d-bh-local", "bh-local", True),
        (EKS_DEV, "bh-prod", False),
        ("arn:aws:eks:us-east-1:333333333333:cluster/bh-prod-2", "bh-prod", False),
        ("bh-prod-old", "bh-prod", False),
        ("kind-bh-local", "bh-prod", False),
        ("bh-prod.example.com", "bh-prod", False),
    ],
)
def test_the_usual_tools_names_for_a_cluster(name: str, cluster: str, expected: bool) -> None:
    assert names_cluster(name, cluster) is expected


def test_the_current_context_on_the_stacks_cluster_may_deploy() -> None:
    config = kubeconfig(EKS_PROD, **{EKS_PROD: EKS_PROD, EKS_DEV: EKS_DEV})
    assert cluster_guard_problem(KubernetesProviderPlan(cluster="bh-prod"), config) is None


def test_the_current_context_on_another_cluster_is_refused_naming_both() -> None:
    config = kubeconfig(EKS_DEV, **{EKS_PROD: EKS_PROD, EKS_DEV: EKS_DEV})
    problem = cluster_guard_problem(KubernetesProviderPlan(cluster="bh-prod"), config)
    assert problem is not None
    assert f"points at cluster {EKS_DEV!r}, not at this stack's cluster 'bh-prod'" in problem
    assert "blue-harvest:cluster.kubeconfigContext" in problem


def test_a_named_context_wins_over_the_current_one() -> None:
    config = kubeconfig(EKS_DEV, **{"prod": EKS_PROD, "dev": EKS_DEV})
    assert cluster_guard_problem(KubernetesProviderPlan("bh-prod", context="prod"), config) is None
    problem = cluster_guard_problem(KubernetesProviderPlan("bh-prod", context="dev"), config)
    assert problem is not None
    assert "(the stack's context)" in problem


def test_a_context_named_like_the_cluster_but_pointing_elsewhere_is_refused() -> None:
    config = kubeconfig("kind-bh-local", **{"kind-bh-local": EKS_PROD})
    problem = cluster_guard_problem(KubernetesProviderPlan("bh-local"), config)
    assert problem is not None


def test_a_missing_context_and_no_current_context_are_problems() -> None:
    config = kubeconfig(None, prod=EKS_PROD)
    missing = cluster_guard_problem(KubernetesProviderPlan("bh-prod", context="staging"), config)
    assert missing == "kubeconfig context 'staging' is not in the kubeconfig (contexts: prod)"
    unset = cluster_guard_problem(KubernetesProviderPlan("bh-prod"), config)
    assert unset is not None
    assert "no current-context" in unset


def test_kubeconfig_files_merge_as_kubectl_merges_them(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_text(yaml.safe_dump(kubeconfig(None, prod=EKS_PROD)))
    second.write_text(yaml.safe_dump(kubeconfig("dev", dev=EKS_DEV, prod=EKS_DEV)))
    paths = kubeconfig_paths(None, {"KUBECONFIG": f"{first}:{tmp_path / 'absent'}:{second}"})
    merged = read_kubeconfig(paths)
    assert merged["current-context"] == "dev"
    # The first file's definition of `prod` wins.
    assert cluster_guard_problem(KubernetesProviderPlan("bh-prod", context="prod"), merged) is None


def test_the_default_kubeconfig_is_homes_and_an_explicit_path_wins(tmp_path: Path) -> None:
    assert kubeconfig_paths(None, {"HOME": str(tmp_path)}) == [tmp_path / ".kube" / "config"]
    assert kubeconfig_paths("/k/config", {"KUBECONFIG": "/x"}) == [Path("/k/config")]


def test_an_unreadable_kubeconfig_is_a_problem_not_a_pass(tmp_path: Path) -> None:
    broken = tmp_path / "config"
    broken.write_text("contexts: [unclosed\n")
    problem = guard(KubernetesProviderPlan("bh-prod", kubeconfig=str(broken)), {})
    assert problem is not None
    assert problem.startswith("the kubeconfig cannot be read:")
    nothing = guard(KubernetesProviderPlan("bh-prod"), {"HOME": str(tmp_path / "nobody")})
    assert nothing is not None
    assert "no current-context" in nothing
