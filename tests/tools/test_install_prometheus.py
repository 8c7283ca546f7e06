"""scripts/install-prometheus.sh (`make tools`): idempotent at the floors, and it refuses an
upstream archive whose sha256 is not the pinned one."""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from infra.tools import REPO_ROOT, VERSION_FLOORS, tool_path, tool_version

SCRIPT = REPO_ROOT / "scripts" / "install-prometheus.sh"
#: Nothing listens here: a download attempted against it fails at once.
NOWHERE = "http://127.0.0.1:9"


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _tools_folder(directory: Path, binaries: dict[str, str]) -> Path:
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True)
    for name, target in binaries.items():
        (bin_dir / name).symlink_to(target)
    return directory


def _current() -> dict[str, str]:
    return {name: os.path.realpath(tool_path(name)) for name in VERSION_FLOORS}


def test_tools_at_the_floor_are_kept_without_a_download(tmp_path: Path) -> None:
    folder = _tools_folder(tmp_path / "tools", _current())
    done = _run(
        {
            "ESTATE_TOOLS_DIR": str(folder),
            "DEBIAN_MIRROR": NOWHERE,
            "PROMETHEUS_RELEASES": NOWHERE,
        }
    )
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stderr
    for name in VERSION_FLOORS:
        version = ".".join(map(str, tool_version(name)))
        line = rf"^{name} +{re.escape(version)} +{re.escape(str(folder / 'bin' / name))}$"
        assert re.search(line, done.stdout, re.M), done.stdout
    assert sorted(p.name for p in folder.iterdir()) == ["bin"]


class _Archives(BaseHTTPRequestHandler):
    """Serves a small, wrong archive for every path: not the release the script pins."""

    requested: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Archives.requested.append(self.path)
        body = b"\x1f\x8b not the pinned release archive"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def mirror() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Archives)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Archives.requested = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_upstream_archive_with_another_checksum_is_refused(tmp_path: Path, mirror: str) -> None:
    folder = tmp_path / "tools"
    done = _run(
        {
            "ESTATE_TOOLS_DIR": str(folder),
            "ESTATE_TOOLS_SOURCE": "upstream",
            "PROMETHEUS_RELEASES": mirror,
        }
    )
    assert done.returncode != 0
    assert "does not match its pinned sha256" in done.stderr
    assert _Archives.requested == [
        "/prometheus/releases/download/v3.5.0/prometheus-3.5.0.linux-amd64.tar.gz"
    ]
    assert not (folder / "bin").exists()


def test_a_tool_below_its_floor_is_replaced_not_kept(tmp_path: Path, mirror: str) -> None:
    """An old promtool (bookworm's 2.42, say) in the folder starts an install."""
    old = tmp_path / "old-promtool"
    old.write_text("#!/bin/sh\necho 'promtool, version 2.42.0+ds'\n", encoding="utf-8")
    old.chmod(0o755)
    folder = _tools_folder(tmp_path / "tools", {**_current(), "promtool": str(old)})
    done = _run(
        {
            "ESTATE_TOOLS_DIR": str(folder),
            "ESTATE_TOOLS_SOURCE": "upstream",
            "PROMETHEUS_RELEASES": mirror,
        }
    )
    assert done.returncode != 0
    assert "up to date" not in done.stderr
    assert _Archives.requested, "no download was attempted"


def test_an_unknown_source_is_an_error(tmp_path: Path) -> None:
    done = _run({"ESTATE_TOOLS_DIR": str(tmp_path / "tools"), "ESTATE_TOOLS_SOURCE": "brew"})
    assert done.returncode != 0
    assert "ESTATE_TOOLS_SOURCE must be debian or upstream, not brew" in done.stderr
