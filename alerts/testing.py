"""The promtool unit tests' fixture: the rules they are written against, staged beside them.

The files under alerts/tests/ name `rules.yaml` in their `rule_files`; promtool resolves it
relative to each test file, so copying the test files next to the rendered rules is all it
takes. Used by the pytest suite and by `estate check`; nothing is written into the repo.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alerts import rule_groups
from infra.config import EstateConfig, build_config
from infra.rules import RuleGroup
from infra.rules.files import rule_file, to_yaml

#: The promtool unit-test files, one per rule group.
ALERT_TESTS = Path(__file__).resolve().parent / "tests"
#: The links the test files expect in every alert's annotations.
RUNBOOKS = "https://runbooks.example.test/bh"
GRAFANA = "https://grafana.example.test"
RULES_FILE = "rules.yaml"


def promtool_config(overrides: dict[str, Any] | None = None) -> EstateConfig:
    """The stack the promtool test files are written against, with optional overrides."""
    raw = {
        "blue-harvest:environment": "local",
        "blue-harvest:services": {
            "backend": {"image": "ghcr.io/blue-harvest/backend:1.42.0", "port": 4000},
            # This fixture's frontend serves metrics (the seed's does not, by default), so the
            # per-service rules are tested with two scraped services.
            "frontend": {
                "image": "ghcr.io/blue-harvest/frontend:1.42.0",
                "port": 3000,
                "metrics": {"enabled": True},
            },
        },
        "blue-harvest:alerting": {
            "runbookBaseUrl": RUNBOOKS,
            "grafanaUrl": GRAFANA,
            "overrides": overrides or {},
        },
    }
    return build_config(raw, source="alerts/testing.py", stack="local", plaintext_secrets_ok=True)


def unit_test_files() -> list[Path]:
    return sorted(ALERT_TESTS.glob("*.yaml"))


def write_rules(groups: Sequence[RuleGroup], directory: Path) -> Path:
    path = directory / RULES_FILE
    path.write_text(to_yaml(rule_file(groups)), encoding="utf-8")
    return path


def stage(
    groups: Sequence[RuleGroup], directory: Path, files: Sequence[Path] | None = None
) -> list[Path]:
    """Write `groups` to directory/rules.yaml and copy the test files beside it."""
    write_rules(groups, directory)
    staged = []
    for source in files if files is not None else unit_test_files():
        target = directory / source.name
        shutil.copyfile(source, target)
        staged.append(target)
    return staged


def default_groups() -> list[RuleGroup]:
    return rule_groups(promtool_config())
