#!/usr/bin/env bash
# Installs what `make` needs on a fresh machine that has only python3, make and apt:
# a private venv (.tools) holding a pinned uv, which then builds .venv from uv.lock.
#
# `pulumi preview` and `pulumi up` run the program with uv (Pulumi.yaml:
# `runtime.options.toolchain: uv`) and look for `uv` on PATH. The venv's bin/ also holds
# python3 and pip, which must not shadow the system's, so uv and uvx are linked on their
# own into .tools/uv/bin: that is the folder to put on PATH, and the script ends by
# printing the line that does it.
#
#   bash scripts/bootstrap.sh               install if needed, then print the PATH line
#   bash scripts/bootstrap.sh --print-path  install if needed, then print only the folder:
#       export PATH="$(bash scripts/bootstrap.sh --print-path):$PATH"
#       bash scripts/bootstrap.sh --print-path >> "$GITHUB_PATH"   (GitHub Actions)
set -euo pipefail
unset CDPATH  # `cd` must print nothing: the folder is read from `pwd`
UV_VERSION="${UV_VERSION:-0.13.8}"
TOOLS="${TOOLS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools}"

print_path=0
case "${1:-}" in
  "") ;;
  --print-path) print_path=1 ;;
  *)
    echo "usage: bash scripts/bootstrap.sh [--print-path]" >&2
    exit 2
    ;;
esac

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Everything but the final answer goes to stderr, so `--print-path` prints one line.
{
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
  mkdir -p "$TOOLS/uv/bin"
  for tool in uv uvx; do
    ln -sfn "../../bin/$tool" "$TOOLS/uv/bin/$tool"
  done
} >&2

path_dir="$(cd "$TOOLS/uv/bin" && pwd)"
version="$("$path_dir/uv" --version)"
if [ "$print_path" = 1 ]; then
  printf '%s\n' "$path_dir"
else
  echo "$version is in $path_dir. pulumi preview/up need it on PATH (Pulumi.yaml: toolchain: uv):"
  echo "  export PATH=\"$path_dir:\$PATH\""
fi
