#!/usr/bin/env bash
# Installs what `make` needs on a fresh machine that has only python3, make and apt:
# a private venv (.tools) holding a pinned uv, which then builds .venv from uv.lock.
set -euo pipefail
UV_VERSION="${UV_VERSION:-0.13.8}"
TOOLS="${TOOLS:-.tools}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x "$TOOLS/bin/uv" ]; then
  if ! python3 -m venv "$TOOLS" >/dev/null 2>&1; then
    # Debian and Ubuntu ship venv separately from python3.
    rm -rf "$TOOLS"
    as_root apt-get update -qq
    as_root apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$TOOLS"
  fi
  "$TOOLS/bin/python" -m pip install -q --disable-pip-version-check "uv==${UV_VERSION}"
fi
