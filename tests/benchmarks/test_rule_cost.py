"""benchmarks/rule_cost.py: its interval parsing, its report, and its backfill, which real
promtool turns into TSDB blocks holding every sample it was given."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from benchmarks.rule_cost import GroupCost, _seconds, backfill, report
from infra.tools import tool_path


def test_intervals_parse_and_a_bad_one_says_what_is_allowed() -> None:
    assert (_seconds("5s"), _seconds("1m"), _seconds("500ms"), _seconds("1h")) == (
        5.0,
        60.0,
        0.5,
        3600.0,
    )
    with pytest.raises(ValueError, match=r"--interval: '1s5m' is not a Prometheus duration"):
        _seconds("1s5m")


def test_the_report_is_one_markdown_row_per_group() -> None:
    cost = GroupCost("f.yaml", "slos", 18, 8, 26, 4.714, 83.57, 37)
    text = report("prod", [cost], "prometheus, version 3.5.3")
    assert "| slos | 18 | 8 | 26 | 37 | 4.71 | 83.57 |" in text.splitlines()


def test_the_backfill_writes_blocks_with_every_sample(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    record = {
        "record": "slo:sli_error:ratio_rate5m",
        "expr": "vector(0)",
        "labels": {"service": "backend", "slo": "backend-availability", "sli": "availability"},
    }
    (rules / "slos.yaml").write_text(
        yaml.safe_dump({"groups": [{"name": "slos", "rules": [record]}]})
    )
    data = tmp_path / "data"
    written = backfill(rules, data, 1, 1_700_000_000)
    # 26 backend series every 30s for a day, and the record every minute for 30 days.
    assert written == 26 * 2880 + 30 * 1440
    listing = subprocess.run(
        [tool_path("promtool"), "tsdb", "list", str(data)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    samples = sum(int(line.split()[4]) for line in listing[1:])
    assert samples == written
