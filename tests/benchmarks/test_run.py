"""The benchmark harness's bookkeeping: verdicts, the floor check and the report. No timing."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import pytest

from benchmarks import run
from benchmarks.run import Case, Result, Sample


def _result(label: str, services: int, synth: float, floor: float) -> Result:
    case = Case(label, label, Path("stacks"), services, 3, Path("d.json"))
    result = Result(case, resources=9 * services + 10, components=1)
    result.synth = [Sample(synth * f, 100.0 + services, synth * f) for f in (0.9, 1.0, 1.2)]
    result.floor = [Sample(floor * f, 90.0 + services, floor * f) for f in (1.1, 1.0, 0.95)]
    return result


def _results(t10: float, t100: float, t1000: float) -> list[Result]:
    return [
        _result("prod", 2, 0.6, 0.5),
        _result("services-10", 10, t10, t10 / 1.1),
        _result("services-100", 100, t100, t100 / 1.1),
        _result("services-1000", 1000, t1000, t1000 / 1.1),
    ]


def test_medians_and_ratio() -> None:
    r = _result("prod", 2, 1.0, 0.5)
    assert r.synth_wall == pytest.approx(1.0)
    assert r.floor_wall == pytest.approx(0.5)
    assert r.ratio == pytest.approx(2.0)
    assert r.synth_peak == pytest.approx(102.0)
    assert r.cpu_ratio == pytest.approx(2.0)


def test_verdicts_pass_when_every_target_is_met() -> None:
    verdicts = run.verdicts(_results(1.0, 2.8, 20.8))
    assert [v.passed for v in verdicts] == [True, True, True]


def test_verdicts_name_each_missed_target() -> None:
    results = _results(1.0, 2.8, 40.0)
    results[0] = _result("prod", 2, 2.5, 1.0)
    ratio, prod, linear = run.verdicts(results)
    assert not ratio.passed
    assert "prod 2.50x" in ratio.detail
    assert not prod.passed
    assert "2.50 s" in prod.detail
    assert not linear.passed


def test_linearity_needs_all_three_generated_sizes() -> None:
    verdicts = run.verdicts(_results(1.0, 2.8, 20.8)[:3])
    assert len(verdicts) == 2
    growth = run.marginal_per_service(_results(1.0, 2.8, 20.8), "synth_wall")
    assert growth is not None
    assert growth[0] == pytest.approx(0.02)
    assert growth[1] == pytest.approx(0.02)


def test_check_floor_ignores_components_and_refuses_any_difference() -> None:
    case = Case("prod", "prod", Path("stacks"), 2, 1, Path("d.json"))
    synth = Counter({"blueharvest:observability:CloudWatchLogs": 1, "aws:iam/role:Role": 2})
    run.check_floor(case, synth, Counter({"aws:iam/role:Role": 2}))
    with pytest.raises(run.BenchmarkError, match="aws:iam/role:Role"):
        run.check_floor(case, synth, Counter({"aws:iam/role:Role": 1}))


def test_types_line_reads_the_last_type_counts() -> None:
    out = 'noise\n{"types": {"aws:kms/key:Key": 1}}\n'
    assert run.types_line(out) == Counter({"aws:kms/key:Key": 1})
    with pytest.raises(run.BenchmarkError):
        run.types_line("nothing\n")


def test_report_has_the_table_and_verdicts_and_keeps_the_analysis(tmp_path: Path) -> None:
    results = _results(1.0, 2.8, 20.8)
    results[1].phases = {
        "synth": {"import": 0.3, "program": 0.5, "recording": 0.01, "gc": 0.1, "wall": 1.0},
        "floor": {"import": 0.2, "program": 0.5, "gc": 0.1, "wall": 0.9},
    }
    text = run.report(results, [], bytecode="cached", duration_s=60.0, analysis="kept\n")
    assert "| services-1000 | 1000 | 9010 | 20.80 |" in text
    assert "| synth within 1.3x of the floor at every size | PASS |" in text
    assert "| services-10 | synth | - | 0.300 | - | - | 0.500 | 0.010 |" in text
    assert "| 1.10x | 1.10x | 3 (0) |" in text
    readme = tmp_path / "README.md"
    readme.write_text(text, encoding="utf-8")
    assert run.existing_analysis(readme) == "kept"


def test_run_child_reports_a_fresh_process_and_refuses_a_failure() -> None:
    sample, stdout = run.run_child([sys.executable, "-c", "print('hi')"], dict(os.environ))
    assert stdout == "hi\n"
    assert sample.wall_s > 0
    assert sample.peak_mib > 0
    assert sample.other_cores >= 0
    with pytest.raises(run.BenchmarkError, match="exited 3"):
        run.run_child([sys.executable, "-c", "raise SystemExit(3)"], dict(os.environ))
