"""Real Prometheus and Alertmanager servers on 127.0.0.1, for the end-to-end tests and the
benchmarks: the binaries `make tools` installs (infra.tools.tool_path), each on a free port
with its own data folder and log, stopped by the context managers even when a test fails.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.tools import tool_path

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def wait_until(
    predicate: Callable[[], bool], *, timeout: float, interval: float = 0.25, what: str = ""
) -> float:
    """Poll `predicate` until true; return the seconds it took; fail after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what or predicate}")


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=5) as resp:
            return json.load(resp)

    def post_json(self, path: str, body: Any) -> int:
        req = urllib.request.Request(
            f"{self.url}{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            return int(resp.status)

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as resp:
                return int(resp.status) == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False


@contextlib.contextmanager
def serve(name: str, argv: list[str], port: int, log: Path) -> Iterator[Server]:
    """Start `argv` (a server listening on `port`), wait until it is ready, stop it after."""
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, port, process, log)
    try:
        wait_until(server.ready, timeout=30, what=f"{name} to be ready")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def alertmanager(config: Path, workdir: Path, *, wrapper: Sequence[str] = ()) -> Iterator[Server]:
    """`wrapper` runs before the binary (e.g. scripts/without-system-prometheus.sh)."""
    port = free_port()
    argv = [
        *wrapper,
        tool_path("alertmanager"),
        f"--config.file={config}",
        f"--storage.path={workdir / 'am-data'}",
        f"--web.listen-address={LOOPBACK}:{port}",
        "--cluster.listen-address=",
        "--log.level=debug",
    ]
    with serve("alertmanager", argv, port, workdir / "alertmanager.log") as server:
        yield server


@contextlib.contextmanager
def prometheus(
    config: Path, workdir: Path, *extra_args: str, port: int | None = None
) -> Iterator[Server]:
    """`extra_args` go to the command line, e.g. a shorter --rules.alert.resend-delay; `port`
    restarts a server where its clients expect it (default: a free one)."""
    port = port or free_port()
    argv = [
        tool_path("prometheus"),
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / 'prom-data'}",
        f"--web.listen-address={LOOPBACK}:{port}",
        "--web.enable-lifecycle",
        *extra_args,
    ]
    with serve("prometheus", argv, port, workdir / "prometheus.log") as server:
        yield server
