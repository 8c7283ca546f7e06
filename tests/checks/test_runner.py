"""`estate check` end to end: the repository passes; a broken rule, route or manifest fails."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from infra.checks.runner import (
    Finding,
    Target,
    _guarded,
    _rules_with_positions,
    check_alertmanager,
    check_manifests,
    check_rules,
    failing_cases,
    promtool_check_findings,
    promtool_unit_tests,
    rule_error_finding,
    to_markdown,
)
from infra.cli import app
from infra.estate import plan
from infra.rules import RuleError, parse_promql
from infra.synth import synth_plans
from infra.tools import VERSION_FLOORS, binary_version
from tests.conftest import STACKS, stack_config


@pytest.mark.slow
def test_every_repository_stack_passes(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", "--all", "--out", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == []


def _prod(tmp_path: Path) -> Target:
    """The prod stack planned once, synthesized from that plan, and checked against it."""
    config = stack_config("prod")
    estate = plan(config)
    synth_plans([("prod", config, estate)], tmp_path)
    return Target("prod", config, tmp_path / "prod", estate)


def _break_high_error_rate(target: Target) -> tuple[Path, int, int]:
    """Make HighErrorRate's expression invalid PromQL; its expr's line and column."""
    path = target.tree / "prometheus" / "rules" / "blue-harvest-application.yaml"
    text = path.read_text()
    assert "> 0.05" in text
    path.write_text(text.replace("> 0.05", "> > 0.05", 1))
    (rule,) = [r for r in _rules_with_positions(path) if r.name == "HighErrorRate"]
    return path, rule.line, rule.col


def test_invalid_promql_is_a_finding_at_its_position(tmp_path: Path) -> None:
    target = _prod(tmp_path)
    path, line, col = _break_high_error_rate(target)
    findings = list(check_rules(target))
    # promtool places it (file line:column, and the column inside the expression); the
    # in-process parser does not report the same rule a second time.
    (finding,) = findings
    assert finding.check == "promtool check rules"
    assert finding.file == str(path)
    assert finding.location == f"{line}:{col} group application, HighErrorRate"
    assert finding.message.startswith("could not parse expression: 1:")
    assert "parse error" in finding.message


def _no_tools(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine without promtool and amtool: an empty tools folder, a PATH without them."""
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("ESTATE_TOOLS_DIR", str(empty))
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("PROMTOOL", raising=False)
    monkeypatch.delenv("AMTOOL", raising=False)


def test_without_promtool_invalid_promql_is_still_found_and_the_gap_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _prod(tmp_path)
    path, line, col = _break_high_error_rate(target)
    _no_tools(monkeypatch, tmp_path)
    missing, promql = list(check_rules(target))
    assert (missing.check, missing.severity) == ("promtool check rules", "error")
    assert "promtool not found" in missing.message
    assert "make tools" in missing.message
    assert (promql.check, promql.file) == ("promql", str(path))
    assert promql.location == f"{line}:{col} group application, HighErrorRate"
    assert promql.message.startswith("invalid PromQL: ")


def test_check_without_the_tools_prints_whole_documents_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_tools(monkeypatch, tmp_path)
    args = ["check", "prod", "--stacks-dir", str(STACKS), "--out", str(tmp_path / "out")]
    as_json = CliRunner().invoke(app, [*args, "--format", "json"])
    assert as_json.exit_code == 1, as_json.output
    assert as_json.exception is None or isinstance(as_json.exception, SystemExit)
    findings = json.loads(as_json.stdout)
    tools = (
        "promtool check rules",
        "amtool check-config",
        "promtool test rules",
        "promtool check config",
    )
    missing = [f for f in findings if f["check"] in tools]
    assert sorted(f["check"] for f in missing) == sorted(tools)
    for finding in missing:
        assert finding["severity"] == "error"
        assert finding["message"].startswith(f"not run: {finding['check'].split()[0]} not found")
        assert "run `make tools` to install it" in finding["message"]
    as_markdown = CliRunner().invoke(app, [*args, "--format", "markdown"])
    assert as_markdown.exit_code == 1
    lines = as_markdown.stdout.splitlines()
    assert lines[0] == "### estate check (`prod`)"
    rows = [x for x in lines if x.startswith("| error | ")]
    assert len(rows) == len(findings)
    assert all(x.endswith(" |") for x in rows)
    assert len([x for x in rows if "make tools" in x]) == 4


def test_check_with_old_tools_says_too_old_once_per_validator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Debian bookworm's real promtool 2.42 and amtool 0.25 on PATH: each validator that needs
    them reports, once, the version found, where, the floor and `make tools`; none runs them
    (an old promtool would refuse every Prometheus 3 rule file, one confusing error each)."""
    old = {name: Path("/usr/bin") / name for name in ("promtool", "amtool")}
    for name, path in old.items():
        if not os.access(path, os.X_OK):
            pytest.skip(f"{path} is not installed: no real old {name} to run")
        if binary_version(str(path)) >= VERSION_FLOORS[name]:
            pytest.skip(f"{path} is not below {name}'s floor: no real old {name} to run")
    _no_tools(monkeypatch, tmp_path)
    on_path = tmp_path / "path"
    on_path.mkdir()
    for name, path in old.items():
        (on_path / name).symlink_to(path)
    monkeypatch.setenv("PATH", str(on_path))
    args = ["check", "prod", "--stacks-dir", str(STACKS), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 1, result.output
    findings = json.loads(result.stdout)
    assert sorted(f["check"] for f in findings) == [
        "amtool check-config",
        "promtool check config",
        "promtool check rules",
        "promtool test rules",
    ]
    for finding in findings:
        name = finding["check"].split()[0]
        found = ".".join(map(str, binary_version(str(old[name]))))
        floor = ".".join(map(str, VERSION_FLOORS[name]))
        assert finding["message"] == (
            f"not run: {name} too old: found {name} {found} at {on_path / name};"
            f" need >= {floor}: run `make tools`"
        )


def test_invalid_promql_without_promtool_keeps_the_parsers_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """promtool gives the position inside the expression; without it, the parser's words."""
    _no_tools(monkeypatch, tmp_path)
    with pytest.raises(RuleError) as raised:
        parse_promql("Broken", "sum(rate(x[5m])\n  by (a)")
    finding = rule_error_finding(raised.value)
    assert (finding.check, finding.file, finding.location) == ("alert rules", "-", "- Broken")
    assert finding.message == "invalid PromQL (unclosed left parenthesis): sum(rate(x[5m]) by (a)"


def test_a_failing_promtool_test_shows_the_failing_case_whole(tmp_path: Path) -> None:
    from alerts.testing import ALERT_TESTS

    test_file = tmp_path / "application.yaml"
    text = (ALERT_TESTS / "application.yaml").read_text()
    # 1% errors instead of 6%: HighErrorRate stays silent where the case expects it.
    assert text.count("values: '0+6x20'") == 1
    test_file.write_text(text.replace("values: '0+6x20'", "values: '0+1x20'"))
    findings = list(promtool_unit_tests([test_file]))
    assert findings
    assert {f.check for f in findings} == {"promtool test rules"}
    assert {f.file for f in findings} == {"alerts/tests/application.yaml"}
    case = next(f for f in findings if f.location.startswith("HighErrorRate fires after 5m"))
    assert case.location == "HighErrorRate fires after 5m of a 6% error ratio (threshold 5%)"
    assert case.message.startswith("alertname: HighErrorRate, time: 6m")
    # Expected and got, whole: the last annotation of the expected alert is there.
    assert 'summary="High error rate detected"' in case.message
    assert case.message.rstrip().endswith("got:[]")
    for f in findings:
        assert "SUCCESS" not in f.message
        assert "Unit Testing" not in f.message


def test_failing_cases_splits_promtools_output_per_case() -> None:
    output = """Unit Testing:  a.yaml
  SUCCESS

Unit Testing:  b.yaml
  FAILED:
    name: first,
    alertname: A, time: 5m,
        exp:[
            0:
              Labels:{alertname="A"}
            ],
        got:[]
    name: first,
    alertname: A, time: 9m,
        exp:[],
        got:[x]
    expr: "up", time: 1m,
        exp: "{} 1"
        got: "{} 0"
"""
    assert failing_cases(output) == [
        (
            "first",
            "alertname: A, time: 5m,\n    exp:[\n        0:\n"
            '          Labels:{alertname="A"}\n        ],\n    got:[]',
        ),
        ("first", "alertname: A, time: 9m,\n    exp:[],\n    got:[x]"),
        ("-", 'expr: "up", time: 1m,\n    exp: "{} 1"\n    got: "{} 0"'),
    ]


def test_promtool_check_output_becomes_one_finding_per_rule() -> None:
    refused = (
        '/o/rules/b.yaml: 5:15: group "app", rule 1, "X": could not parse expression:'
        " 1:15: parse error: unexpected <op:>>"
    )
    output = f"""Checking /o/rules/a.yaml
  SUCCESS: 3 rules found

Checking /o/rules/b.yaml
  FAILED:
{refused}
/o/rules/b.yaml: 9:1: something else entirely
yaml: unmarshal errors:
  line 3: field nope not found
"""
    assert promtool_check_findings(output) == [
        Finding(
            "error",
            "promtool check rules",
            "/o/rules/b.yaml",
            "5:15 group app, X",
            "could not parse expression: 1:15: parse error: unexpected <op:>>",
        ),
        Finding(
            "error", "promtool check rules", "/o/rules/b.yaml", "9:1", "something else entirely"
        ),
        Finding(
            "error",
            "promtool check rules",
            "-",
            "-",
            "yaml: unmarshal errors:\n  line 3: field nope not found",
        ),
    ]


def test_a_validator_that_raises_becomes_a_finding() -> None:
    def broken() -> Iterator[Finding]:
        yield Finding("warning", "x", "f", "-", "found before the crash")
        raise OSError("disk on fire")

    first, crash = _guarded("check_manifests", "out/prod", broken)
    assert first.message == "found before the crash"
    assert crash == Finding(
        "error", "manifests", "out/prod", "-", "the check failed: OSError: disk on fire"
    )


def test_findings_print_literally_in_markdown() -> None:
    hostile = "[red]x[/red] :bomb: @team <b>|</b>"
    md = to_markdown([Finding("error", "config", hostile, hostile, f"{hostile}\nline 2")], ["p"])
    row = md.splitlines()[-1]
    assert row == (
        "| error | `config` | `[red]x[/red] :bomb: @team <b>\\|</b>`"
        " | `[red]x[/red] :bomb: @team <b>\\|</b>`"
        " | `[red]x[/red] :bomb: @team <b>\\|</b>`<br>`line 2` |"
    )


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
    assert "| error | `config` |" in result.output
    assert "blue-harvest:logs.retentionDays" in result.output


def test_a_hostile_key_prints_literally_in_every_format(tmp_path: Path) -> None:
    stacks = tmp_path / "stacks"
    shutil.copytree(STACKS, stacks)
    dev = stacks / "Pulumi.dev.yaml"
    key = "[b]x:bomb:"
    dev.write_text(dev.read_text().replace("config:\n", f'config:\n  "{key}": 1\n', 1))
    args = ["check", "dev", "--stacks-dir", str(stacks), "--out", str(tmp_path / "out")]
    text = CliRunner().invoke(app, args)
    assert text.exit_code == 1
    assert key in text.stdout
    assert "💣" not in text.stdout
    md = CliRunner().invoke(app, [*args, "--format", "markdown"]).stdout
    assert f"| `{key}` |" in md
    (finding,) = json.loads(CliRunner().invoke(app, [*args, "--format", "json"]).stdout)
    assert finding["location"] == key
