"""An alert someone adds with broken PromQL (or code that raises) is reported, not a crash:
`estate check` makes it a finding in every format, `estate synth` refuses with one line.

Each test runs the CLI on a copy of the repository whose alerts/application.py was edited."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from infra.tools import tools_dir
from tests.conftest import ROOT

COPIED = ("infra", "alerts", "dashboards", "stacks", "policy")
APPLICATION = "alerts/application.py"
GOOD_EXPR = 'expr=f"up{scraped_selector(s)} == 0",'


def _copy(tmp_path: Path, edit: Callable[[str], str]) -> Path:
    copy = tmp_path / "repo"
    for name in COPIED:
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    source = copy / APPLICATION
    before = source.read_text()
    after = edit(before)
    assert after != before, f"the edit did not change {APPLICATION}"
    source.write_text(after)
    return copy


def _estate(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The copy's own estate (its infra/ and alerts/ first on the path), with this checkout's
    tools folder (the copy has none)."""
    env = {**os.environ, "PYTHONPATH": str(copy), "ESTATE_TOOLS_DIR": str(tools_dir())}
    env.pop("ESTATE_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-c", "from infra.cli import main; main()", *args],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def _replica_down_lines(copy: Path) -> range:
    """The lines (1-based) of service_replica_down, the function declaring the alert."""
    lines = (copy / APPLICATION).read_text().splitlines()
    start = next(i for i, x in enumerate(lines, 1) if x.startswith("def service_replica_down("))
    end = next(
        (i for i, x in enumerate(lines[start:], start + 1) if x.startswith("def ")), len(lines)
    )
    return range(start, end)


def _broken_promql(tmp_path: Path) -> Path:
    assert GOOD_EXPR in (ROOT / APPLICATION).read_text()
    return _copy(tmp_path, lambda t: t.replace(GOOD_EXPR, GOOD_EXPR.replace("== 0", "== 0 +"), 1))


#: promtool's own words and the position inside the expression (the `+` has no right side).
PROMQL_MESSAGE = re.compile(
    r"^invalid PromQL at 1:\d+ of the expression: parse error: unexpected end of input:"
    r" up\{.*\} == 0 \+$"
)


def test_invalid_promql_in_an_alert_is_one_finding_with_its_position(tmp_path: Path) -> None:
    copy = _broken_promql(tmp_path)
    done = _estate(copy, "check", "dev", "--out", str(tmp_path / "out"), "--format", "json")
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    (finding,) = json.loads(done.stdout)
    assert (finding["severity"], finding["check"]) == ("error", "alert rules")
    assert finding["file"] == APPLICATION
    line, alert = finding["location"].split(" ")
    assert alert == "ServiceReplicaDown"
    assert int(line) in _replica_down_lines(copy)
    assert PROMQL_MESSAGE.match(finding["message"]), finding["message"]
    # The in-expression column is promtool's: the end of input, just after the dangling `+`.
    column = int(finding["message"].split(" ")[3].split(":")[1])
    assert column == len(finding["message"].rsplit(": ", 1)[1]) + 1


def test_invalid_promql_keeps_markdown_and_text_whole(tmp_path: Path) -> None:
    copy = _broken_promql(tmp_path)
    out = str(tmp_path / "out")
    markdown = _estate(copy, "check", "dev", "--out", out, "--format", "markdown")
    assert markdown.returncode == 1, markdown.stderr
    lines = markdown.stdout.splitlines()
    assert lines[0] == "### estate check (`dev`)"
    (row,) = [x for x in lines if x.startswith("| error | ")]
    assert row.startswith(f"| error | `alert rules` | `{APPLICATION}` | `")
    assert "ServiceReplicaDown" in row
    assert row.endswith(" |")
    text = _estate(copy, "check", "dev", "--out", out)
    assert text.returncode == 1, text.stderr
    assert "ServiceReplicaDown" in text.stdout
    assert text.stdout.rstrip().endswith("1 finding(s) in 1 stack(s)")
    for done in (markdown, text):
        assert "internal error" not in done.stdout + done.stderr
        assert "Traceback" not in done.stdout + done.stderr


def test_synth_refuses_invalid_promql_in_one_line_naming_the_alert(tmp_path: Path) -> None:
    copy = _broken_promql(tmp_path)
    done = _estate(copy, "synth", "dev", "--out", str(tmp_path / "out"))
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    (message,) = done.stderr.splitlines()
    match = re.fullmatch(
        rf"estate synth: alert rule refused: {APPLICATION}:(\d+): ServiceReplicaDown:"
        r" (.*); nothing was written",
        message,
    )
    assert match is not None, message
    assert int(match[1]) in _replica_down_lines(copy)
    assert PROMQL_MESSAGE.match(match[2]), match[2]
    assert not (tmp_path / "out").exists()


def test_an_alert_whose_code_raises_is_a_finding_where_it_raised(tmp_path: Path) -> None:
    """Not only RuleError: whatever building the rules raises names the source line."""
    copy = _copy(tmp_path, lambda t: t.replace(GOOD_EXPR, f"{GOOD_EXPR} zero=1 / 0,", 1))
    done = _estate(copy, "check", "dev", "--out", str(tmp_path / "out"), "--format", "json")
    assert done.returncode == 1, done.stderr
    (finding,) = json.loads(done.stdout)
    assert finding["file"] == APPLICATION
    assert int(finding["location"]) in _replica_down_lines(copy)
    assert finding["message"] == (
        "building the alert rules failed: ZeroDivisionError: division by zero"
    )


def test_every_stack_with_the_broken_alert_gives_the_finding_once(tmp_path: Path) -> None:
    copy = _broken_promql(tmp_path)
    done = _estate(copy, "check", "--all", "--out", str(tmp_path / "out"), "--format", "json")
    assert done.returncode == 1, done.stderr
    findings = json.loads(done.stdout)
    assert {(f["check"], f["file"]) for f in findings} == {("alert rules", APPLICATION)}
    # Once per distinct expression (a stack may select its own namespace), never twice.
    assert len(findings) == len({json.dumps(f, sort_keys=True) for f in findings})
