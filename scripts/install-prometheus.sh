#!/usr/bin/env bash
# Installs the real Prometheus tools the test suite drives (promtool, amtool and the two
# servers) from Debian's packages, when they are missing. The packages start no service here.
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
if [ "${#need[@]}" -gt 0 ]; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
promtool --version 2>&1 | head -1
amtool --version 2>&1 | head -1
