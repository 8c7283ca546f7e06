"""The GitHub workflows: valid against the GitHub workflow schema (check-jsonschema's vendored
copy, offline) and wired as docs/reviewing-changes.md says."""

from __future__ import annotations

import os
import re
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
    assert "--fail-on data-loss,lost-paging,protected" in runs
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
    # A stack still carrying the repository's example values never reaches `pulumi up`.
    runs = [str(s.get("run", "")) for s in up["steps"]]
    deployable = next(i for i, r in enumerate(runs) if "estate check --deployable" in r)
    assert deployable < up["steps"].index(pulumi)


# --- uv on PATH and the state backend, in every job that runs Pulumi ------------------------

#: A step that runs the Pulumi CLI: the action, or `pulumi <command>` in a script.
_PULUMI_RUN = re.compile(
    r"(^\s*|[;&|(]\s*)pulumi\s+(preview|up|refresh|destroy|login|stack|config)\b", re.M
)
#: An action pinned to a release (vX.Y.Z) or a commit.
_PINNED = re.compile(r"@(v\d+\.\d+\.\d+|[0-9a-f]{40})$")


def _runs_pulumi(step: dict[str, Any]) -> bool:
    return str(step.get("uses", "")).startswith("pulumi/actions@") or bool(
        _PULUMI_RUN.search(str(step.get("run", "")))
    )


def _pulumi_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    jobs = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for name, job in _load(path.name)["jobs"].items():
            if any(_runs_pulumi(s) for s in job.get("steps", [])):
                jobs.append((path.name, name, job))
    return jobs


def _github_path_lines(step: dict[str, Any], tmp_path: Path) -> list[str]:
    """Run a step's script as GitHub would (bash -eo pipefail, from the checkout) and
    return what it appended to $GITHUB_PATH. The pinned uv that `make install` put in
    .tools is reached through a scratch TOOLS folder, so the repository is not touched."""
    tools = tmp_path / "tools"
    (tools / "bin").mkdir(parents=True)
    for tool in ("uv", "uvx"):
        installed = ROOT / ".tools" / "bin" / tool
        assert installed.is_file(), "make install puts the pinned uv in .tools/bin"
        (tools / "bin" / tool).symlink_to(installed)
    github_path = tmp_path / "github_path"
    github_path.touch()
    script = tmp_path / "step.sh"
    script.write_text(str(step["run"]))
    env = {**os.environ, "GITHUB_PATH": str(github_path), "TOOLS": str(tools)}
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in github_path.read_text().splitlines() if line]


def _puts_uv_on_path(step: dict[str, Any], tmp_path: Path) -> bool:
    uses = str(step.get("uses", ""))
    if uses.startswith("astral-sh/setup-uv@"):
        return bool(_PINNED.search(uses))
    if "GITHUB_PATH" not in str(step.get("run", "")):
        return False
    for folder in _github_path_lines(step, tmp_path):
        uv = Path(folder) / "uv"
        if uv.is_file() and os.access(uv, os.X_OK):
            version = subprocess.run(
                [str(uv), "--version"], capture_output=True, text=True, check=False
            )
            assert version.returncode == 0
            assert version.stdout.startswith("uv ")
            # The folder holds uv alone: python3 and pip must not shadow the runner's.
            assert not (Path(folder) / "python3").exists()
            assert not (Path(folder) / "pip").exists()
            return True
    return False


def test_pulumi_runs_in_the_jobs_we_expect() -> None:
    assert _runs_pulumi({"run": "make install\npulumi up --stack dev"})
    assert _runs_pulumi({"run": "cd x && pulumi preview"})
    assert not _runs_pulumi({"run": 'echo "skipping pulumi preview"'})
    assert {(f, j) for f, j, _ in _pulumi_jobs()} == {
        ("pull-request.yml", "preview"),
        ("pulumi-up.yml", "up"),
    }


def test_every_pulumi_job_puts_uv_on_path_before_running_pulumi(tmp_path: Path) -> None:
    """Pulumi.yaml runs the program with `toolchain: uv`; the Pulumi CLI looks uv up on
    PATH. The step that puts it there is run for real and must leave a runnable uv."""
    for workflow, name, job in _pulumi_jobs():
        steps = job["steps"]
        first_pulumi = next(i for i, s in enumerate(steps) if _runs_pulumi(s))
        uv_steps = [
            i
            for i, s in enumerate(steps)
            if _puts_uv_on_path(s, tmp_path / f"{workflow}-{name}-{i}")
        ]
        assert uv_steps, f"{workflow} job {name}: no step puts uv on PATH"
        assert uv_steps[0] < first_pulumi, (
            f"{workflow} job {name}: uv reaches PATH only after Pulumi runs"
        )
        install = next(
            (i for i, s in enumerate(steps) if s.get("run", "").strip() == "make install"), None
        )
        assert install is not None, f"{workflow} job {name}: no make install"
        assert install < first_pulumi, (
            f"{workflow} job {name}: .venv (make install) must exist before Pulumi runs"
        )


def test_a_step_that_puts_nothing_on_path_is_not_taken_for_one(tmp_path: Path) -> None:
    assert not _puts_uv_on_path({"run": 'echo "/nowhere" >> "$GITHUB_PATH"'}, tmp_path / "a")
    assert not _puts_uv_on_path({"uses": "astral-sh/setup-uv@v6"}, tmp_path / "b")
    assert _puts_uv_on_path({"uses": "astral-sh/setup-uv@v6.4.3"}, tmp_path / "c")


def test_every_pulumi_job_configures_its_state_backend_from_secrets_and_variables() -> None:
    for workflow, name, job in _pulumi_jobs():
        env = job.get("env", {})
        where = f"{workflow} job {name}"
        assert env.get("PULUMI_BACKEND_URL") == "${{ vars.PULUMI_BACKEND_URL }}", where
        assert env.get("PULUMI_ACCESS_TOKEN") == "${{ secrets.PULUMI_ACCESS_TOKEN }}", where
        assert env.get("PULUMI_CONFIG_PASSPHRASE") == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}", (
            where
        )
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("pulumi/actions@"):
                # The action logs in to Pulumi Cloud unless told where the backend is.
                assert step["with"]["cloud-url"] == "${{ env.PULUMI_BACKEND_URL }}", where


def test_a_deploy_without_a_state_backend_fails_with_a_message(tmp_path: Path) -> None:
    up = _load("pulumi-up.yml")["jobs"]["up"]
    guard = up["steps"][0]
    assert "PULUMI_BACKEND_URL" in guard["run"]
    script = tmp_path / "guard.sh"
    script.write_text(guard["run"].replace("${{ inputs.stack }}", "prod"))
    base = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    missing = subprocess.run(
        ["bash", "-e", str(script)], env=base, capture_output=True, text=True, check=False
    )
    assert missing.returncode == 1
    assert "PULUMI_ACCESS_TOKEN" in missing.stdout
    assert "'prod' environment" in missing.stdout
    for extra in ({"PULUMI_ACCESS_TOKEN": "t"}, {"PULUMI_BACKEND_URL": "s3://b"}):
        ok = subprocess.run(["bash", "-e", str(script)], env={**base, **extra}, check=False)
        assert ok.returncode == 0


def test_the_bootstrap_prints_the_path_line_the_readme_uses(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    (tools / "bin").mkdir(parents=True)
    for tool in ("uv", "uvx"):
        (tools / "bin" / tool).symlink_to(ROOT / ".tools" / "bin" / tool)
    env = {**os.environ, "TOOLS": str(tools)}
    bootstrap = ["bash", str(ROOT / "scripts" / "bootstrap.sh")]
    done = subprocess.run(bootstrap, env=env, capture_output=True, text=True, check=True)
    assert f'export PATH="{tools}/uv/bin:$PATH"' in done.stdout
    folder = subprocess.run(
        [*bootstrap, "--print-path"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert folder == f"{tools}/uv/bin\n"
    # The README's deploy section puts that folder on PATH before `pulumi preview`.
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Deploying for real") :]
    section = section[: section.index("\n## ", 3)]
    (line,) = [x.strip() for x in section.splitlines() if x.strip().startswith("export PATH=")]
    assert section.index(line) < section.index("pulumi preview")
    found = subprocess.run(
        ["bash", "-c", f"{line} && command -v uv"],
        cwd=ROOT,
        env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == f"{tools}/uv/bin/uv"
