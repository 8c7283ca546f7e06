#!/usr/bin/env bash
# Runs a command as on a machine where no Prometheus or Alertmanager package was ever
# installed: in a private mount namespace (a user namespace too when not root) in which
# /usr/share/prometheus, where Debian's packages put their templates and web assets, is an
# empty read-only tmpfs when the machine has it. Nothing outside the namespace changes.
#
# CI (.ci/run) runs the whole test command this way, so a green run cannot depend on files
# that something else left on the machine.
#
#   scripts/without-system-prometheus.sh COMMAND [ARGS...]
#   ESTATE_HIDE_DIRS   the folders to hide, separated by ':' (default /usr/share/prometheus)
set -euo pipefail

[ $# -gt 0 ] || {
  echo "usage: scripts/without-system-prometheus.sh COMMAND [ARGS...]" >&2
  exit 2
}

if [ "${ESTATE_HIDING:-}" != 1 ]; then
  if [ "$(id -u)" = 0 ]; then ns=(--mount); else ns=(--user --map-root-user --mount); fi
  ESTATE_HIDING=1 exec unshare "${ns[@]}" --propagation private -- bash "$0" "$@"
fi
unset ESTATE_HIDING

IFS=: read -r -a hide <<<"${ESTATE_HIDE_DIRS:-/usr/share/prometheus}"
for dir in "${hide[@]}"; do
  [ -d "$dir" ] || continue
  mount -t tmpfs -o ro,size=4k,mode=0755 tmpfs "$dir"
  if [ -n "$(ls -A "$dir")" ]; then
    echo "without-system-prometheus: $dir is still visible" >&2
    exit 1
  fi
  echo "without-system-prometheus: $dir hidden for: $*" >&2
done
exec "$@"
