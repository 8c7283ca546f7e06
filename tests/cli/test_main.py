"""The console entry: a bug is one line and exit 70, never a traceback, unless asked for."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

#: Stands in for a bug anywhere below the command: the app itself raises.
BUGGY = """
import infra.cli as cli
def buggy() -> None:
    raise RuntimeError("no such thing\\nsecond line")
cli.app = buggy
cli.main()
"""


def _run(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BUGGY],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_bug_is_one_line_and_exit_70() -> None:
    done = _run(ESTATE_DEBUG="")
    assert done.returncode == 70
    assert done.stderr.splitlines() == [
        "estate: internal error (RuntimeError: no such thing); this is a bug in estate."
        " Run again with ESTATE_DEBUG=1 to see where."
    ]


def test_estate_debug_shows_the_traceback() -> None:
    done = _run(ESTATE_DEBUG="1")
    assert done.returncode == 1
    assert "Traceback" in done.stderr
    assert "RuntimeError: no such thing" in done.stderr
