"""`estate synth`'s summary per stack: resources, protected resources, paging routes (from the
synthesized Alertmanager config) and the number of secrets; `--format json` one document; and
nothing cut when stdout is not a terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from infra.cli import app
from infra.config.loader import CREDENTIAL_KEYS
from infra.review.route_match import paging_receivers
from tests.conftest import ROOT, STACKS

#: The console script's entry, run with stdout a pipe.
ESTATE = (sys.executable, "-c", "from infra.cli import main; main()")


def _synth_json(tmp_path: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        app,
        ["synth", *args, "--format", "json", "--stacks-dir", str(STACKS), "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)  # the whole of stdout is one document
    return document


def test_json_is_one_document_for_every_stack(tmp_path: Path) -> None:
    document = _synth_json(tmp_path, "--all")
    stacks = {s["stack"]: s for s in document["stacks"]}
    assert sorted(stacks) == ["dev", "local", "prod", "staging"]
    for name, stack in stacks.items():
        resources = json.loads((tmp_path / name / "resources.json").read_text())["resources"]
        assert stack["resources"] == len(resources)
        assert sum(stack["types"].values()) == len(resources)
        assert stack["path"] == str(tmp_path / name)
        assert {(p["type"], p["name"]) for p in stack["protected"]} == {
            (r["type"], r["name"]) for r in resources if r["protect"]
        }


def test_prod_protects_its_data_and_dev_nothing(tmp_path: Path) -> None:
    stacks = {s["stack"]: s for s in _synth_json(tmp_path, "--all")["stacks"]}
    protected = {p["type"] for p in stacks["prod"]["protected"]}
    assert "aws:cloudwatch/logGroup:LogGroup" in protected
    assert stacks["dev"]["protected"] == []


def test_paging_routes_follow_the_synthesized_alertmanager_config(tmp_path: Path) -> None:
    stacks = {s["stack"]: s for s in _synth_json(tmp_path, "--all")["stacks"]}
    prod = {r["severity"]: r for r in stacks["prod"]["paging"]}
    am = yaml.safe_load((tmp_path / "prod/alertmanager/alertmanager.yaml").read_text())
    pagers = paging_receivers(am)
    assert pagers  # prod pages someone
    assert prod["critical"]["pages"] is True
    assert set(prod["critical"]["paging"]) == set(pagers)
    assert "ServiceDown" in prod["critical"]["alerts"]
    assert prod["warning"]["pages"] is False
    assert prod["warning"]["alerts"] == []
    # dev has no PagerDuty: nothing pages, whatever the severity.
    assert all(not r["pages"] and not r["alerts"] for r in stacks["dev"]["paging"])


def _secure_values(value: object) -> int:
    if isinstance(value, dict):
        return 1 if set(value) == {"secure"} else sum(_secure_values(v) for v in value.values())
    if isinstance(value, list):
        return sum(_secure_values(v) for v in value)
    return 0


def test_secrets_are_counted_never_shown(tmp_path: Path) -> None:
    """The count is the secret values the program reads: every `secure:` value of the stack
    file except the provider credentials (sentry:token, ...) that only the providers read."""
    result = CliRunner().invoke(
        app, ["synth", "prod", "--stacks-dir", str(STACKS), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    count = _synth_json(tmp_path / "j", "prod")["stacks"][0]["secrets"]
    stack_file = STACKS / "Pulumi.prod.yaml"
    config = yaml.safe_load(stack_file.read_text())["config"]
    expected = sum(_secure_values(v) for k, v in config.items() if k not in CREDENTIAL_KEYS)
    assert count == expected > 0
    assert f"prod: {count} secret(s) the program reads (values never shown)" in result.stdout
    for line in stack_file.read_text().splitlines():
        if "secure:" in line:
            assert line.split("secure:", 1)[1].strip() not in result.stdout


def test_text_summary_shows_each_part(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["synth", "prod", "--stacks-dir", str(STACKS), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    summary = _synth_json(tmp_path / "j", "prod")["stacks"][0]
    assert f"prod: {summary['resources']} resources -> {tmp_path / 'prod'}" in out
    assert f"prod: {len(summary['protected'])} protected" in out
    assert "prod: paging routes" in out
    critical = next(line for line in out.splitlines() if line.startswith("│ critical"))
    assert "pagerduty" in critical
    assert "ServiceDown" in critical


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["synth", "dev", "--format", "yaml", "--stacks-dir", str(STACKS), "--out", "o"]
    )
    assert result.exit_code == 2
    assert "--format 'yaml': allowed: text, json" in result.stderr


def test_nothing_is_cut_when_stdout_is_a_pipe(tmp_path: Path) -> None:
    stacks, out = STACKS, tmp_path / ("o" * 120) / ("u" * 120) / "out"  # a 250+ character path
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    done = subprocess.run(
        [*ESTATE, "synth", "prod", "--stacks-dir", str(stacks), "--out", str(out)],
        cwd=ROOT,
        env={**env, "COLUMNS": "40"},  # even a narrow declared width does not cut a pipe
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert f" resources -> {out / 'prod'}" in done.stdout
    # Every type and every protected name appears whole on one line.
    resources = json.loads((out / "prod/resources.json").read_text())["resources"]
    lines = done.stdout.splitlines()
    for typ in {r["type"] for r in resources}:
        assert any(typ in line for line in lines), typ
    for r in (r for r in resources if r["protect"]):
        assert any(r["type"] in line and r["name"] in line for line in lines), r["name"]
    assert "…" not in done.stdout


def test_check_findings_are_not_cut_in_a_pipe(tmp_path: Path) -> None:
    """A finding whose message is longer than any terminal reaches a pipe on one line."""
    bad = tmp_path / "stacks"
    bad.mkdir()
    key = "x" * 200
    text = (STACKS / "Pulumi.local.yaml").read_text() + f"  blue-harvest:{key}: 1\n"
    (bad / "Pulumi.local.yaml").write_text(text)
    done = subprocess.run(
        [*ESTATE, "check", "local", "--stacks-dir", str(bad), "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert any(f"blue-harvest:{key}" in line for line in done.stdout.splitlines()), done.stdout
