"""`estate diff`'s SLO section: objective, window, which burn tiers page, and the thresholds
that moved, computed from the burn-rate alerts of the two synthesized trees (real amtool on
each side's routing)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.diff.compare import slos
from infra.diff.model import DiffReport, StackDiff
from infra.diff.report import markdown, text, to_json

pytestmark = pytest.mark.slow

#: The four tiers of alerts/slos.py: (alert, burn rate, long, short, pages).
TIERS = (
    ("ErrorBudgetFastBurn", "14.4", "1h", "5m", True),
    ("ErrorBudgetFastBurn", "6", "6h", "30m", True),
    ("ErrorBudgetSlowBurn", "3", "1d", "2h", False),
    ("ErrorBudgetSlowBurn", "1", "3d", "6h", False),
)


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """prod's real Alertmanager config, as `estate synth prod` writes it."""
    out = tmp_path_factory.mktemp("synth")
    estate = Path(sys.executable).with_name("estate")
    subprocess.run([str(estate), "synth", "prod", "--out", str(out)], check=True)
    return out / "prod" / "alertmanager" / "alertmanager.yaml"


def _burn_alerts(objective: str, *, page: bool = True, window: str = "30d") -> list[Any]:
    rules = []
    for alert, burn, long, short, pages in TIERS:
        rules.append(
            {
                "alert": alert,
                "expr": f"slo:sli_error:ratio_rate{long} > {burn} * (1 - {objective})",
                "for": "2m",
                "labels": {
                    "service": "backend",
                    "slo": "backend-availability",
                    "sli": "availability",
                    "objective": objective,
                    "window": window,
                    "burn_rate": burn,
                    "long_window": long,
                    "short_window": short,
                    "severity": "critical" if pages and page else "warning",
                },
            }
        )
    return rules


def _tree(root: Path, name: str, alertmanager: Path, rules: list[Any]) -> Path:
    tree = root / name
    (tree / "alertmanager").mkdir(parents=True)
    shutil.copy(alertmanager, tree / "alertmanager" / "alertmanager.yaml")
    (tree / "prometheus" / "rules").mkdir(parents=True)
    doc = {"groups": [{"name": "slos", "rules": rules}]}
    (tree / "prometheus" / "rules" / "blue-harvest-slos.yaml").write_text(yaml.safe_dump(doc))
    return tree


def test_unchanged_slos_are_not_reported(tmp_path: Path, alertmanager: Path) -> None:
    a = _tree(tmp_path, "a", alertmanager, _burn_alerts("0.999"))
    b = _tree(tmp_path, "b", alertmanager, _burn_alerts("0.999"))
    assert slos(a, b) == ()


def test_a_changed_objective_shows_both_objectives_and_every_threshold_that_moved(
    tmp_path: Path, alertmanager: Path
) -> None:
    a = _tree(tmp_path, "a", alertmanager, _burn_alerts("0.999"))
    b = _tree(tmp_path, "b", alertmanager, _burn_alerts("0.995"))
    (change,) = slos(a, b)
    assert (change.slo, change.service, change.sli, change.kind) == (
        "backend-availability",
        "backend",
        "availability",
        "changed",
    )
    assert (change.objective_before, change.objective_after) == (0.999, 0.995)
    assert (change.window_before, change.window_after) == ("30d", "30d")
    # The policy is unchanged: the fast tiers page (real amtool: PagerDuty), the slow ones not.
    assert change.pages_before == change.pages_after == ("14.4x 1h/5m", "6x 6h/30m")
    assert change.tickets_before == change.tickets_after == ("3x 1d/2h", "1x 3d/6h")
    assert "pagerduty" in change.tiers_after[0].receivers
    assert "pagerduty" not in change.tiers_after[3].receivers
    # Thresholds are burn rate x budget, exact (decimal): 14.4 x 0.001, not 0.014400000000000001.
    assert [(m.path, m.before, m.after) for m in change.moved] == [
        ("14.4x 1h/5m.threshold", 0.0144, 0.072),
        ("6x 6h/30m.threshold", 0.006, 0.03),
        ("3x 1d/2h.threshold", 0.003, 0.015),
        ("1x 3d/6h.threshold", 0.001, 0.005),
    ]
    report = DiffReport("a", "b", (StackDiff("prod", slos=(change,)),))
    plain = text(report)
    assert "SLOs\n  changed backend-availability (backend, availability)\n" in plain
    assert "    objective: 0.999 → 0.995\n" in plain
    assert "    pages: 14.4x 1h/5m, 6x 6h/30m → 14.4x 1h/5m, 6x 6h/30m (unchanged)\n" in plain
    assert "    14.4x 1h/5m.threshold: 0.0144 → 0.072" in plain
    md = markdown(report)
    assert "#### SLOs" in md
    assert "  - objective: `0.999` → `0.995`" in md
    doc = json.loads(to_json(report))
    (slo,) = doc["stacks"][0]["slos"]
    assert (slo["objective_before"], slo["objective_after"]) == (0.999, 0.995)
    assert slo["pages_after"] == ["14.4x 1h/5m", "6x 6h/30m"]


def test_an_slo_that_stops_paging_says_which_tiers_no_longer_page(
    tmp_path: Path, alertmanager: Path
) -> None:
    a = _tree(tmp_path, "a", alertmanager, _burn_alerts("0.999"))
    b = _tree(tmp_path, "b", alertmanager, _burn_alerts("0.999", page=False))
    (change,) = slos(a, b)
    assert change.pages_after == ()
    assert change.lost_paging == ("14.4x 1h/5m", "6x 6h/30m")
    assert change.tickets_after == ("14.4x 1h/5m", "6x 6h/30m", "3x 1d/2h", "1x 3d/6h")
    severity = {m.path: (m.before, m.after) for m in change.moved if m.path.endswith("severity")}
    assert severity == {
        "14.4x 1h/5m.severity": ("critical", "warning"),
        "6x 6h/30m.severity": ("critical", "warning"),
    }
    plain = text(DiffReport("a", "b", (StackDiff("prod", slos=(change,)),)))
    assert "    pages: 14.4x 1h/5m, 6x 6h/30m → nothing\n" in plain


def test_an_added_slo_and_a_changed_window_are_reported(tmp_path: Path, alertmanager: Path) -> None:
    a = _tree(tmp_path, "a", alertmanager, [])
    b = _tree(tmp_path, "b", alertmanager, _burn_alerts("0.999", window="28d"))
    (added,) = slos(a, b)
    assert added.kind == "added"
    assert (added.objective_before, added.objective_after) == (None, 0.999)
    c = _tree(tmp_path, "c", alertmanager, _burn_alerts("0.999"))
    (window,) = slos(c, b)
    assert (window.window_before, window.window_after) == ("30d", "28d")


def test_without_a_window_label_the_window_is_read_from_the_window_average_record(
    tmp_path: Path, alertmanager: Path
) -> None:
    def rules(window: str) -> list[Any]:
        alerts = _burn_alerts("0.999")
        for alert in alerts:
            del alert["labels"]["window"]
        record = {
            "record": f"slo:sli_error:ratio_rate{window}",
            "expr": "avg_over_time(slo:sli_error:ratio_rate5m"
            f'{{slo="backend-availability"}}[{window}])',
            "labels": {"service": "backend", "slo": "backend-availability", "sli": "availability"},
        }
        return [record, *alerts]

    a = _tree(tmp_path, "a", alertmanager, rules("30d"))
    b = _tree(tmp_path, "b", alertmanager, rules("28d"))
    (change,) = slos(a, b)
    assert (change.window_before, change.window_after) == ("30d", "28d")
    assert change.moved == ()
    plain = text(DiffReport("a", "b", (StackDiff("prod", slos=(change,)),)))
    assert "    window: 30d → 28d\n" in plain
    assert slos(a, _tree(tmp_path, "c", alertmanager, rules("30d"))) == ()
