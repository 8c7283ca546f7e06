"""HTTP sinks standing in for PagerDuty, Slack and webhooks: they record every JSON post and
can be told to fail with 500 for a while (a notifier that is down)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.servers import LOOPBACK


@dataclass
class Received:
    at: float
    path: str
    body: dict[str, Any]


@dataclass
class Sink:
    """An HTTP endpoint that records JSON posts; it can be told to fail with 500 for a while."""

    name: str
    port: int = 0
    received: list[Received] = field(default_factory=list)
    failures: int = 0
    fail_until: float = 0.0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def fail_for(self, seconds: float) -> None:
        self.fail_until = time.monotonic() + seconds

    def reply(self) -> tuple[int, str, bytes]:
        """What the real service answers to an accepted post. Alertmanager >= 0.30 reads
        Slack's answer: an incoming webhook says `ok` in plain text (a JSON body without
        `"ok": true` is an error); PagerDuty's Events API v2 answers 202 with JSON."""
        if self.name.startswith("slack"):
            return 200, "text/plain; charset=utf-8", b"ok"
        return 202, "application/json", b'{"status":"success","message":"Event processed"}'

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.body for r in self.received]

    def start(self) -> None:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if time.monotonic() < sink.fail_until:
                    with sink._lock:
                        sink.failures += 1
                    self.send_response(500)
                    self.end_headers()
                    return
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"raw": raw.decode(errors="replace")}
                with sink._lock:
                    sink.received.append(Received(time.monotonic(), self.path, body))
                status, content_type, reply = sink.reply()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
