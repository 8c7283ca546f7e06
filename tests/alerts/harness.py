"""The promtool fixture lives in alerts/testing.py (estate check runs it too)."""

from alerts.testing import (
    ALERT_TESTS,
    GRAFANA,
    RULES_FILE,
    RUNBOOKS,
    default_groups,
    promtool_config,
    stage,
    unit_test_files,
    write_rules,
)

__all__ = [
    "ALERT_TESTS",
    "GRAFANA",
    "RULES_FILE",
    "RUNBOOKS",
    "default_groups",
    "promtool_config",
    "stage",
    "unit_test_files",
    "write_rules",
]
