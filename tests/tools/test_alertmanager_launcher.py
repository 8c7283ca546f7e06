"""The Alertmanager `make tools` installs starts on a machine that never installed Debian's
prometheus-alertmanager package: with /usr/share/prometheus hidden (as on a bare machine), and
with a broken copy there (what another version could leave), it loads a config that uses the
default notification templates and becomes ready."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness.servers import alertmanager
from infra.tools import REPO_ROOT, tools_dir

pytestmark = pytest.mark.e2e

HIDE = REPO_ROOT / "scripts" / "without-system-prometheus.sh"
DEBIAN_BINARY = tools_dir() / "debian" / "usr" / "bin" / "prometheus-alertmanager"

#: Every kind of receiver whose defaults come from default.tmpl (Slack's title and text,
#: PagerDuty's description, e-mail's subject and HTML body).
CONFIG = """\
route:
  receiver: team
receivers:
  - name: team
    slack_configs:
      - api_url: http://127.0.0.1:9/slack
        channel: "#alerts"
    pagerduty_configs:
      - routing_key: not-a-key
        url: http://127.0.0.1:9/pagerduty
    email_configs:
      - to: oncall@blueharvest.example
        from: alertmanager@blueharvest.example
        smarthost: 127.0.0.1:9
"""


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "alertmanager.yml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def test_the_hiding_script_empties_a_folder_for_the_command_only(tmp_path: Path) -> None:
    folder = tmp_path / "share"
    folder.mkdir()
    (folder / "default.tmpl").write_text("left by someone else", encoding="utf-8")
    done = subprocess.run(
        [str(HIDE), "ls", "-A", str(folder)],
        env={**os.environ, "ESTATE_HIDE_DIRS": f"{folder}:{tmp_path / 'absent'}"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert f"{folder} hidden" in done.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["default.tmpl"]


def test_alertmanager_starts_where_usr_share_prometheus_never_existed(tmp_path: Path) -> None:
    with alertmanager(_config(tmp_path), tmp_path, wrapper=[str(HIDE)]) as server:
        status = server.get_json("/api/v2/status")
    assert "slack_configs" in status["config"]["original"]
    assert "failed to parse templates" not in (tmp_path / "alertmanager.log").read_text()


def test_debians_binary_alone_fails_there_so_the_test_above_can_fail(tmp_path: Path) -> None:
    """The control: without the launcher, Debian's build refuses the same config where
    /usr/share/prometheus is hidden (the failure a bare machine showed)."""
    if not DEBIAN_BINARY.exists():
        pytest.skip("the tools folder holds the upstream build, which embeds its templates")
    done = subprocess.run(
        [
            str(HIDE),
            str(DEBIAN_BINARY),
            f"--config.file={_config(tmp_path)}",
            f"--storage.path={tmp_path / 'data'}",
            "--web.listen-address=127.0.0.1:0",
            "--cluster.listen-address=",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "failed to parse templates" in done.stderr


def test_a_foreign_copy_at_the_fixed_path_is_not_used(tmp_path: Path) -> None:
    """A /usr/share/prometheus/alertmanager/default.tmpl that is not the binary's own (broken
    here) is hidden by the launcher's: the config still loads."""
    fake = tmp_path / "fake-share"
    (fake / "prometheus" / "alertmanager").mkdir(parents=True)
    (fake / "prometheus" / "alertmanager" / "default.tmpl").write_text(
        '{{ define "slack.default.title" }}{{ broken', encoding="utf-8"
    )
    plant = tmp_path / "plant.sh"
    plant.write_text(
        "#!/bin/sh\nset -e\n"
        f'mount -t overlay overlay -o "lowerdir={fake}:/usr/share" /usr/share\n'
        'exec "$@"\n',
        encoding="utf-8",
    )
    plant.chmod(0o755)
    namespace = ["unshare", "--mount", "--propagation", "private"]
    if os.getuid() != 0:
        namespace[1:1] = ["--user", "--map-root-user"]
    with alertmanager(
        _config(tmp_path), tmp_path, wrapper=[*namespace, "--", str(plant)]
    ) as server:
        status = server.get_json("/api/v2/status")
    assert "slack_configs" in status["config"]["original"]
