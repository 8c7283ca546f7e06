"""`estate diff`'s metrics-store section: where samples go on each side, which IAM roles
appear, and what the change deletes (a workspace with its history, samples beyond a shorter
retention), computed from synthesized trees of real stack-file variants."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.diff.compare import compare_stack, metrics_store
from infra.diff.model import DiffReport, StackDiff
from infra.diff.report import failures, headlines, literal, markdown, text, to_json
from infra.synth import synth_stacks
from tests.conftest import ROOT, STACKS

pytestmark = pytest.mark.slow

EXISTING = "ws-0123abcd-4567-4890-abcd-ef0123456789"
PROD_WORKSPACE = "AMP workspace blue-harvest-prod-metrics in us-east-1"
ROLES = (
    "blue-harvest-prod-bh-prod-grafana-amp (monitoring/kube-prometheus-stack-grafana:"
    " aps:GetLabels, aps:GetMetricMetadata, aps:GetSeries, aps:QueryMetrics);"
    " blue-harvest-prod-bh-prod-prometheus-amp (monitoring/kube-prometheus-stack-prometheus:"
    " aps:RemoteWrite)"
)


def _metrics(store: str | None = None, **keys: Any) -> Callable[[dict[str, Any]], None]:
    def edit(config: dict[str, Any]) -> None:
        metrics = config.setdefault("blue-harvest:metrics", {})
        if store is not None:
            metrics["store"] = store
        metrics.update(keys)

    return edit


#: name -> (stack, edit of its stack file's config)
VARIANTS: dict[str, tuple[str, Callable[[dict[str, Any]], None]]] = {
    "prod-amp": ("prod", _metrics()),
    "prod-in-cluster": ("prod", _metrics("in-cluster")),
    "prod-existing": ("prod", _metrics(amp={"workspaceId": EXISTING})),
    "prod-45d": ("prod", _metrics(retention="45d")),
    "prod-amp-90d": ("prod", _metrics(amp={"retentionDays": 90})),
    "staging-in-cluster": ("staging", _metrics()),
    "staging-amp": ("staging", _metrics("amp")),
}


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each variant synthesized by `estate synth`'s own code into its own out/ tree."""
    out: dict[str, Path] = {}
    for name, (stack, edit) in VARIANTS.items():
        root = tmp_path_factory.mktemp(name)
        stacks = root / "stacks"
        stacks.mkdir()
        doc = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text())
        edit(doc["config"])
        (stacks / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        synth_stacks([stack], stacks, root / "out")
        out[name] = root / "out" / stack
    return out


def _compare(trees: dict[str, Path], base: str, head: str) -> StackDiff:
    return compare_stack(VARIANTS[head][0], trees[base], trees[head])


def test_an_unchanged_store_is_not_reported(trees: dict[str, Path]) -> None:
    assert metrics_store(trees["prod-amp"], trees["prod-amp"]) is None
    assert metrics_store(trees["staging-in-cluster"], trees["staging-in-cluster"]) is None


def test_turning_amp_on_says_where_samples_go_and_which_roles_appear(
    trees: dict[str, Path],
) -> None:
    diff = _compare(trees, "prod-in-cluster", "prod-amp")
    change = diff.metrics_store
    assert change is not None
    assert change.before.where == "Prometheus's disk (30d) only"
    assert change.after.where == (
        f"Prometheus's disk (30d) and {PROD_WORKSPACE} (declared by this stack, keeps 150d)"
    )
    assert change.before.roles == ()
    assert "; ".join(change.after.roles) == ROLES
    assert change.losses == ()
    (effect,) = change.effects
    assert effect.startswith(f"Prometheus starts writing to {PROD_WORKSPACE}")
    # Nothing is lost by turning it on.
    assert not [h for h in headlines(diff) if h.kind == "data-loss"]
    plain = text(DiffReport("base", "head", (diff,)))
    assert "Metrics store\n" in plain
    assert (
        "  samples go to: Prometheus's disk (30d) only → Prometheus's disk (30d) and"
        f" {PROD_WORKSPACE} (declared by this stack, keeps 150d)\n"
    ) in plain
    assert f"  IAM roles: none → {ROLES}\n" in plain


def test_turning_prods_amp_off_keeps_the_protected_workspace_and_says_so(
    trees: dict[str, Path],
) -> None:
    diff = _compare(trees, "prod-amp", "prod-in-cluster")
    change = diff.metrics_store
    assert change is not None
    assert change.after.where == "Prometheus's disk (30d) only"
    assert change.after.roles == ()
    retained, protected, local = change.effects
    assert retained.startswith(f"{PROD_WORKSPACE} (declared by this stack, keeps 150d) leaves")
    assert "retained (retainOnDelete): its history stays in AMP" in retained
    assert protected.startswith("The workspace is protected")
    assert local.startswith("Samples stay on Prometheus's disk only")
    # Prod retains the workspace (logs.protect): no data loss, but pulumi up stops there.
    (workspace,) = [r for r in diff.resources if r.type == "aws:amp/workspace:Workspace"]
    assert (workspace.kind, workspace.data_loss, workspace.blocked) == ("deleted", False, True)
    report = DiffReport("base", "head", (diff,))
    assert failures(report, ("data-loss",)) == []
    assert failures(report, ("protected",)) == ["prod: 3 protected"]  # workspace, group, key


def test_turning_amp_off_where_nothing_retains_the_workspace_is_data_loss(
    trees: dict[str, Path],
) -> None:
    diff = _compare(trees, "staging-amp", "staging-in-cluster")
    change = diff.metrics_store
    assert change is not None
    assert change.effects[0] == (
        "DATA LOSS: AMP workspace blue-harvest-staging-metrics in us-east-1 (declared by this"
        " stack, keeps 150d) is deleted with its history (every sample it holds)."
    )
    (workspace,) = [r for r in diff.resources if r.type == "aws:amp/workspace:Workspace"]
    assert workspace.data_loss
    report = DiffReport("base", "head", (diff,))
    # The workspace, its log group and the group's key (staging encrypts its logs): each
    # holds data and none is retained.
    lost = sorted(r.type for r in diff.data_loss)
    assert lost == [
        "aws:amp/workspace:Workspace",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:kms/key:Key",
    ]
    assert failures(report, ("data-loss",)) == ["staging: 3 data-loss"]
    assert "> **DATA LOSS** in `staging`: deleted `aws:amp/workspace:Workspace`" in markdown(report)
    assert "- **DATA LOSS:** AMP workspace blue-harvest-staging-metrics in us-east-1 " in (
        markdown(report)
    )


def test_leaving_another_stacks_workspace_deletes_nothing(trees: dict[str, Path]) -> None:
    diff = _compare(trees, "prod-existing", "prod-in-cluster")
    change = diff.metrics_store
    assert change is not None
    assert change.before.where == (
        f"Prometheus's disk (30d) and AMP workspace {EXISTING} in us-east-1 (another stack's)"
    )
    assert change.effects[0] == (
        f"This cluster stops writing to AMP workspace {EXISTING} in us-east-1 (another"
        " stack's); the history there stays (the stack that declares the workspace keeps it)."
    )
    assert not [r for r in diff.resources if r.type.startswith("aws:amp/")]
    assert not [h for h in headlines(diff) if h.kind in ("data-loss", "protected")]


def test_moving_to_another_stacks_workspace_says_both(trees: dict[str, Path]) -> None:
    change = metrics_store(trees["prod-amp"], trees["prod-existing"])
    assert change is not None
    retained, _, starts = change.effects
    assert retained.startswith(f"{PROD_WORKSPACE} (declared by this stack, keeps 150d) leaves")
    assert starts.startswith(f"Prometheus starts writing to AMP workspace {EXISTING}")
    # The same roles, now on the other workspace: only their resource moved.
    assert change.before.roles == change.after.roles


def test_a_shorter_local_retention_is_data_loss_on_prometheus_disk(
    trees: dict[str, Path],
) -> None:
    diff = _compare(trees, "prod-45d", "prod-amp")
    change = diff.metrics_store
    assert change is not None
    loss = "Prometheus keeps 30d instead of 45d: samples older than 30d are deleted from its disk."
    assert change.losses == (loss,)
    report = DiffReport("base", "head", (diff,))
    assert f"prod: DATA LOSS: metrics store: {loss}" in text(report)
    assert "  local retention: 45d → 30d\n" in text(report)
    assert failures(report, ("data-loss",)) == ["prod: 1 data-loss"]
    assert f"> **DATA LOSS** in `prod`: metrics store: {literal(loss)}" in markdown(report)
    assert '"losses": [' in to_json(report)
    # Longer is no loss.
    longer = metrics_store(trees["prod-amp"], trees["prod-45d"])
    assert longer is not None
    assert longer.losses == ()


def test_a_shorter_workspace_retention_is_data_loss_in_amp(trees: dict[str, Path]) -> None:
    change = metrics_store(trees["prod-amp"], trees["prod-amp-90d"])
    assert change is not None
    assert change.losses == (
        f"{PROD_WORKSPACE} (declared by this stack, keeps 90d) keeps 90d instead of 150d:"
        " samples older than that are deleted from AMP.",
    )


def test_markdown_text_of_the_section_renders_literally() -> None:
    assert literal("a :bomb: @team [x](y) <b>") == ("a \\:bomb\\: \\@team \\[x\\]\\(y\\) \\<b\\>")


# --- estate diff on a git history ------------------------------------------------------------

CODE = ("infra", "alerts", "dashboards", "stacks")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@example.test", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
    )


def test_estate_diff_turning_prods_amp_off_shows_the_section_and_fails_on_protected(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in CODE:
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    prod = repo / "stacks" / "Pulumi.prod.yaml"
    before = prod.read_text()
    after = before.replace(
        "  blue-harvest:metrics:\n", "  blue-harvest:metrics:\n    store: in-cluster\n"
    )
    assert after != before
    prod.write_text(after)
    _git(repo, "commit", "-qam", "metrics back in the cluster")
    estate = Path(sys.executable).parent / "estate"
    common = [str(estate), "diff", "--repo", str(repo), "--base", "HEAD~1", "--head", "HEAD"]
    result = subprocess.run(
        [*common, "prod", "--fail-on", "protected"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1, result.stderr
    assert "Metrics store\n" in result.stdout
    assert (
        f"  samples go to: Prometheus's disk (30d) and {PROD_WORKSPACE} (declared by this"
        " stack, keeps 150d) → Prometheus's disk (30d) only\n"
    ) in result.stdout
    assert "leaves the stack but is retained (retainOnDelete)" in result.stdout
    assert "prod: PROTECTED: deleted aws:amp/workspace:Workspace metrics-store-workspace" in (
        result.stdout
    )


def _values_tree(root: Path, name: str, urls: list[str], retention: str = "30d") -> Path:
    """A tree with the chart's values only: what a stack writing elsewhere synthesizes."""
    tree = root / name
    (tree / "helm").mkdir(parents=True)
    spec: dict[str, Any] = {"retention": retention}
    if urls:
        spec["remoteWrite"] = [{"url": url} for url in urls]
    values = {"prometheus": {"prometheusSpec": spec}}
    (tree / "helm" / "kube-prometheus-stack.values.yaml").write_text(yaml.safe_dump(values))
    return tree


def test_moving_between_two_other_stacks_workspaces_names_both(tmp_path: Path) -> None:
    other = "ws-99999999-4567-4890-abcd-ef0123456789"
    url = "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/{}/api/v1/remote_write"
    change = metrics_store(
        _values_tree(tmp_path, "a", [url.format(EXISTING)]),
        _values_tree(tmp_path, "b", [url.format(other)]),
    )
    assert change is not None
    assert change.effects == (
        f"This cluster stops writing to AMP workspace {EXISTING} in eu-west-1 (another"
        " stack's); the history there stays (the stack that declares the workspace keeps it).",
        f"Prometheus starts writing to AMP workspace {other} in eu-west-1 (another stack's)"
        " (SigV4, through its IRSA role); the workspace holds samples from the first write on:"
        " older history stays on Prometheus's disk only.",
    )
    assert change.losses == ()


def test_a_remote_write_that_is_not_amp_is_shown_by_its_url(tmp_path: Path) -> None:
    change = metrics_store(
        _values_tree(tmp_path, "a", []),
        _values_tree(tmp_path, "b", ["https://mimir.example/api/v1/push"]),
    )
    assert change is not None
    assert change.after.where == (
        "Prometheus's disk (30d) and remote write to https://mimir.example/api/v1/push"
    )
    assert change.effects == ()
