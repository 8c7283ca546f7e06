"""`estate check` end to end: the repository passes; a broken rule, route or manifest fails."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from infra.checks.runner import Target, check_alertmanager, check_manifests, check_rules
from infra.cli import app
from infra.synth import synth_stacks
from tests.conftest import STACKS, stack_config


def test_every_repository_stack_passes(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", "--all", "--out", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == []


def _prod(tmp_path: Path) -> Target:
    synth_stacks(["prod"], STACKS, tmp_path)
    return Target("prod", stack_config("prod"), tmp_path / "prod")


def test_a_broken_rule_file_is_reported_by_promtool(tmp_path: Path) -> None:
    target = _prod(tmp_path)
    path = target.tree / "prometheus" / "rules" / "blue-harvest-application.yaml"
    path.write_text(path.read_text().replace("> 0.05", "> > 0.05", 1))
    findings = list(check_rules(target))
    assert {f.check for f in findings} >= {"promtool check rules", "promql"}
    promql = next(f for f in findings if f.check == "promql")
    assert promql.location == "group application, HighErrorRate"
    assert promql.file == str(path)


def test_a_route_that_no_longer_pages_fails_the_routing_table(tmp_path: Path) -> None:
    target = _prod(tmp_path)
    path = target.tree / "alertmanager" / "alertmanager.yaml"
    path.write_text(path.read_text().replace("receiver: pagerduty", "receiver: slack-warning"))
    findings = list(check_alertmanager(target))
    assert findings
    assert all(f.check == "amtool routes" for f in findings)
    assert any("pagerduty" in f.message for f in findings)


def test_an_invalid_manifest_is_reported_with_its_path(tmp_path: Path) -> None:
    target = _prod(tmp_path)
    path = target.tree / "kubernetes" / "namespace-monitoring.yaml"
    path.write_text(path.read_text() + "spec:\n  finalizers: 7\n")
    (finding,) = list(check_manifests(target))
    assert finding.file == str(path)
    assert finding.location == "spec.finalizers"
    assert finding.check == "kubernetes-validate 1.31"


def test_check_exits_non_zero_and_prints_markdown_for_bad_config(tmp_path: Path) -> None:
    stacks = tmp_path / "stacks"
    shutil.copytree(STACKS, stacks)
    prod = stacks / "Pulumi.prod.yaml"
    prod.write_text(prod.read_text().replace("retentionDays: 90", "retentionDays: 42"))
    result = CliRunner().invoke(
        app,
        [
            "check",
            "prod",
            "--stacks-dir",
            str(stacks),
            "--out",
            str(tmp_path / "out"),
            "--format",
            "markdown",
        ],
    )
    assert result.exit_code == 1
    assert "| error | config |" in result.output
    assert "blue-harvest:logs.retentionDays" in result.output
