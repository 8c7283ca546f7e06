"""`estate diff` on small git histories built in temporary directories."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from infra.diff import DiffError, diff_refs
from infra.diff.compare import changed_paths, paging, resources
from infra.diff.model import DiffReport
from infra.diff.report import markdown, text
from infra.tools import VERSION_FLOORS, binary_version
from infra.tools.amtool import AmtoolError
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

CODE = ("infra", "alerts", "dashboards", "stacks")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


def make_repo(tmp_path: Path) -> Path:
    """A one-commit repository holding the project's code and stacks as they are now."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in CODE:
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "-c", "user.email=t@example.test", "-c", "user.name=t", "add", "-A")
    _git(repo, "-c", "user.email=t@example.test", "-c", "user.name=t", "commit", "-qm", "base")
    return repo


def _change(repo: Path, path: str, edit: Callable[[str], str]) -> None:
    file = repo / path
    before = file.read_text()
    after = edit(before)
    assert after != before, f"the edit did not change {path}"
    file.write_text(after)
    _git(repo, "-c", "user.email=t@example.test", "-c", "user.name=t", "commit", "-qam", "change")


def _diff(repo: Path) -> DiffReport:
    return diff_refs(repo, "HEAD~1", "HEAD", ["prod"])


def test_an_unchanged_tree_gives_an_empty_diff(repo: Path) -> None:
    (repo / "NOTES.md").write_text("not part of the estate\n")
    _git(repo, "add", "NOTES.md")
    _git(repo, "-c", "user.email=t@example.test", "-c", "user.name=t", "commit", "-qm", "docs")
    report = _diff(repo)
    assert report.empty
    assert "No changes to the estate." in markdown(report)


def test_renaming_a_prod_log_group_is_a_replacement_with_data_loss(repo: Path) -> None:
    _change(
        repo,
        "stacks/Pulumi.prod.yaml",
        lambda t: t.replace(
            "    retentionDays: 90\n", "    retentionDays: 90\n    groupPrefix: /bh\n"
        ),
    )
    report = _diff(repo)
    (prod,) = report.stacks
    groups = [r for r in prod.resources if r.type == "aws:cloudwatch/logGroup:LogGroup"]
    assert {r.kind for r in groups} == {"replaced"}
    assert all(r.data_loss for r in groups)
    backend = next(r for r in groups if r.urn.endswith("::logs-backend"))
    (name,) = [p for p in backend.properties if p.path == "name"]
    assert (name.before, name.after, name.forces_replacement) == (
        "/blue-harvest/backend",
        "/bh/backend",
        True,
    )
    # Prod protects its log groups: `pulumi up` would stop there, and the diff says so.
    assert backend.protected
    assert backend.blocked
    assert {r.urn for r in prod.blocked} == {r.urn for r in groups}
    md = markdown(report)
    group = "`aws:cloudwatch/logGroup:LogGroup`"
    assert f"> **DATA LOSS** in `prod`: replaced {group} `logs-backend`" in md
    assert f"> **PROTECTED** in `prod`: replaced {group} `logs-backend`" in md
    plain = text(report)
    assert (
        "prod: PROTECTED: replaced aws:cloudwatch/logGroup:LogGroup logs-backend: the resource"
        " is protected" in plain
    )
    assert 'name: "/blue-harvest/backend" → "/bh/backend" (forces replacement)' in plain


def test_removing_pagerduty_from_high_error_rate_is_lost_paging(repo: Path) -> None:
    def demote(text: str) -> str:
        start = text.index('"HighErrorRate"')
        end = text.index('severity="critical"', start)
        return text[:end] + 'severity="warning"' + text[end + len('severity="critical"') :]

    _change(repo, "alerts/application.py", demote)
    report = _diff(repo)
    (prod,) = report.stacks
    (change,) = [p for p in prod.paging if p.alert == "HighErrorRate"]
    assert change.before == ("pagerduty", "slack-critical")
    assert change.after == ("slack-warning",)
    assert change.lost_paging
    rule = next(r for r in prod.rules if r.alert == "HighErrorRate")
    assert [(f.path, f.before, f.after) for f in rule.fields] == [
        ("labels.severity", "critical", "warning")
    ]
    assert "> **LOST PAGING** in `prod`: `HighErrorRate` (`backend`) no longer pages anyone" in (
        markdown(report)
    )
    assert "prod: LOST PAGING: HighErrorRate (backend) no longer pages anyone" in text(report)


def test_a_changed_threshold_is_reported_as_that_rules_change(repo: Path) -> None:
    _change(
        repo,
        "stacks/Pulumi.prod.yaml",
        lambda t: t.replace(
            "  blue-harvest:alerting:\n",
            "  blue-harvest:alerting:\n    overrides: {SlowResponseTime: {threshold: 3}}\n",
        ),
    )
    (prod,) = _diff(repo).stacks
    (rule,) = prod.rules
    assert rule.alert == "SlowResponseTime"
    assert [f.path for f in rule.fields] == ["expr"]
    assert not prod.paging
    # The rule's PrometheusRule changes, and so does the dashboard drawing its threshold.
    changed = sorted(r.urn.rsplit("::", 1)[-1] for r in prod.resources)
    assert "monitoring-rules-blue-harvest-application" in changed
    assert all(r.kind == "changed" for r in prod.resources)


def test_changing_one_panels_query_is_reported_as_that_panels_change(repo: Path) -> None:
    _change(
        repo,
        "dashboards/business_metrics.py",
        lambda t: t.replace('f"max_over_time({users}[1h:])"', 'f"max_over_time({users}[2h:])"'),
    )
    (prod,) = _diff(repo).stacks
    (dashboard,) = prod.dashboards
    assert dashboard.uid == "bh-business-metrics"
    assert dashboard.kind == "changed"
    (panel,) = dashboard.panels
    assert panel.panel.startswith("3: ")
    (field,) = panel.fields
    assert field.path == "targets[0].expr"
    assert "[1h:]" in str(field.before)
    assert "[2h:]" in str(field.after)
    assert not prod.rules
    assert not prod.paging


def test_property_paths_show_inside_json_documents() -> None:
    before = {"policy": '{"Statement": [{"Action": ["logs:PutLogEvents"]}]}'}
    after = {"policy": '{"Statement": [{"Action": ["logs:*"]}]}'}
    assert changed_paths(before, after) == [
        ("policy.Statement[0].Action[0]", "logs:PutLogEvents", "logs:*")
    ]


def test_a_deleted_retained_resource_is_not_data_loss(tmp_path: Path) -> None:
    import json

    def tree(name: str, resources_: list[dict[str, object]]) -> Path:
        path = tmp_path / name
        path.mkdir()
        (path / "resources.json").write_text(json.dumps({"resources": resources_}))
        return path

    group = {
        "urn": "urn:pulumi:prod::p::aws:cloudwatch/logGroup:LogGroup::g",
        "type": "aws:cloudwatch/logGroup:LogGroup",
        "inputs": {"name": "/g"},
        "retainOnDelete": True,
    }
    (deleted,) = resources(tree("a", [group]), tree("b", []))
    assert deleted.kind == "deleted"
    assert deleted.retained
    assert not deleted.data_loss
    (lost,) = resources(tree("c", [{**group, "retainOnDelete": False}]), tree("d", []))
    assert lost.data_loss


def _estate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed console script, as CI runs it (stdout and stderr kept apart)."""
    exe = Path(sys.executable).parent / "estate"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, check=False, env=env)


def test_fail_on_exits_1_after_the_whole_report_naming_what_it_found(repo: Path) -> None:
    _change(
        repo,
        "stacks/Pulumi.prod.yaml",
        lambda t: t.replace(
            "    retentionDays: 90\n", "    retentionDays: 90\n    groupPrefix: /bh\n"
        ),
    )
    common = ["diff", "--repo", str(repo), "--base", "HEAD~1", "--head", "HEAD", "prod"]
    failing = _estate(
        *common, "--format", "markdown", "--fail-on", "data-loss,lost-paging,protected"
    )
    assert failing.returncode == 1, failing.stderr
    # The document is whole (its last section closed) before the exit.
    assert failing.stdout.rstrip().endswith("</details>")
    assert "> **PROTECTED** in `prod`" in failing.stdout
    (message,) = failing.stderr.strip().splitlines()
    assert message.startswith("estate diff: --fail-on data-loss,lost-paging,protected: prod: ")
    assert "data-loss" in message.split("prod: ")[1]
    assert "protected" in message.split("prod: ")[1]
    assert "lost-paging" not in message.split("prod: ")[1]
    # Nothing of what --fail-on asks for: exit 0, same report.
    passing = _estate(*common, "--fail-on", "lost-paging")
    assert passing.returncode == 0, passing.stderr
    assert "prod: PROTECTED: replaced" in passing.stdout
    assert "**" not in passing.stdout
    assert passing.stderr == ""


def test_an_unknown_fail_on_value_exits_2_with_the_allowed_list(tmp_path: Path) -> None:
    # Refused before any git or synth work: the repository does not even exist.
    done = _estate(
        "diff", "--repo", str(tmp_path / "nowhere"), "--base", "main", "--fail-on", "data-loss,oops"
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.strip() == (
        "estate diff: --fail-on: unknown value 'oops'; allowed: data-loss, lost-paging, protected"
    )


def test_names_and_values_print_literally(repo: Path) -> None:
    hostile = "[red]x[/red] :bomb: @team"
    _change(
        repo,
        "alerts/application.py",
        lambda t: t.replace(
            'summary="High error rate detected"', f'summary="High error rate {hostile}"', 1
        ),
    )
    common = ["diff", "--repo", str(repo), "--base", "HEAD~1", "--head", "HEAD", "prod"]
    plain = _estate(*common)
    assert plain.returncode == 0, plain.stderr
    line = next(x for x in plain.stdout.splitlines() if x.strip().startswith("annotations.summary"))
    assert line.strip() == (
        f'annotations.summary: "High error rate detected" → "High error rate {hostile}"'
    )
    assert "💣" not in plain.stdout
    md = _estate(*common, "--format", "markdown").stdout
    assert f'`"High error rate {hostile}"`' in md
    assert "💣" not in md


def test_a_ref_with_a_path_like_stack_file_is_refused_before_any_synth(repo: Path) -> None:
    """The base ref's own code may predate the stack-name rule, so diff checks names itself."""
    shutil.copy(repo / "stacks" / "Pulumi.dev.yaml", repo / "stacks" / "Pulumi....yaml")
    sentinel = repo / "SENTINEL"
    sentinel.write_text("keep me\n")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.email=t@example.test", "-c", "user.name=t", "commit", "-qm", "odd")
    with pytest.raises(
        DiffError, match=r"^HEAD:stacks/Pulumi\.\.\.\.yaml: stack name '\.\.' is not allowed"
    ):
        diff_refs(repo, "HEAD~1", "HEAD", None)
    assert sentinel.read_text() == "keep me\n"
    assert (repo / ".git").is_dir()


@pytest.mark.parametrize(
    ("file", "shown"), [("Pulumi..yaml", "'' (empty)"), ("Pulumi....yaml", "'..'")]
)
def test_a_refused_stack_file_is_named_by_ref_and_path_and_exits_2(
    repo: Path, file: str, shown: str
) -> None:
    """Named as git names it (`<ref>:<path>`), not by the throwaway worktree's path; exit 2,
    the code of a diff that could not be made, never 1, the code --fail-on uses."""
    shutil.copy(repo / "stacks" / "Pulumi.dev.yaml", repo / "stacks" / file)
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.email=t@example.test", "-c", "user.name=t", "commit", "-qm", "odd")
    done = _estate(
        "diff", "--repo", str(repo), "--base", "HEAD", "--head", "HEAD~1", "--fail-on", "protected"
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    (message,) = done.stderr.strip().splitlines()
    assert message.startswith(f"estate diff: HEAD:stacks/{file}: stack name {shown} is not allowed")
    assert "estate-diff-" not in message


def _path_without_amtool(tmp_path: Path, amtool: str | None) -> dict[str, str]:
    """An environment whose PATH has git (and `amtool`, if given) and an empty tools folder."""
    folder = tmp_path / "path"
    folder.mkdir()
    git = shutil.which("git")
    assert git is not None
    (folder / "git").symlink_to(git)
    if amtool is not None:
        (folder / "amtool").symlink_to(amtool)
    env = {k: v for k, v in os.environ.items() if k != "AMTOOL"}
    return {**env, "PATH": str(folder), "ESTATE_TOOLS_DIR": str(tmp_path / "no-tools")}


def test_without_amtool_diff_says_paging_cannot_be_computed_and_exits_2(
    repo: Path, tmp_path: Path
) -> None:
    """--fail-on lost-paging cannot pass when paging was never computed: exit 2, one line."""
    env = _path_without_amtool(tmp_path, None)
    done = _estate(
        "diff", "--repo", str(repo), "--base", "HEAD", "--fail-on", "lost-paging", env=env
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "estate diff: paging impact cannot be computed: amtool not found"
        f" (not in {tmp_path / 'no-tools' / 'bin'} nor on PATH): run `make tools` to install it"
    ]


def test_an_amtool_below_its_floor_is_refused_with_its_version(repo: Path, tmp_path: Path) -> None:
    """Debian bookworm's real amtool 0.25 (its routes test prints a warning and fails)."""
    old = "/usr/bin/amtool"
    if not os.access(old, os.X_OK):
        pytest.skip(f"{old} is not installed: no real old amtool to run")
    version = binary_version(old)
    if version >= VERSION_FLOORS["amtool"]:
        pytest.skip(f"{old} is {version}, not below the floor: no real old amtool to run")
    env = _path_without_amtool(tmp_path, old)
    done = _estate("diff", "--repo", str(repo), "--base", "HEAD", env=env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "estate diff: paging impact cannot be computed: amtool too old: found amtool"
        f" {'.'.join(map(str, version))} at {tmp_path / 'path' / 'amtool'}; need >= 0.28.0:"
        " run `make tools`"
    ]


def test_an_amtool_that_cannot_route_is_a_typed_error(tmp_path: Path) -> None:
    """What diff_refs turns into a DiffError: amtool refusing the config it is asked to route."""
    for side in ("base", "head"):
        rules = tmp_path / side / "prometheus" / "rules"
        rules.mkdir(parents=True)
        (rules / "g.yaml").write_text(
            "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n"
            "    labels: {severity: critical, service: s}\n"
        )
        (tmp_path / side / "alertmanager").mkdir()
        (tmp_path / side / "alertmanager" / "alertmanager.yaml").write_text(
            "route: [not, a, map]\n"
        )
    with pytest.raises(AmtoolError, match="amtool could not route"):
        paging(tmp_path / "base", tmp_path / "head")


def test_changing_prods_availability_objective_reports_the_slo_and_its_moved_thresholds(
    repo: Path,
) -> None:
    _change(
        repo,
        "stacks/Pulumi.prod.yaml",
        lambda t: (
            t + "  blue-harvest:slos:\n    backend:\n      availability:\n"
            "        objective: 0.995\n        page: true\n"
        ),
    )
    report = _diff(repo)
    (prod,) = report.stacks
    (slo,) = prod.slos
    assert (slo.slo, slo.kind) == ("backend-availability", "changed")
    assert (slo.objective_before, slo.objective_after) == (0.999, 0.995)
    assert (slo.window_before, slo.window_after) == ("30d", "30d")
    # What pages is unchanged (the fast tiers, to PagerDuty); every threshold moved 5x.
    assert slo.pages_before == slo.pages_after == ("14.4x 1h/5m", "6x 6h/30m")
    assert slo.tickets_after == ("3x 1d/2h", "1x 3d/6h")
    assert [(m.path, m.before, m.after) for m in slo.moved] == [
        ("14.4x 1h/5m.threshold", 0.0144, 0.072),
        ("6x 6h/30m.threshold", 0.006, 0.03),
        ("3x 1d/2h.threshold", 0.003, 0.015),
        ("1x 3d/6h.threshold", 0.001, 0.005),
    ]
    # The latency SLO did not change, and no tier lost or gained paging.
    assert not prod.lost_paging
    plain = text(report)
    assert "    objective: 0.999 → 0.995\n" in plain
    assert "    window: 30d → 30d (unchanged)\n" in plain
    assert "    14.4x 1h/5m.threshold: 0.0144 → 0.072\n" in plain
    assert "  - objective: `0.999` → `0.995`" in markdown(report)
