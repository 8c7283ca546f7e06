"""The GitHub workflows: valid against the GitHub workflow schema (check-jsonschema's vendored
copy, offline) and wired as docs/reviewing-changes.md says."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def _check_jsonschema(*paths: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "check-jsonschema"
    tool = str(exe) if exe.exists() else shutil.which("check-jsonschema")
    assert tool, "check-jsonschema is not installed (it is a dev dependency: make install)"
    return subprocess.run(
        [tool, "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def _load(name: str) -> dict[Any, Any]:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(doc, dict)
    return doc


def test_every_workflow_is_valid_against_the_github_schema() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert len(files) == 3
    result = _check_jsonschema(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\non: push\njobs:\n  a:\n    steps: [{run: echo}]\n")
    result = _check_jsonschema(broken)
    assert result.returncode != 0


def test_pull_requests_test_check_and_comment_the_diff() -> None:
    doc = _load("pull-request.yml")
    # GitHub's `shell: bash` is `bash -eo pipefail`; the default is not, and `| tee` would
    # hide a failing `estate check`.
    assert doc["defaults"]["run"]["shell"] == "bash"
    runs = "\n".join(step.get("run", "") for step in doc["jobs"]["test"]["steps"])
    assert "make test" in runs
    assert "estate check --all" in runs
    assert "estate diff --base origin/main --format markdown" in runs
    assert "gh pr comment" in runs
    preview = doc["jobs"]["preview"]
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "staging", "prod"]
    uses = [s.get("uses", "") for s in preview["steps"]]
    assert any(u.startswith("pulumi/actions@") for u in uses)


def test_main_deploys_dev_then_staging_then_prod_in_their_environments() -> None:
    deploy = _load("deploy.yml")["jobs"]
    assert deploy["dev"]["needs"] == "test"
    assert deploy["staging"]["needs"] == "dev"
    assert deploy["prod"]["needs"] == "staging"
    assert {deploy[s]["with"]["stack"] for s in ("dev", "staging", "prod")} == {
        "dev",
        "staging",
        "prod",
    }
    up = _load("pulumi-up.yml")["jobs"]["up"]
    assert up["environment"] == "${{ inputs.stack }}"
    pulumi = next(s for s in up["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "up"
    assert pulumi["with"]["policyPacks"] == "policy"
