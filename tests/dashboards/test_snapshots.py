"""The prod stack's dashboards, byte for byte, against reviewed snapshots.

A change to a dashboard shows here as a JSON diff to review. After an intended change:

    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/dashboards

rewrites tests/dashboards/snapshots/<uid>.json; review `git diff` before committing.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pytest

import dashboards
from infra.catalog.dashboard_refs import DASHBOARDS, slo_dashboard
from tests.conftest import stack_config

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"


@cache
def _rendered() -> dict[str, str]:
    return {d.uid: d.text for d in dashboards.build_all(stack_config("prod"), multi_cluster=False)}


@pytest.mark.parametrize("uid", [d.uid for d in (*DASHBOARDS, slo_dashboard("backend"))])
def test_dashboard_matches_its_snapshot(uid: str) -> None:
    text = _rendered()[uid]
    path = SNAPSHOTS / f"{uid}.json"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert path.is_file(), (
        f"no snapshot {path.name}: run UPDATE_SNAPSHOTS=1 pytest tests/dashboards"
    )
    assert path.read_bytes() == text.encode("utf-8"), (
        f"{uid} differs from {path.name}; if intended, run"
        " UPDATE_SNAPSHOTS=1 pytest tests/dashboards and review the diff"
    )


def test_there_is_no_snapshot_of_a_dashboard_that_no_longer_exists() -> None:
    assert sorted(p.stem for p in SNAPSHOTS.glob("*.json")) == sorted(_rendered())
